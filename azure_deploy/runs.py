"""Runs in an Azure environment through the ADF API: `smoke` starts the pipeline and follows it to the end,
`find_manifest` locates the data-prep manifest of a successful run for the integration checks."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from azure_deploy.errors import RunFailed
from azure_deploy.factory import FactoryOps
from azure_deploy.source import Source
from azure_deploy.target import Target

TERMINAL = {"Succeeded", "Failed", "Cancelled"}
WAITING = {"Queued", "InProgress", "Canceling"}


def trigger_pipeline(source: Source) -> str:
    """The pipeline the source's trigger starts (the one the smoke test runs by default)."""
    for (folder, _), body in sorted(source.objects.items()):
        if folder == "trigger":
            return body["properties"]["pipelines"][0]["pipelineReference"]["referenceName"]
    pipelines = sorted(name for folder, name in source.objects if folder == "pipeline")
    if len(pipelines) == 1:
        return pipelines[0]
    raise RunFailed(f"cannot tell which pipeline to run among {pipelines}\n  fix: pass --pipeline")


def format_activity(activity: Any) -> str:
    duration = f"{activity.duration_in_ms / 1000:.1f}s" if activity.duration_in_ms is not None else "-"
    line = f"  {activity.activity_name:<28} {activity.activity_type:<20} {activity.status:<10} {duration}"
    error = activity.error if isinstance(activity.error, dict) else {}
    if error.get("message") or error.get("errorCode"):
        line += f"\n      error {error.get('errorCode', '')}: {error.get('message', '')}".rstrip()
    return line


def smoke(ops: FactoryOps, pipeline: str, parameters: dict[str, Any], timeout: float = 1800,
          poll_seconds: float = 15, say: Callable[[str], None] = print,
          sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> int:
    run_id = ops.create_run(pipeline, parameters)
    say(f"smoke: started {pipeline} run {run_id} in factory {ops.factory} with {json.dumps(parameters, sort_keys=True)}")
    start, last = clock(), None
    while True:
        run = ops.get_run(run_id)
        elapsed = clock() - start
        if run.status != last:
            say(f"  {elapsed:6.0f}s {run.status}")
            last = run.status
        if run.status in TERMINAL or run.status not in WAITING:
            break
        if elapsed > timeout:
            say(f"smoke: gave up after {timeout:.0f}s with run {run_id} still {run.status}")
            _print_activities(ops, run, say)
            return 1
        sleep(poll_seconds)
    _print_activities(ops, run, say)
    if run.status != "Succeeded":
        say(f"smoke: run {run_id} ended {run.status}: {run.message or 'see the activity errors above'}")
        return 1
    say(f"smoke: run {run_id} Succeeded")
    return 0


def _print_activities(ops: FactoryOps, run: Any, say: Callable[[str], None]) -> None:
    activities = sorted(ops.activity_runs(run), key=lambda a: (a.activity_run_start is None, a.activity_run_start))
    say(f"activity runs of {run.run_id} ({run.pipeline_name}, {run.status}):")
    for activity in activities:
        say(format_activity(activity))


def find_manifest(ops: FactoryOps, target: Target, pipeline: str, run_id: str | None,
                  fetch: Callable[[str], bytes]) -> tuple[str, dict]:
    """(run id, manifest) of the given run or the latest successful one: the data-prep activity's output names
    the manifest; without it, the archive container's runs/<run id>/manifest.json."""
    if run_id is None:
        run = ops.latest_run(pipeline)
        if run is None:
            raise RunFailed(f"no Succeeded run of {pipeline} in factory {ops.factory} in the last 30 days\n"
                            f"  fix: drop a file into the input container or run `make smoke ENV={target.env}`")
    else:
        run = ops.get_run(run_id)
    url = None
    for activity in ops.activity_runs(run):
        output = activity.output if isinstance(activity.output, dict) else {}
        run_output = output.get("runOutput")
        if activity.activity_type == "DatabricksNotebook" and activity.status == "Succeeded" \
                and isinstance(run_output, dict) and run_output.get("manifest_url"):
            url = run_output["manifest_url"]
    url = url or f"{target.storage_account_url}/archive/runs/{run.run_id}/manifest.json"
    try:
        return run.run_id, json.loads(fetch(url))
    except Exception as exc:  # noqa: BLE001
        raise RunFailed(f"run {run.run_id}: cannot read its manifest {url}: {type(exc).__name__}: "
                        f"{(str(exc).splitlines() or [''])[0]}") from exc
