"""Read what a deployed local environment did: its runs, the prep manifest, the training job."""
from __future__ import annotations

import json

from local_runtime.store import Store
from storage import download_bytes


def activity_output(store: Store, run_id: str, activity_type: str) -> dict | None:
    for activity in reversed(store.activity_runs(run_id)):
        if activity["type"] == activity_type and activity["status"] == "Succeeded":
            return activity["output"]
    return None


def prep_result(store: Store, run_id: str) -> dict:
    output = activity_output(store, run_id, "DatabricksNotebook")
    if not output or not isinstance(output.get("runOutput"), dict):
        raise SystemExit(f"run {run_id} has no successful data-prep activity output")
    return output["runOutput"]


def manifest(store: Store, run_id: str) -> tuple[dict, bytes]:
    url = prep_result(store, run_id)["manifest_url"]
    data = download_bytes(url)
    return json.loads(data), data


def training_job(store: Store, run_id: str) -> dict | None:
    for activity in store.activity_runs(run_id):
        if activity["type"] == "WebActivity" and activity["status"] == "Succeeded" \
                and str((activity["output"] or {}).get("name", "")).startswith("batchjob-"):
            return store.job(activity["output"]["name"])
    return None


def latest_run(store: Store, status: str | None = "Succeeded") -> dict:
    for run in store.runs(200):
        if status is None or run["status"] == status:
            return run
    raise SystemExit(f"no {status or ''} run found; drop a file into the input container or run `make smoke`")
