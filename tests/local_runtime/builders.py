"""Builders for local-runtime tests: pipelines from a few activity dicts, run to the end in a tmp store."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from local_runtime.runs import execute
from local_runtime.settings import load_settings
from local_runtime.store import Store

FACTORY = "adf-test"


def activity(name: str, type_: str, depends: dict[str, list[str]] | None = None, **type_properties) -> dict:
    body = {"name": name, "type": type_, "typeProperties": type_properties,
            "dependsOn": [{"activity": a, "dependencyConditions": c} for a, c in (depends or {}).items()]}
    return body


def set_var(name: str, value, variable: str = "v", depends=None) -> dict:
    return activity(name, "SetVariable", depends, variableName=variable, value=value)


def fail(name: str, message: str = "boom", depends=None) -> dict:
    return activity(name, "Fail", depends, message=message, errorCode="Boom")


def run_pipeline(tmp_path: Path, activities: list[dict], variables: dict | None = None,
                 parameters: dict | None = None, given: dict | None = None) -> tuple[str, Store, dict]:
    settings = replace(load_settings(), home=tmp_path / "home")
    store = Store(settings.db_path)
    pipeline = {"name": "P", "properties": {
        "activities": activities,
        "variables": {k: {"type": "String", "defaultValue": v} for k, v in (variables or {"v": ""}).items()},
        "parameters": parameters or {}}}
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO deployments VALUES (?,?,?,?)", [FACTORY, "now", "x", "{}"])
        db.execute("INSERT OR REPLACE INTO objects VALUES (?,?,?,?)", [FACTORY, "pipeline", "P", json.dumps(pipeline)])
        run_id = store.queue_run(db, FACTORY, "P", given or {}, invoked_by="Manual")
    run = store.claim_next_run()
    assert run["run_id"] == run_id
    status = execute(store, settings, run)
    return status, store, store.run(run_id)


def statuses(store: Store, run_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in store.activity_runs(run_id):
        out.setdefault(a["name"], []).append(a["status"])
    return out
