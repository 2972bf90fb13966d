"""ExecutePipeline: the child is its own pipeline run (TriggeredByPipelineName/RunId set), executed by this
activity rather than the service's queue, so a parent waiting on it never starves the service of slots."""
from __future__ import annotations

import threading
from typing import Any

from local_runtime.activities.registry import flag, register
from local_runtime.errors import ActivityError


@register("ExecutePipeline")
def execute_pipeline(activity: dict, props: dict, rc) -> Any:
    """waitOnCompletion defaults to false in ADF's REST model (ADF Studio writes it explicitly): without it the
    activity succeeds as soon as the child is started. A stopped (cancelled, timed out) activity cancels a
    child it waits on."""
    from local_runtime import runs
    from local_runtime.engine import Cancelled

    name = props["pipeline"]["referenceName"]
    child = runs.start_child(rc, name, props.get("parameters") or {}, activity["name"])
    output: dict[str, Any] = {"pipelineName": name, "pipelineRunId": child}
    if not flag(props.get("waitOnCompletion")):
        threading.Thread(target=runs.run_child, args=(rc.store, rc.settings, child), daemon=True,
                         name=f"child-{child[:8]}").start()
        return output
    run = runs.run_child(rc.store, rc.settings, child, rc.cancelled)
    if rc.cancelled.is_set():
        raise Cancelled(f"cancelled while waiting for {name} run {child}")
    if run["status"] != "Succeeded":
        raise ActivityError(f"pipeline {name} (run {child}) ended {run['status']}: {run['message']}",
                            "ExecutePipelineFailed")
    if run.get("return_value") is not None:
        output["pipelineReturnValue"] = run["return_value"]
    return output
