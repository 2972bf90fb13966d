"""Control-flow activities: SetVariable, Wait, Until, IfCondition, Fail."""
from __future__ import annotations

import time
from typing import Any

from local_runtime.activities.registry import register
from local_runtime.errors import ActivityError
from local_runtime.timespan import parse_timespan


@register("SetVariable")
def set_variable(activity: dict, props: dict, rc) -> Any:
    name = props["variableName"]
    if name not in rc.expressions.variables:
        raise ActivityError(f"variable {name!r} is not declared in the pipeline's variables", "InvalidTemplate")
    rc.expressions.variables[name] = props.get("value")
    return {"name": name, "value": props.get("value")}


@register("Wait")
def wait(activity: dict, props: dict, rc) -> Any:
    seconds = int(props["waitTimeInSeconds"])
    if rc.cancelled.wait(seconds):
        raise ActivityError("run cancelled while waiting", "Cancelled")
    return {"waitTimeInSeconds": seconds}


@register("Fail")
def fail(activity: dict, props: dict, rc) -> Any:
    raise ActivityError(str(props.get("message", "")), str(props.get("errorCode", "Fail")))


@register("Until", container=True)
def until(activity: dict, props: dict, rc) -> Any:
    """Do-while: the body runs, then the condition is checked; fails when the body fails or time runs out."""
    from local_runtime.engine import outcome, run_activities

    timeout = parse_timespan(props.get("timeout", "7.00:00:00"))
    deadline, iterations = time.monotonic() + timeout, 0
    while True:
        iterations += 1
        statuses = run_activities(props.get("activities", []), rc)
        if outcome(props.get("activities", []), statuses) != "Succeeded":
            raise ActivityError(f"an activity inside {activity['name']} failed in iteration {iterations}",
                                "UntilBodyFailed")
        if rc.evaluate(props["expression"]) is True:
            return {"iterations": iterations}
        if time.monotonic() > deadline:
            raise ActivityError(f"{activity['name']} timed out after {timeout:.0f}s and {iterations} iterations "
                                "without its condition becoming true", "UntilTimedOut")


@register("IfCondition", container=True)
def if_condition(activity: dict, props: dict, rc) -> Any:
    from local_runtime.engine import outcome, run_activities

    value = rc.evaluate(props["expression"])
    if not isinstance(value, bool):
        raise ActivityError(f"IfCondition expression must be a boolean, got {value!r}", "InvalidTemplate")
    branch = props.get("ifTrueActivities" if value else "ifFalseActivities", []) or []
    statuses = run_activities(branch, rc)
    if outcome(branch, statuses) != "Succeeded":
        failed = [rc.expressions.activity_outputs[n]["error"]["message"] for n, s in statuses.items() if s == "Failed"]
        raise ActivityError("; ".join(failed) or f"{activity['name']} branch failed", "IfConditionBranchFailed")
    return {"expression": value}
