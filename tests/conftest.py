"""Shared fixtures: real services, started per test session on free loopback ports."""
from __future__ import annotations

import socket
import subprocess

import pytest

from ops.services import AZURITE as AZURITE_BLOB, wait_for_http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> str:
    """A real Azurite blob service; yields the development account URL."""
    if not AZURITE_BLOB.exists():
        pytest.fail("Azurite is not installed in .tools/: run `make bootstrap` (make test does it for you)")
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    log = open(location / "azurite.log", "w")
    proc = subprocess.Popen(
        [str(AZURITE_BLOB), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(location),
         "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    account_url = f"http://127.0.0.1:{port}/devstoreaccount1"
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield account_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
