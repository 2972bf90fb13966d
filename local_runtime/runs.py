"""Start pipeline runs and execute queued ones."""
from __future__ import annotations

import logging
from typing import Any

from local_runtime.engine import RunContext, failure_message, outcome, run_activities
from local_runtime.errors import NotDeployedError
from local_runtime.expressions import ExpressionContext
from local_runtime.settings import Settings
from local_runtime.store import Store

log = logging.getLogger("local_runtime.runs")
_CASTS = {"int": int, "float": float, "bool": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
          "string": str}


def deployed_factory(store: Store, factory: str | None = None) -> str:
    factories = store.factories()
    if not factories:
        raise NotDeployedError("nothing is deployed to the local runtime yet: run `make deploy ENV=local`")
    if factory and factory not in factories:
        raise NotDeployedError(f"factory {factory!r} is not deployed locally (deployed: {', '.join(factories)})")
    return factory or factories[-1]


def start_run(store: Store, pipeline: str, parameters: dict[str, Any], factory: str | None = None) -> str:
    """Queue a manual run (what `Invoke-AzDataFactoryV2Pipeline` does); returns its run id."""
    factory = deployed_factory(store, factory)
    if store.get_object(factory, "pipeline", pipeline) is None:
        known = sorted(name for _, name in store.objects(factory, "pipeline"))
        raise NotDeployedError(f"pipeline {pipeline!r} is not deployed in {factory} (pipelines: {', '.join(known)})")
    with store.transaction() as db:
        return store.queue_run(db, factory, pipeline, parameters, invoked_by="Manual")


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


def execute(store: Store, settings: Settings, run: dict) -> str:
    """Execute a claimed (InProgress) run to its end; returns the final status."""
    pipeline = store.get_object(run["factory"], "pipeline", run["pipeline"])
    props = pipeline["properties"]
    try:
        parameters = _parameters(props.get("parameters", {}), run["parameters"])
    except ValueError as exc:
        store.finish_run(run["run_id"], "Failed", str(exc))
        return "Failed"
    trigger = run.get("trigger") or {}
    context = ExpressionContext(
        pipeline={"RunId": run["run_id"], "Pipeline": run["pipeline"], "DataFactory": run["factory"],
                  "TriggerType": run["invoked_by"], "TriggerName": trigger.get("name", "Manual"),
                  "TriggerTime": run["queued_at"], "TriggerId": run["run_id"], "GroupId": run["run_id"],
                  "TriggeredByPipelineName": None, "TriggeredByPipelineRunId": None, "parameters": parameters},
        variables={name: spec.get("defaultValue") for name, spec in props.get("variables", {}).items()},
        trigger={"name": trigger.get("name"), "outputs": {"body": trigger.get("body", {})}},
    )
    rc = RunContext(store, settings, run["factory"], run["run_id"], context)
    activities = props.get("activities", [])
    try:
        status = outcome(activities, run_activities(activities, rc))
        message = failure_message(rc) if status == "Failed" else None
    except Exception as exc:  # a malformed pipeline fails its run, never the runtime
        log.exception("run %s crashed", run["run_id"])
        status, message = "Failed", f"{type(exc).__name__}: {exc}"
    store.finish_run(run["run_id"], status, message)
    log.info("run %s of %s: %s%s", run["run_id"], run["pipeline"], status, f" ({message})" if message else "")
    return status
