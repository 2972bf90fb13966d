"""Fixtures for the training tests: data-prep outputs written to the real Azurite."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from training_builders import ARCHIVE, PREPARED, Published, manifest_for, parquet_bytes

from storage.blobs import ensure_containers, sha256_hex, upload_bytes


@pytest.fixture(scope="session")
def publish(azurite) -> Callable[..., Published]:
    """Write train/test parquet and then the manifest (last, like data-prep) under a fresh run id."""
    ensure_containers(azurite, [ARCHIVE, PREPARED])

    def _publish(train: pd.DataFrame, test: pd.DataFrame, *, run_id: str | None = None) -> Published:
        run_id = run_id or f"run-{uuid.uuid4().hex[:12]}"
        train_bytes, test_bytes = parquet_bytes(train), parquet_bytes(test)
        manifest = manifest_for(run_id, azurite, train, test, train_bytes, test_bytes)
        upload_bytes(manifest["outputs"]["train"]["url"], train_bytes)
        upload_bytes(manifest["outputs"]["test"]["url"], test_bytes)
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
        manifest_url = f"{azurite}/{ARCHIVE}/runs/{run_id}/manifest.json"
        upload_bytes(manifest_url, manifest_bytes)
        return Published(manifest_url, sha256_hex(manifest_bytes), manifest,
                         manifest["outputs"]["train"]["url"], manifest["outputs"]["test"]["url"])

    return _publish


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One MLflow sqlite store per test module (its schema migration is the slow part)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def client(store) -> MlflowClient:
    return MlflowClient(tracking_uri=store, registry_uri=store)
