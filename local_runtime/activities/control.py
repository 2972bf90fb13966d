"""Control-flow activities: SetVariable, AppendVariable, Wait, Fail, Until, IfCondition, Switch."""
from __future__ import annotations

import time
from typing import Any

from local_runtime.activities.registry import flag, register
from local_runtime.errors import ActivityError
from local_runtime.timespan import parse_timespan

RETURN_VALUE = "pipelineReturnValue"


def _declared(rc, name: str) -> None:
    if name not in rc.expressions.variables:
        raise ActivityError(f"variable {name!r} is not declared in the pipeline's variables", "InvalidTemplate")


def _typed(entry: Any) -> Any:
    """One pipelineReturnValue entry, `{"type": ..., "content": ...}`, as a plain value. Expression contents
    were evaluated with the rest of typeProperties; Object holds a key/value list, Array typed entries."""
    if not isinstance(entry, dict) or "type" not in entry:
        return entry
    kind, content = str(entry["type"]).lower(), entry.get("content")
    converters = {"int": int, "float": float, "boolean": flag,
                  "null": lambda v: None, "object": _key_values, "array": lambda v: [_typed(i) for i in v or []]}
    return converters.get(kind, lambda v: v)(content)


def _key_values(pairs: list) -> dict:
    return {pair["key"]: _typed(pair.get("value")) for pair in pairs or []}


@register("SetVariable")
def set_variable(activity: dict, props: dict, rc) -> Any:
    name = props["variableName"]
    if flag(props.get("setSystemVariable")):
        if name != RETURN_VALUE:
            raise ActivityError(f"system variable {name!r} cannot be set; the only one is {RETURN_VALUE!r}",
                                "InvalidTemplate")
        value = _key_values(props.get("value"))
        with rc.lock:
            rc.return_value.update(value)
        return {"name": name, "value": value}
    _declared(rc, name)
    with rc.lock:
        rc.expressions.variables[name] = props.get("value")
    return {"name": name, "value": props.get("value")}


@register("AppendVariable")
def append_variable(activity: dict, props: dict, rc) -> Any:
    name = props["variableName"]
    _declared(rc, name)
    with rc.lock:  # parallel ForEach iterations append to the same (pipeline-wide) variable
        current = rc.expressions.variables[name]
        if current is None:
            current = []
        if not isinstance(current, list):
            raise ActivityError(f"AppendVariable needs an Array variable; {name!r} holds {type(current).__name__}",
                                "InvalidTemplate")
        rc.expressions.variables[name] = current + [props.get("value")]
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
    """Do-while: the body runs, then the condition is checked. As ADF documents, a failed inner activity does not
    stop the loop; the Until ends Failed when the iteration that met the condition (or the last one before the
    timeout) failed, so a transient failure in an early poll does not fail the whole loop."""
    from local_runtime.engine import Cancelled, outcome, run_activities

    timeout = parse_timespan(props.get("timeout", "7.00:00:00"))
    deadline, iterations = time.monotonic() + timeout, 0
    while True:
        if rc.cancelled.is_set():
            raise Cancelled()
        iterations += 1
        statuses = run_activities(props.get("activities", []), rc)
        body_failed = outcome(props.get("activities", []), statuses) != "Succeeded"
        if rc.evaluate(props["expression"]) is True:
            if body_failed:
                raise ActivityError(f"an activity inside {activity['name']} failed in its last iteration "
                                    f"({iterations})", "UntilBodyFailed")
            return {"iterations": iterations}
        if time.monotonic() > deadline:
            raise ActivityError(f"{activity['name']} timed out after {timeout:.0f}s and {iterations} iterations "
                                "without its condition becoming true", "UntilTimedOut")


@register("IfCondition", container=True)
def if_condition(activity: dict, props: dict, rc) -> Any:
    from local_runtime.engine import run_scope

    value = rc.evaluate(props["expression"])
    if not isinstance(value, bool):
        raise ActivityError(f"IfCondition expression must be a boolean, got {value!r}", "InvalidTemplate")
    branch = props.get("ifTrueActivities" if value else "ifFalseActivities", []) or []
    run_scope(branch, rc, activity["name"], "IfConditionBranchFailed")
    return {"expression": value}


@register("Switch", container=True)
def switch(activity: dict, props: dict, rc) -> Any:
    """`on` evaluates to a string; the first case whose value equals it runs, else defaultActivities."""
    from local_runtime.engine import run_scope

    value = rc.evaluate(props["on"])
    if not isinstance(value, str):
        raise ActivityError(f"Switch 'on' must evaluate to a string, got {value!r}", "InvalidTemplate")
    case = next((c for c in props.get("cases", []) if c.get("value") == value), None)
    branch = (case or {}).get("activities") if case else props.get("defaultActivities")
    run_scope(branch or [], rc, activity["name"], "SwitchCaseFailed")
    return {"on": value, "case": case["value"] if case else "default"}
