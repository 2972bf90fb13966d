"""An isolated local environment for end-to-end tests: real Azurite behind the Event Grid stand-in (every
blob call goes through it, as with `make up`), the runtime service in this process (its notebooks and
training run as child processes), deployed from generated/arm."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from local_runtime import deploy as deployer
from local_runtime.service import serve
from local_runtime.settings import PROJECT_ROOT, Settings
from local_runtime.store import Store
from ops.services import wait_for_http
from tests.conftest import EventGridStandIn, free_port, start_event_grid

ARM = PROJECT_ROOT / "generated" / "arm"
PIPELINE = "PrepareAndTrain"


@dataclass
class LocalEnvironment:
    settings: Settings
    store: Store
    account_url: str
    stop: threading.Event
    event_grid: EventGridStandIn
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=serve, args=(self.settings, self.stop), daemon=True)
        self.thread.start()
        wait_for_http(f"http://127.0.0.1:{self.settings.runtime_port}/health")

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the runtime did not stop"


def deploy_overrides(account_url: str, runtime_port: int) -> dict:
    """ARM parameter overrides that point the local environment at this test's ports."""
    base = f"http://127.0.0.1:{runtime_port}/azureml"
    return {
        "PortoStorage_properties_typeProperties_serviceEndpoint": account_url,
        f"{PIPELINE}_properties_parameters_storage_account_url_defaultValue": account_url,
        f"{PIPELINE}_properties_parameters_training_endpoint_uri_defaultValue": f"{base}/endpoints/porto-training/jobs",
        f"{PIPELINE}_properties_parameters_azureml_management_uri_defaultValue": base,
        f"{PIPELINE}_properties_parameters_poll_interval_seconds_defaultValue": 1,
    }


@pytest.fixture(scope="module")
def local_env(azurite: str, tmp_path_factory) -> LocalEnvironment:
    event_grid = start_event_grid(azurite, tmp_path_factory.mktemp("local-home"), runtime_port=free_port(),
                                  poll_seconds=0.3)
    settings, store, account_url = event_grid.settings, event_grid.store, event_grid.account_url
    template, values = deployer.load_arm(ARM / "ARMTemplateForFactory.json", ARM / "parameters" / "local.json",
                                         deploy_overrides(account_url, settings.runtime_port))
    deployer.apply(store, deployer.plan(store, settings, template, values))
    env = LocalEnvironment(settings, store, account_url, threading.Event(), event_grid)
    env.start()
    yield env
    env.halt()
    event_grid.proxy.stop()

