"""MLflow: the run's evidence (params, metrics, lineage tags, dataset inputs, manifest) and the registered model.

Locally the tracking URI is a sqlite store; in Azure it is the workspace's MLflow URI. Only this module talks
to MLflow.
"""
from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import mlflow
import mlflow.lightgbm
import pandas as pd
from mlflow.data.http_dataset_source import HTTPDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.types import Schema

from training.config import TrainingConfig
from training.errors import TrainingError
from training.evaluate import Metrics, score_other_model
from training.manifest import Manifest, OutputRef
from training.promotion import Decision, ProductionScore
from training.train import TrainedModel

MANIFEST_ARTIFACT_DIR = "lineage"
MODEL_ARTIFACT_NAME = "model"
DATASET_CONTEXTS = {"train": "training", "test": "testing"}
# MLflow stores a dataset digest in a 36-character column and rejects longer ones
# (mlflow.utils.validation.MAX_DATASET_DIGEST_SIZE), so a 64-hex sha256 cannot be the digest verbatim. The
# digest is the sha256's first 36 hex digits (144 bits, still collision-proof, not MLflow's 10k-row MD5), and
# the full sha256 rides along in the dataset profile and in a `sha256` input tag.
DIGEST_LENGTH = 36


def artifact_location_for(tracking_uri: str) -> str | None:
    """For a sqlite store, artifacts live beside the database file (``<folder>/mlartifacts``); else MLflow's default."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = unquote(urlsplit(tracking_uri).path)  # sqlite:////abs/x.db -> //abs/x.db ; sqlite:///rel.db -> /rel.db
    path = path[1:] if path.startswith("//") else path.lstrip("/")
    if not path or path == ":memory:":
        return None
    return (Path(path).resolve().parent / "mlartifacts").as_uri()


def use_tracking_uri(tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)


def ensure_experiment(name: str, tracking_uri: str) -> str:
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location_for(tracking_uri))
    except MlflowException:  # created concurrently by another run
        existing = client.get_experiment_by_name(name)
        if existing is None:
            raise
        return existing.experiment_id


class BlobDataset(MetaDataset):
    """A dataset known by its blob URL and sha256; MLflow keeps the metadata, the data stays in storage."""

    def __init__(self, ref: OutputRef, schema: Schema | None = None):
        self._ref = ref
        super().__init__(HTTPDatasetSource(ref.url), name=ref.name, digest=ref.sha256[:DIGEST_LENGTH], schema=schema)

    @property
    def profile(self) -> dict[str, Any]:
        return {
            "sha256": self._ref.sha256,
            "rows": self._ref.rows,
            "bytes": self._ref.bytes,
            "positive_rate": self._ref.positive_rate,
        }

    def to_dict(self) -> dict[str, str]:
        config = super().to_dict()
        config["profile"] = json.dumps(self.profile)
        return config


def lineage_tags(manifest: Manifest) -> dict[str, str]:
    """The run tags that tie the model to the exact bytes it was trained and tested on."""
    return {
        "pipeline_run_id": manifest.pipeline_run_id,
        "manifest_url": manifest.url,
        "manifest_sha256": manifest.sha256,
        "input_sha256": manifest.input_sha256,
        "train_sha256": manifest.train.sha256,
        "test_sha256": manifest.test.sha256,
        "git_commit": manifest.git_commit,
    }


def run_params(config: TrainingConfig, manifest: Manifest) -> dict[str, Any]:
    # The effective LightGBM params flat (learning_rate, seed, deterministic, ...), then the loop and gate keys.
    params: dict[str, Any] = {**config.lightgbm_params(),
                              **{k: v for k, v in config.as_dict().items() if k != "lightgbm"}}
    params.update({f"dataprep.{k}": v for k, v in sorted(manifest.parameters.items())})
    return params


@contextmanager
def tracked_run(*, tracking_uri: str, experiment: str, run_name: str) -> Iterator[str]:
    """An MLflow run; it ends FAILED when the block raises, FINISHED otherwise. Yields the run id."""
    use_tracking_uri(tracking_uri)
    experiment_id = ensure_experiment(experiment, tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        yield run.info.run_id


def log_evidence(
    *,
    manifest: Manifest,
    config: TrainingConfig,
    metrics: Metrics,
    schemas: dict[str, Schema],
) -> None:
    """Params, lineage tags, dataset inputs, metrics and the manifest bytes, into the active run."""
    mlflow.log_params(run_params(config, manifest))
    mlflow.set_tags(lineage_tags(manifest))
    for ref in (manifest.train, manifest.test):
        mlflow.log_input(
            BlobDataset(ref, schemas.get(ref.name)),
            context=DATASET_CONTEXTS[ref.name],
            tags={"sha256": ref.sha256},
        )
    mlflow.log_metrics(metrics.as_dict())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "manifest.json"
        path.write_bytes(manifest.raw)  # byte-exact, so the artifact hashes to manifest_sha256
        mlflow.log_artifact(str(path), artifact_path=MANIFEST_ARTIFACT_DIR)


def record_gate(*, passed: bool, min_auc: float) -> None:
    mlflow.set_tags({"quality_gate": "passed" if passed else "failed", "quality_gate_min_auc": str(min_auc)})


def production_version(tracking_uri: str, model_name: str, alias: str) -> str | None:
    """The version holding ``alias``, or None when the model or the alias does not exist yet."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        model = client.get_registered_model(model_name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = (model.aliases or {}).get(alias)
    return str(version) if version is not None else None


def score_production(tracking_uri: str, model_name: str, alias: str, x: pd.DataFrame, y: pd.Series
                     ) -> ProductionScore | None:
    """Score the model that holds ``alias`` on the candidate's test data; None when no model holds it.

    The version is resolved once and loaded by number, so a concurrent promotion cannot swap the model
    between the lookup and the scoring. A production model that exists but cannot be loaded is an error
    (the run fails): replacing production because of a storage hiccup would be worse than a retry.
    """
    version = production_version(tracking_uri, model_name, alias)
    if version is None:
        return None
    uri = f"models:/{model_name}/{version}"
    try:
        booster = mlflow.lightgbm.load_model(uri)
    except Exception as exc:
        raise TrainingError(f"production model {uri} (alias {alias!r}) cannot be loaded to compare with "
                            f"({type(exc).__name__}: {str(exc)[:200]}); fix its artifacts or move the alias "
                            f"to a loadable version, then rerun") from exc
    auc, why = score_other_model(booster, x, y)
    return ProductionScore(version=version, auc=auc, unscorable_reason=why)


def record_decision(decision: Decision) -> None:
    mlflow.set_tags(decision.tags())
    mlflow.log_metrics(decision.metrics())


def tag_version(tracking_uri: str, model_name: str, version: str, tags: dict[str, str]) -> None:
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)


def tag_run(tracking_uri: str, run_id: str, tags: dict[str, str]) -> None:
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


def promote(tracking_uri: str, model_name: str, version: str, alias: str) -> None:
    MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri).set_registered_model_alias(
        model_name, alias, version)


@contextmanager
def _int_columns_are_intended() -> Iterator[None]:
    # MLflow hints that integer columns cannot hold NaN; this data codes missing values as -1, so ints are right.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Hint: Inferred schema contains integer column", UserWarning)
        yield


def schema_of(frame: pd.DataFrame) -> Schema:
    with _int_columns_are_intended():
        return infer_signature(frame).inputs


@dataclass(frozen=True)
class Registration:
    model_name: str
    model_version: str
    model_uri: str


def log_and_register_model(
    *,
    model: TrainedModel,
    example: pd.DataFrame,
    model_name: str,
    manifest: Manifest,
    run_id: str,
    decision: Decision,
) -> Registration:
    """Log the booster into the active run, register a version and tag it with the lineage hashes."""
    example = example[model.features].head(5)
    with _int_columns_are_intended():
        signature = infer_signature(example, model.booster.predict(example))
        info = mlflow.lightgbm.log_model(
            model.booster,
            name=MODEL_ARTIFACT_NAME,
            signature=signature,
            input_example=example,
            # Explicit requirements skip MLflow's requirement inference (a model reload in a subprocess).
            pip_requirements=mlflow.lightgbm.get_default_pip_requirements(),
        )
    tags = {**lineage_tags(manifest), **decision.tags(), "model_sha256": model.model_sha256, "mlflow_run_id": run_id,
            "test_auc": repr(decision.candidate_auc)}
    version = mlflow.register_model(info.model_uri, model_name, tags=tags)
    mlflow.set_tag("model_sha256", model.model_sha256)
    mlflow.set_tag("registered_model", f"{model_name}/{version.version}")
    return Registration(model_name=model_name, model_version=str(version.version), model_uri=info.model_uri)
