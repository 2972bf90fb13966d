"""Fixtures for the Azure deployer's HTTP-boundary tests: the loopback fake of ARM, Databricks and Azure ML,
a fake TokenCredential, and a target (the spec's qa environment) pointed at the fake."""
from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest
from azure.core.credentials import AccessToken

from azure_deploy.azureml import AzureMLPublisher, TrainingRelease
from azure_deploy.target import Endpoints, Target, load_target
from tests.azure.fake_azure import FakeAzure, serve

TOKEN = "fake-bearer-token-7f3a9c"
CLIENT_SECRET = "fake-client-secret-Q8s~d2"


class FakeCredential:
    """A TokenCredential that hands out one recognizable token and records the scopes asked for."""

    def __init__(self):
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.scopes += scopes
        return AccessToken(TOKEN, int(time.time()) + 3600)


class RecordingPublisher(AzureMLPublisher):
    """azure-ai-ml for endpoint and deployment calls (they reach the fake over HTTP); component registration,
    which uploads the code snapshot to the workspace's blob datastore, only marks the version as registered."""

    registered: list[TrainingRelease]

    def __init__(self, target: Target, credential, fake: FakeAzure):
        super().__init__(target, credential)
        self.fake, self.registered = fake, []

    def register_component(self, release: TrainingRelease) -> None:
        self.registered.append(release)
        self.fake.components.add((release.component, release.version))


@pytest.fixture
def fake():
    fake = FakeAzure()
    # Terraform provisions the training compute cluster with the workspace; the deployer only reads it.
    fake.computes[load_target("qa").training_compute] = "AmlCompute"
    server = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch):
    # A service principal secret in the environment, as CI has it: it must never reach a request or a log.
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-0000000000c1")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-0000000000d1")
    # MLClient records its cloud in the process environment; keep that inside the test.
    monkeypatch.setenv("AZUREML_CURRENT_CLOUD", os.environ.get("AZUREML_CURRENT_CLOUD", "AzureCloud"))


@pytest.fixture
def credential():
    return FakeCredential()


@pytest.fixture
def target(fake) -> Target:
    endpoints = Endpoints(arm=fake.base_url, databricks=fake.base_url, azureml_arm=fake.base_url,
                          polling_interval=0, retry_total=0)
    return replace(load_target("qa"), endpoints=endpoints)


@pytest.fixture
def publisher(target, credential, fake):
    return RecordingPublisher(target, credential, fake)
