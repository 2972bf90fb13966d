"""From a model name and `<number>|latest|<alias>` to the MLflow model version and its lineage record."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from lineage.record import parse_record
from storage.blobs import download_bytes
from training.provenance import TAG_SHA256, TAG_URL


class LineageError(Exception):
    """The lineage of a model version cannot be shown (no such version, no record)."""


@dataclass(frozen=True)
class Anchored:
    version: ModelVersion
    record_url: str
    record_sha256: str  # the model version's tag: what the record must hash to
    data: bytes
    record: dict

    @property
    def stored_sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def client_for(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def model_version(client: MlflowClient, name: str, which: str) -> ModelVersion:
    try:
        if which.isdigit():
            return client.get_model_version(name, which)
        if which == "latest":
            versions = client.search_model_versions(f"name = '{name}'")
            if not versions:
                raise LineageError(f"model {name!r} has no versions; train one first (make demo or make train)")
            return max(versions, key=lambda v: int(v.version))
        return client.get_model_version_by_alias(name, which)
    except MlflowException as exc:
        raise LineageError(f"model {name!r} version {which!r} not found in the MLflow registry "
                           f"({str(exc).splitlines()[0][:200]}); VERSION is a number, latest, or an alias") from None


def version_of_run(client: MlflowClient, name: str, pipeline_run_id: str) -> str:
    """The version a pipeline run registered (its `pipeline_run_id` tag)."""
    found = [v.version for v in client.search_model_versions(f"name = '{name}'")
             if v.tags.get("pipeline_run_id") == pipeline_run_id]
    if not found:
        raise LineageError(f"pipeline run {pipeline_run_id} registered no version of model {name!r} (it failed, was "
                           "rejected, or trained another model); `make runs RUN=<id>` shows what it did")
    return str(found[0])


def anchored(client: MlflowClient, name: str, which: str) -> Anchored:
    """The version and the record its tags name. The record is parsed even when it no longer matches the tag,
    so that `prove` can report every link, not just the first broken one."""
    version = model_version(client, name, which)
    url, sha = version.tags.get(TAG_URL), version.tags.get(TAG_SHA256)
    if not url or not sha:
        raise LineageError(f"model {name} version {version.version} has no lineage record tags ({TAG_URL}, "
                           f"{TAG_SHA256}); it was not registered by the pipeline's training job")
    try:
        data = download_bytes(url)
    except ResourceNotFoundError:
        raise LineageError(f"model {name} version {version.version}: its lineage record {url} is missing") from None
    try:
        record = parse_record(data, where=url)
    except ValueError as exc:
        raise LineageError(str(exc)) from None
    return Anchored(version, url, sha, data, record)
