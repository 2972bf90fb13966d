"""Shared fixtures: real services, started per test session on free loopback ports."""
from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from local_runtime.eventgrid import EventGridProxy
from local_runtime.settings import Settings, load_settings
from local_runtime.store import Store
from ops.services import AZURITE as AZURITE_BLOB, wait_for_http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> str:
    """A real Azurite blob service; yields the development account URL (Azurite itself: no storage events)."""
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


@dataclass
class EventGridStandIn:
    """The Event Grid stand-in (in this process) in front of the session's Azurite, with its own store."""
    settings: Settings
    store: Store
    proxy: EventGridProxy

    @property
    def account_url(self) -> str:
        """The blob endpoint as users see it: writes here log storage events."""
        return self.settings.azurite_account_url()

    @property
    def azurite_url(self) -> str:
        """Azurite itself: writes here bypass the stand-in."""
        return self.settings.azurite_internal_url()


def start_event_grid(azurite_url: str, home: Path, **settings_overrides) -> EventGridStandIn:
    settings = replace(load_settings(), home=home, azurite_port=free_port(),
                       azurite_internal_port=urlsplit(azurite_url).port, **settings_overrides)
    store = Store(settings.db_path)
    return EventGridStandIn(settings, store, EventGridProxy(settings, store).start())


@pytest.fixture
def event_grid(azurite: str, tmp_path) -> EventGridStandIn:
    stand_in = start_event_grid(azurite, tmp_path / "home", poll_seconds=0.1)
    yield stand_in
    stand_in.proxy.stop()
