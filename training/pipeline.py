"""The training pipeline: verify the lineage, train, evaluate, register. Wiring only; the work is elsewhere."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from lineage.record import now_utc
from storage.blobs import download_bytes
from training import features, provenance
from training.config import DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, TrainingConfig
from training.errors import TrainingError
from training.evaluate import check_gate, evaluate, passes_gate
from training.manifest import Manifest, OutputRef, check_manifest_hash, parse_manifest, verify_sha256
from training.promotion import Decision, decide
from training.train import train_model

log = logging.getLogger("training")

__all__ = ["DEFAULT_EXPERIMENT", "DEFAULT_MODEL_NAME", "load_manifest", "load_verified_frame", "run"]

Fetch = Callable[[str], bytes]


def _download(fetch: Fetch, url: str, what: str) -> bytes:
    try:
        return fetch(url)
    except TrainingError:
        raise
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]  # Azure errors append request ids and XML
        raise TrainingError(f"{what}: cannot download {url} ({type(exc).__name__}: {first_line})") from exc


def load_manifest(url: str, expected_sha256: str | None, fetch: Fetch = download_bytes) -> Manifest:
    data = _download(fetch, url, "manifest")
    check_manifest_hash(url, data, expected_sha256)
    return parse_manifest(url, data)


def load_verified_frame(ref: OutputRef, fetch: Fetch = download_bytes) -> pd.DataFrame:
    """Download one output, prove it is the manifest's bytes, then read and check it."""
    data = _download(fetch, ref.url, f"{ref.name} blob")
    verify_sha256(f"{ref.name} blob {ref.url}", data, ref.sha256)
    frame = features.read_parquet(data, name=f"{ref.name} blob {ref.url}")
    features.validate_frame(frame, name=f"{ref.name} blob {ref.url}", expected_rows=ref.rows)
    return frame


def run(
    manifest_url: str,
    *,
    tracking_uri: str,
    model_name: str | None = None,
    expected_manifest_sha256: str | None = None,
    config: TrainingConfig | None = None,
    experiment: str | None = None,
) -> dict[str, Any]:
    """Train on exactly the data a data-prep manifest names, evaluate it and the production model on the same
    test data, register the candidate and move the alias only if it wins (see ``training.promotion``).

    Raises a ``TrainingError`` subclass (nothing registered) when the manifest or a blob does not match its
    hash, the data has the wrong shape, or the test AUC is below ``config.min_auc``. A candidate that does not
    beat production is not an error: the run succeeds, registered without the alias, and says so.
    """
    if not tracking_uri:
        raise TrainingError("no MLflow tracking URI: pass tracking_uri (the CLI reads MLFLOW_TRACKING_URI)")
    config = config or TrainingConfig()
    model_name, experiment = model_name or config.model_name, experiment or config.experiment
    started_at = now_utc()
    log.info("manifest %s", manifest_url)
    manifest = load_manifest(manifest_url, expected_manifest_sha256)
    log.info("manifest sha256 %s, pipeline run %s", manifest.sha256, manifest.pipeline_run_id)

    train_frame = load_verified_frame(manifest.train)
    test_frame = load_verified_frame(manifest.test)
    features.check_same_features(train_frame, test_frame)
    log.info("verified train (%d rows) and test (%d rows) against the manifest", len(train_frame), len(test_frame))

    x_train, y_train = features.split_xy(train_frame)
    x_test, y_test = features.split_xy(test_frame)
    model = train_model(x_train, y_train, config)
    log.info("trained: best iteration %d, model sha256 %s", model.best_iteration, model.model_sha256)

    metrics = evaluate(model.booster, x_test, y_test, best_iteration=model.best_iteration)
    log.info("test auc %.4f, gini %.4f, logloss %.4f", metrics.auc, metrics.gini, metrics.logloss)

    from training import register  # MLflow is imported only once there is something to record

    def against_production() -> Decision:
        production = register.score_production(tracking_uri, model_name, config.promotion_alias, x_test, y_test)
        return decide(metrics.auc, production, min_auc=config.min_auc, margin=config.promotion_margin,
                      alias=config.promotion_alias)

    with register.tracked_run(
        tracking_uri=tracking_uri, experiment=experiment, run_name=f"train-{manifest.pipeline_run_id}"
    ) as run_id:
        register.log_evidence(
            manifest=manifest,
            config=config,
            metrics=metrics,
            schemas={"train": register.schema_of(train_frame), "test": register.schema_of(test_frame)},
        )
        register.record_gate(passed=passes_gate(metrics.auc, config.min_auc), min_auc=config.min_auc)
        decision = against_production()
        register.record_decision(decision)
        log.info("decision: %s (%s)", decision.outcome, decision.reason)
        check_gate(metrics, config.min_auc)  # raising here ends the run FAILED, with its evidence kept
        registration = register.log_and_register_model(
            model=model, example=x_train, model_name=model_name, manifest=manifest, run_id=run_id, decision=decision
        )
        if decision.promote and (recheck := _recheck(decision, register, tracking_uri, model_name,
                                                      against_production)) is not None:
            decision = recheck
            register.record_decision(decision)
            register.tag_version(tracking_uri, model_name, registration.model_version, decision.tags())
        # The record comes before the alias: no version reaches production without its provable lineage.
        link = provenance.record_run(
            manifest=manifest, mlflow_run_id=run_id, experiment=experiment,
            params=register.run_params(config, manifest), metrics=metrics.as_dict(), decision=decision.as_dict(),
            promoted=decision.promote, started_at=started_at, ended_at=now_utc(),
            model={"name": registration.model_name, "version": registration.model_version,
                   "artifact_uri": registration.model_uri, "sha256": model.model_sha256})
        register.tag_version(tracking_uri, model_name, registration.model_version, provenance.anchor_tags(link))
        register.tag_run(tracking_uri, run_id, provenance.anchor_tags(link))
        if decision.promote:
            register.promote(tracking_uri, model_name, registration.model_version, config.promotion_alias)
    log.info("registered %s version %s (run %s), %s", registration.model_name, registration.model_version, run_id,
             decision.outcome)
    return {
        "mlflow_run_id": run_id,
        "model_name": registration.model_name,
        "model_version": registration.model_version,
        "metrics": metrics.as_dict(),
        "model_sha256": model.model_sha256,
        "registered": True,
        "promoted": decision.promote,
        "decision": decision.as_dict(),
        "lineage_record_url": link.url,
        "lineage_record_sha256": link.sha256,
    }


def _recheck(decision: Decision, register: Any, tracking_uri: str, model_name: str,
             again: Callable[[], Decision]) -> Decision | None:
    """Re-check just before moving the alias: if another job promoted a model since we compared, compare with
    that one instead. (MLflow has no compare-and-set for aliases, so this narrows the race, not closes it.)"""
    compared = decision.production.version if decision.production else None
    if register.production_version(tracking_uri, model_name, decision.alias) == compared:
        return None
    log.info("alias %r moved while training; comparing with the new holder", decision.alias)
    return again()
