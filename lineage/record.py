"""The lineage record of one pipeline run: every byte, code version and parameter behind a model version.

A record is canonical JSON (sorted keys, no spaces, UTF-8), so its sha256 is a stable name for its content.
It is assembled from the data-prep manifest (trigger, delivered blob, archived input, contract, code,
parameters, outputs) and the training job (MLflow run, parameters, metrics, decision, model version).
`chain.py` adds `sequence` and `previous_record_sha256` when it appends the record.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from dataprep.manifest import canonical_json

RECORD_VERSION = 1
OUTPUT_KEYS = ("url", "sha256", "bytes", "rows", "positive_rate", "ids_sha256", "columns")
INPUT_KEYS = ("url", "archived_url", "sha256", "bytes", "rows", "rows_accepted", "rows_quarantined",
              "schema_sha256", "columns")


def record_bytes(record: dict) -> bytes:
    return canonical_json(record)


def record_sha256(record: dict) -> str:
    return hashlib.sha256(record_bytes(record)).hexdigest()


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pick(source: dict, keys: tuple[str, ...]) -> dict:
    return {key: source.get(key) for key in keys}


def build_record(*, manifest: dict, manifest_url: str, manifest_sha256: str, training: dict, evaluation: dict,
                 model: dict, recorded_at: str | None = None) -> dict:
    """Pure assembly. `training`: mlflow_run_id, experiment, params, inputs {train, test: sha256}, metrics,
    started_at, ended_at, code. `evaluation`: the promotion decision. `model`: name, version, artifact_uri, sha256."""
    code = manifest.get("code", {})
    return {
        "record_version": RECORD_VERSION,
        "recorded_at": recorded_at or now_utc(),
        "pipeline_run_id": manifest["pipeline_run_id"],
        "trigger": dict(manifest.get("trigger") or {}),
        "input": _pick(manifest["input"], INPUT_KEYS),
        "prep": {
            "manifest_url": manifest_url,
            "manifest_sha256": manifest_sha256,
            "notebook": code.get("notebook"),
            "notebook_sha256": code.get("notebook_sha256"),
            "git_commit": code.get("git_commit"),
            "git_dirty": code.get("git_dirty"),
            "packages": code.get("packages", {}),
            "parameters": manifest.get("parameters", {}),
            "contract_url": manifest.get("contract_url"),
            "started_at": manifest.get("started_at"),
            "ended_at": manifest.get("created_at"),
        },
        "outputs": {side: _pick(manifest["outputs"][side], OUTPUT_KEYS) for side in ("train", "test")},
        "training": training,
        "evaluation": evaluation,
        "model": model,
    }


def evaluation_of(decision: dict, promoted: bool) -> dict:
    """The decision as the record keeps it: outcome, reason, both scores and whether the alias moved."""
    production = None
    if decision.get("production_version") is not None:
        production = {"version": decision["production_version"], "auc": decision.get("production_auc")}
    return {**decision, "promote": promoted, "production": production}


def parse_record(data: bytes, *, where: str) -> dict[str, Any]:
    """Parse stored record bytes; errors name the blob. Canonical form is required: a record re-serialized by
    a tool (spaces, key order) is not the record whose hash the chain holds."""
    import json

    try:
        record = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"lineage record {where} is not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("record_version") != RECORD_VERSION:
        raise ValueError(f"lineage record {where}: not a version-{RECORD_VERSION} lineage record")
    if record_bytes(record) != data:
        raise ValueError(f"lineage record {where} is not in canonical form (re-serialized after it was written)")
    return record
