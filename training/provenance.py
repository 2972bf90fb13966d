"""The training job's last step: append this run's lineage record to the chain and point the model version at it.

The record is written after registration and promotion, so it holds the final decision; the model version's
`lineage_record_url`/`lineage_record_sha256` tags are the anchor `make prove` starts from.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from dataprep.manifest import git_state, package_versions
from lineage.chain import Chain, Link, archive_root
from lineage.record import build_record, evaluation_of
from training.errors import TrainingError
from training.manifest import Manifest

log = logging.getLogger("training")

TRAINING_PACKAGES = ("lightgbm", "mlflow", "numpy", "pandas", "pyarrow", "scikit-learn")
TAG_URL, TAG_SHA256, TAG_SEQUENCE = "lineage_record_url", "lineage_record_sha256", "lineage_record_sequence"


def record_run(*, manifest: Manifest, mlflow_run_id: str, experiment: str, params: dict[str, Any],
               metrics: dict[str, float], decision: dict, promoted: bool, model: dict, started_at: str,
               ended_at: str) -> Link:
    training = {
        "mlflow_run_id": mlflow_run_id,
        "experiment": experiment,
        "params": params,
        "inputs": {"train": manifest.train.sha256, "test": manifest.test.sha256},
        "metrics": metrics,
        "started_at": started_at,
        "ended_at": ended_at,
        "code": {**git_state(), "packages": package_versions(TRAINING_PACKAGES)},
    }
    record = build_record(manifest=json.loads(manifest.raw), manifest_url=manifest.url,
                          manifest_sha256=manifest.sha256, training=training,
                          evaluation=evaluation_of(decision, promoted), model=model)
    try:
        link = Chain(archive_root(manifest.url)).append(record)
    except Exception as exc:
        raise TrainingError(f"model {model['name']} version {model['version']} is registered but its lineage record "
                            f"could not be written ({type(exc).__name__}: {str(exc)[:200]}); it cannot be proven "
                            "until a record exists - rerun the pipeline") from exc
    log.info("lineage record #%d %s (sha256 %s)", link.sequence, link.url, link.sha256)
    return link


def anchor_tags(link: Link) -> dict[str, str]:
    return {TAG_URL: link.url, TAG_SHA256: link.sha256, TAG_SEQUENCE: str(link.sequence)}
