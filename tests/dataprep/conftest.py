"""Fixtures for the data-prep tests: the data contract (spec) and its column statistics (TSV), fresh Azurite
containers per test."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

import pytest

from dataprep.columns import ColumnSpec, load_columns
from dataprep.contract_spec import DataContract, load_contract
from dataprep.layout import Containers
from storage.blobs import container_client, ensure_containers, upload_bytes


@pytest.fixture(scope="session")
def columns() -> list[ColumnSpec]:
    return load_columns()


@pytest.fixture(scope="session")
def contract() -> DataContract:
    return load_contract()


@pytest.fixture(scope="session")
def strict(contract) -> DataContract:
    """The spec's contract with rows.policy reject: any bad row rejects the file."""
    return replace(contract, policy="reject")


@dataclass(frozen=True)
class Store:
    account_url: str
    containers: Containers
    inbox: str

    def put(self, name: str, data: bytes) -> str:
        url = f"{self.account_url}/{self.inbox}/deliveries/{name}"
        upload_bytes(url, data)
        return url

    def blobs(self, container: str) -> dict[str, bytes]:
        client = container_client(self.account_url, container)
        return {blob.name: client.download_blob(blob.name).readall() for blob in client.list_blobs()}

    def etags(self) -> dict[str, str]:
        """Every blob of the run's containers with its ETag: a rewrite, even with equal bytes, changes it."""
        return {f"{name}/{blob.name}": blob.etag for name in vars(self.containers).values()
                for blob in container_client(self.account_url, name).list_blobs()}

    def metadata(self, container: str, name: str) -> dict:
        return container_client(self.account_url, container).get_blob_client(name).get_blob_properties().metadata


@pytest.fixture
def store(azurite) -> Store:
    """Empty containers of its own, so "nothing was written" can be checked as "the container is empty"."""
    suffix = uuid.uuid4().hex[:12]
    containers = Containers(f"training-{suffix}", f"testing-{suffix}", f"rejected-{suffix}", f"archive-{suffix}")
    inbox = f"inbox-{suffix}"
    ensure_containers(azurite, [containers.training, containers.testing, containers.rejected, containers.archive,
                                inbox])
    return Store(azurite, containers, inbox)
