"""Pipeline runs as a library: start, execute, cancel, rerun (from the failed activity), and child runs of
ExecutePipeline activities. The CLI and the service only call these."""
from __future__ import annotations

import json
import logging
import threading
from typing import Any

from local_runtime.engine import RunContext, SharedOutputs, failure_message, notify, outcome, run_activities
from local_runtime.errors import ActivityError, NotDeployedError, RuntimeErrorBase
from local_runtime.expressions import ExpressionContext
from local_runtime.settings import Settings
from local_runtime.store import TERMINAL, Store

log = logging.getLogger("local_runtime.runs")
CANCEL_POLL = 0.2  # how often a running run looks for a cancel request (which may come from another process)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # ExecutePipeline passes arrays as text


_CASTS = {"int": int, "float": float, "bool": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
          "string": str, "array": _json, "object": _json}


class RunError(RuntimeErrorBase):
    """A run that does not exist or is not in a state for the request."""


def deployed_factory(store: Store, factory: str | None = None) -> str:
    factories = store.factories()
    if not factories:
        raise NotDeployedError("nothing is deployed to the local runtime yet: run `make deploy ENV=local`")
    if factory and factory not in factories:
        raise NotDeployedError(f"factory {factory!r} is not deployed locally (deployed: {', '.join(factories)})")
    return factory or factories[-1]


def _check_pipeline(store: Store, factory: str, pipeline: str) -> None:
    if store.get_object(factory, "pipeline", pipeline) is None:
        known = sorted(name for _, name in store.objects(factory, "pipeline"))
        raise NotDeployedError(f"pipeline {pipeline!r} is not deployed in {factory} (pipelines: {', '.join(known)})")


def start_run(store: Store, pipeline: str, parameters: dict[str, Any], factory: str | None = None) -> str:
    """Queue a manual run (what `Invoke-AzDataFactoryV2Pipeline` does); returns its run id."""
    factory = deployed_factory(store, factory)
    _check_pipeline(store, factory, pipeline)
    with store.transaction() as db:
        return store.queue_run(db, factory, pipeline, parameters, invoked_by="Manual")


def cancel_run(store: Store, run_id: str, recursive: bool = True) -> str:
    """Cancel a run: a queued one ends Cancelled at once, a running one becomes Canceling while its activities
    stop, then Cancelled. `recursive` also cancels the child runs its ExecutePipeline activities started
    (ADF's isRecursive). Returns the run's status after the request."""
    status = store.request_cancel(run_id)
    if status is None:
        raise RunError(f"no run {run_id}; `python -m local_runtime runs` lists them")
    if recursive:
        for child in store.child_runs(run_id):
            if child["status"] not in TERMINAL:
                cancel_run(store, child["run_id"], recursive=True)
    return status


def rerun(store: Store, run_id: str, from_failed: bool = True) -> str:
    """Queue a new run of an ended run's pipeline with the same parameters and trigger data, recording
    `rerun_of`. With `from_failed`, the activities that succeeded in the original (at the pipeline's top
    level) are not run again: their outputs (and the variables they set) are reused, and the run starts at
    the failed ones. Returns the new run id."""
    original = store.run(run_id)
    if original is None:
        raise RunError(f"no run {run_id}; `python -m local_runtime runs` lists them")
    if original["status"] not in TERMINAL:
        raise RunError(f"run {run_id} is still {original['status']}: wait for it to end or cancel it first")
    if from_failed and original["status"] == "Succeeded":
        raise RunError(f"run {run_id} succeeded, so nothing failed to rerun from; rerun it whole instead "
                       "(from_failed=False)")
    factory = deployed_factory(store, original["factory"])
    _check_pipeline(store, factory, original["pipeline"])
    with store.transaction() as db:
        return store.queue_run(db, factory, original["pipeline"], original["parameters"], original["invoked_by"],
                               original["trigger"], rerun_of=run_id,
                               rerun_mode="from_failed" if from_failed else "full")


# --- child runs (ExecutePipeline) -----------------------------------------------------------------------
def start_child(rc: RunContext, pipeline: str, parameters: dict, activity_name: str) -> str:
    """Queue a run of `pipeline` invoked by an ExecutePipeline activity of the run in `rc`."""
    if rc.store.get_object(rc.factory, "pipeline", pipeline) is None:
        raise ActivityError(f"ExecutePipeline: pipeline {pipeline!r} is not deployed in {rc.factory}",
                            "PipelineNotFound")
    invoked_by = {"name": activity_name, "id": rc.parent, "pipelineName": rc.pipeline_name,
                  "pipelineRunId": rc.run_id}
    with rc.store.transaction() as db:
        return rc.store.queue_run(db, rc.factory, pipeline, parameters, "PipelineActivity", invoked_by,
                                  parent_run_id=rc.run_id)


def run_child(store: Store, settings: Settings, run_id: str, stop: threading.Event | None = None) -> dict:
    """Execute a child run on this thread's behalf once its pipeline has a free concurrency slot; `stop`
    cancels it. Returns the ended run."""
    stop = stop or threading.Event()
    worker, cancelled = None, False
    while True:
        if worker is None:
            run = store.claim_run(run_id)
            if run is not None:
                worker = threading.Thread(target=execute, args=(store, settings, run), daemon=True,
                                          name=f"run-{run_id[:8]}")
                worker.start()
            elif store.run(run_id)["status"] in TERMINAL:
                return store.run(run_id)
        elif not worker.is_alive():
            return store.run(run_id)
        if stop.is_set() and not cancelled:
            cancel_run(store, run_id)
            cancelled = True
        if worker is not None:
            worker.join(CANCEL_POLL)
        else:
            stop.wait(CANCEL_POLL)


# --- execution ------------------------------------------------------------------------------------------
def _parameters(declared: dict, given: dict) -> dict:
    values = {}
    for name, spec in declared.items():
        if name in given:
            value = given[name]
        elif "defaultValue" in spec:
            value = spec["defaultValue"]
        else:
            raise ValueError(f"pipeline parameter {name!r} has no default and was not passed")
        cast = _CASTS.get(str(spec.get("type", "string")).lower())
        values[name] = cast(value) if cast and value is not None else value
    return values


def _system_variables(run: dict, parameters: dict) -> dict:
    trigger = run.get("trigger") or {}
    by_pipeline = run["invoked_by"] == "PipelineActivity"
    return {"RunId": run["run_id"], "Pipeline": run["pipeline"], "DataFactory": run["factory"],
            "TriggerType": run["invoked_by"], "TriggerName": trigger.get("name", "Manual"),
            "TriggerTime": run["queued_at"], "TriggerId": run["run_id"], "GroupId": run["run_id"],
            "TriggeredByPipelineName": trigger.get("pipelineName") if by_pipeline else None,
            "TriggeredByPipelineRunId": trigger.get("pipelineRunId") if by_pipeline else None,
            "parameters": parameters}


def _watch_for_cancel(store: Store, run_id: str, cancelled: threading.Event, done: threading.Event) -> None:
    while not done.wait(CANCEL_POLL):
        if store.run(run_id)["status"] == "Canceling":
            cancelled.set()
            return


def _variable_effects(store: Store, run_id: str, roots: set[str]) -> list[dict]:
    """The SetVariable/AppendVariable runs, in order, inside the given top-level activity runs (following
    reuses back to the run that really ran them)."""
    records = store.activity_runs(run_id)
    by_id = {r["activity_run_id"]: r for r in records}

    def root(record: dict) -> str:
        while record.get("parent") in by_id:
            record = by_id[record["parent"]]
        return record["activity_run_id"]

    effects: list[dict] = []
    for record in records:
        if record["status"] != "Succeeded" or root(record) not in roots:
            continue
        source = record["input"] if isinstance(record["input"], dict) else {}
        if "reusedFromActivityRunId" in source:
            effects += _variable_effects(store, source["reusedFromRunId"], {source["reusedFromActivityRunId"]})
        elif record["type"] in ("SetVariable", "AppendVariable"):
            effects.append(record)
    return effects


def _prepare_rerun(store: Store, run: dict, activities: list[dict], rc: RunContext) -> None:
    names = {a["name"] for a in activities}
    last: dict[str, dict] = {}
    for record in store.activity_runs(run["rerun_of"]):
        if record["name"] in names and record.get("parent") is None:
            last[record["name"]] = record  # the last attempt decides
    rc.reuse = {name: record for name, record in last.items() if record["status"] == "Succeeded"}
    variables = rc.expressions.variables
    for effect in _variable_effects(store, run["rerun_of"], {r["activity_run_id"] for r in rc.reuse.values()}):
        output = effect["output"] or {}
        if (effect["input"] or {}).get("setSystemVariable"):
            rc.return_value.update(output.get("value") or {})
        elif output.get("name") in variables:
            value = output.get("value")
            variables[output["name"]] = value if effect["type"] == "SetVariable" else \
                (variables[output["name"]] or []) + [value]


def _end_run(store: Store, run: dict, status: str, message: str | None) -> str:
    store.finish_run(run["run_id"], status, message)
    notify(store, "pipeline_ended", run, status, message)
    return status


def execute(store: Store, settings: Settings, run: dict) -> str:
    """Execute a claimed (InProgress) run to its end; returns the final status."""
    notify(store, "pipeline_started", run)
    pipeline = store.get_object(run["factory"], "pipeline", run["pipeline"])
    if pipeline is None:
        return _end_run(store, run, "Failed", f"pipeline {run['pipeline']} is no longer deployed")
    props = pipeline["properties"]
    try:
        parameters = _parameters(props.get("parameters", {}), run["parameters"])
    except ValueError as exc:
        return _end_run(store, run, "Failed", str(exc))
    trigger = run.get("trigger") or {}
    context = ExpressionContext(
        pipeline=_system_variables(run, parameters),
        variables={name: spec.get("defaultValue") for name, spec in props.get("variables", {}).items()},
        trigger={"name": trigger.get("name"), "outputs": {"body": trigger.get("body", {})}},
        activity_outputs=SharedOutputs(),
    )
    rc = RunContext(store, settings, run["factory"], run["run_id"], context, pipeline_name=run["pipeline"])
    activities = props.get("activities", [])
    done = threading.Event()
    threading.Thread(target=_watch_for_cancel, args=(store, run["run_id"], rc.cancelled, done), daemon=True).start()
    try:
        if run.get("rerun_mode") == "from_failed":
            _prepare_rerun(store, run, activities, rc)
        status = outcome(activities, run_activities(activities, rc))
        message = failure_message(rc) if status == "Failed" else None
    except Exception as exc:  # a malformed pipeline fails its run, never the runtime
        log.exception("run %s crashed", run["run_id"])
        status, message = "Failed", f"{type(exc).__name__}: {exc}"
    finally:
        done.set()
    if rc.cancelled.is_set():
        status, message = "Cancelled", "cancelled by request"
    if rc.return_value:
        store.set_return_value(run["run_id"], rc.return_value)
    _end_run(store, run, status, message)
    log.info("run %s of %s: %s%s", run["run_id"], run["pipeline"], status, f" ({message})" if message else "")
    return status
