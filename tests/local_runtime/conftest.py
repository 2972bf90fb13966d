"""Fixtures of the local runtime's storage tests."""
from __future__ import annotations

import uuid

import pytest

from storage import ensure_containers


@pytest.fixture
def container(azurite) -> str:
    """A fresh, empty container on the session's Azurite."""
    name = f"t{uuid.uuid4().hex[:12]}"
    ensure_containers(azurite, [name])
    return name
