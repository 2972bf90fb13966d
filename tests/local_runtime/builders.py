"""Builders for local-runtime tests: pipelines from a few activity dicts, a tiny storage factory, run to the
end in a tmp store."""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from local_runtime.runs import execute
from local_runtime.settings import Settings, load_settings
from local_runtime.store import Store
from storage import upload_bytes

FACTORY = "adf-test"


def activity(name: str, type_: str, depends: dict[str, list[str]] | None = None, **type_properties) -> dict:
    body = {"name": name, "type": type_, "typeProperties": type_properties,
            "dependsOn": [{"activity": a, "dependencyConditions": c} for a, c in (depends or {}).items()]}
    return body


def set_var(name: str, value, variable: str = "v", depends=None) -> dict:
    return activity(name, "SetVariable", depends, variableName=variable, value=value)


def fail(name: str, message: str = "boom", depends=None) -> dict:
    return activity(name, "Fail", depends, message=message, errorCode="Boom")


def pipeline(activities: list[dict], variables: dict | None = None, parameters: dict | None = None,
             **properties) -> dict:
    """A pipeline body; variables are String unless their default is a list (then Array)."""
    declared = {k: {"type": "Array" if isinstance(v, list) else "String", "defaultValue": v}
                for k, v in (variables or {"v": ""}).items()}
    return {"properties": {"activities": activities, "variables": declared, "parameters": parameters or {},
                           **properties}}


def environment(tmp_path: Path, **overrides) -> tuple[Settings, Store]:
    settings = replace(load_settings(), home=tmp_path / "home", **overrides)
    return settings, Store(settings.db_path)


def deploy(store: Store, objects: dict[tuple[str, str], dict]) -> None:
    """Put factory objects ((folder, name) -> body) into the store as a deployment would."""
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO deployments VALUES (?,?,?,?)", [FACTORY, "now", "x", "{}"])
        for (folder, name), body in objects.items():
            db.execute("INSERT OR REPLACE INTO objects VALUES (?,?,?,?)",
                       [FACTORY, folder, name, json.dumps({"name": name, **body})])


def execute_run(store: Store, settings: Settings, run_id: str) -> str:
    """Claim one queued run and execute it to its end, as the service would."""
    run = store.claim_run(run_id)
    assert run is not None, f"run {run_id} could not be claimed: {store.run(run_id)['status']}"
    return execute(store, settings, run)


def run_pipeline(tmp_path: Path, activities: list[dict], variables: dict | None = None,
                 parameters: dict | None = None, given: dict | None = None,
                 objects: dict[tuple[str, str], dict] | None = None, **settings_overrides) -> tuple[str, Store, dict]:
    """Deploy pipeline P (plus `objects`: other pipelines, datasets, linked services) and run it to its end."""
    settings, store = environment(tmp_path, **settings_overrides)
    deploy(store, {("pipeline", "P"): pipeline(activities, variables, parameters), **(objects or {})})
    with store.transaction() as db:
        run_id = store.queue_run(db, FACTORY, "P", given or {}, invoked_by="Manual")
    status = execute_run(store, settings, run_id)
    return status, store, store.run(run_id)


def wait_for(store: Store, run_id: str, statuses: set[str], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = store.run(run_id)
        if run["status"] in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still {store.run(run_id)['status']}, expected {statuses}")


# --- a storage factory: one AzureBlobStorage linked service and parameterized datasets ---------------------
def storage_objects(account_url: str) -> dict[tuple[str, str], dict]:
    """Linked service `Blobs` on the given account; datasets `Bin` (Binary) and `Csv` (DelimitedText with a
    header) and `CsvNoHeader` (semicolons, no header), each with container/folder/file parameters."""
    def dataset(type_: str, **format_props) -> dict:
        location = {"type": "AzureBlobStorageLocation",
                    "container": {"value": "@dataset().container", "type": "Expression"},
                    "folderPath": {"value": "@dataset().folder", "type": "Expression"},
                    "fileName": {"value": "@dataset().file", "type": "Expression"}}
        return {"properties": {"type": type_, "linkedServiceName": {"referenceName": "Blobs",
                                                                    "type": "LinkedServiceReference"},
                               "parameters": {"container": {"type": "string"},
                                              "folder": {"type": "string", "defaultValue": ""},
                                              "file": {"type": "string", "defaultValue": ""}},
                               "typeProperties": {"location": location, **format_props}}}

    return {
        ("linkedService", "Blobs"): {"properties": {"type": "AzureBlobStorage",
                                                   "typeProperties": {"serviceEndpoint": account_url}}},
        ("dataset", "Bin"): dataset("Binary"),
        ("dataset", "Csv"): dataset("DelimitedText", columnDelimiter=",", quoteChar='"', escapeChar="\\",
                                    firstRowAsHeader=True),
        ("dataset", "CsvNoHeader"): dataset("DelimitedText", columnDelimiter=";", firstRowAsHeader=False),
    }


def ref(dataset: str, container: str, folder: str = "", file: str = "") -> dict:
    """A DatasetReference to one of `storage_objects`' datasets."""
    return {"referenceName": dataset, "type": "DatasetReference",
            "parameters": {"container": container, "folder": folder, "file": file}}


def statuses(store: Store, run_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for a in store.activity_runs(run_id):
        out.setdefault(a["name"], []).append(a["status"])
    return out


def put(azurite: str, container: str, path: str, data: bytes) -> None:
    """Write one blob of a test container."""
    upload_bytes(f"{azurite}/{container}/{path}", data)
