"""Execute one pipeline run: activities in dependency order, ADF's dependency conditions, policies
(timeout, retry), Skipped cascading, and the final status by ADF's leaf rule."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local_runtime.activities import RUNNERS
from local_runtime.errors import ActivityError
from local_runtime.expressions import ExpressionContext, ExpressionError, evaluate_value
from local_runtime.settings import Settings
from local_runtime.store import Store
from local_runtime.timespan import parse_timespan

log = logging.getLogger("local_runtime.engine")
DEFAULT_TIMEOUT = 7 * 24 * 3600.0  # ADF's default activity timeout: 7 days


@dataclass
class RunContext:
    store: Store
    settings: Settings
    factory: str
    run_id: str
    expressions: ExpressionContext
    cancelled: threading.Event = field(default_factory=threading.Event)

    def evaluate(self, value: Any) -> Any:
        return evaluate_value(value, self.expressions)


def _conditions_met(activity: dict, statuses: dict[str, str]) -> bool:
    """Entries are ANDed; the conditions inside one entry are ORed. Completed = Succeeded or Failed."""
    for dependency in activity.get("dependsOn", []):
        status = statuses[dependency["activity"]]
        allowed = set()
        for condition in dependency.get("dependencyConditions", ["Succeeded"]):
            allowed |= {"Succeeded", "Failed"} if condition == "Completed" else {condition}
        if status not in allowed:
            return False
    return True


def _error(exc: BaseException, name: str) -> dict:
    if isinstance(exc, ActivityError):
        return {"errorCode": exc.error_code, "message": exc.message, "failureType": exc.failure_type, "target": name}
    if isinstance(exc, ExpressionError):
        return {"errorCode": "InvalidTemplate", "message": str(exc), "failureType": "UserError", "target": name}
    return {"errorCode": "InternalError", "message": f"{type(exc).__name__}: {exc}", "failureType": "SystemError",
            "target": name}


def _call_with_timeout(func, timeout: float, *args) -> Any:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = func(*args)
        except BaseException as exc:  # carried back to the engine thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise ActivityError(f"activity timed out after {timeout:.0f}s (policy.timeout)", "ActivityTimedOut")
    if "error" in box:
        raise box["error"]
    return box.get("result")


def run_activity(activity: dict, rc: RunContext) -> str:
    name, activity_type = activity["name"], activity["type"]
    policy = activity.get("policy", {})
    retries = int(policy.get("retry", 0) or 0)
    interval = float(policy.get("retryIntervalInSeconds", 30) or 0)
    timeout = parse_timespan(policy["timeout"]) if policy.get("timeout") else DEFAULT_TIMEOUT
    entry = RUNNERS.get(activity_type)
    for attempt in range(retries + 1):
        props = activity.get("typeProperties", {})
        activity_run_id = rc.store.start_activity(rc.run_id, name, activity_type, {})
        try:
            if entry is None:
                raise ActivityError(f"activity type {activity_type!r} is not supported by the local runtime yet; "
                                    f"supported: {', '.join(sorted(RUNNERS))}", "UnsupportedActivityType")
            runner, evaluates = entry
            inputs = rc.evaluate(props) if evaluates else props
            if evaluates:
                rc.store.set_activity_input(activity_run_id, inputs)
            output = _call_with_timeout(runner, timeout, activity, inputs, rc)
        except BaseException as exc:
            error = _error(exc, name)
            rc.store.finish_activity(activity_run_id, "Failed", None, error)
            rc.expressions.activity_outputs[name] = {"output": None, "status": "Failed", "error": error}
            log.info("run %s: %s failed (attempt %d/%d): %s", rc.run_id, name, attempt + 1, retries + 1, error["message"])
            if attempt < retries and not rc.cancelled.is_set():
                time.sleep(interval)
                continue
            return "Failed"
        rc.store.finish_activity(activity_run_id, "Succeeded", output)
        rc.expressions.activity_outputs[name] = {"output": output, "status": "Succeeded", "error": None}
        return "Succeeded"
    return "Failed"


def run_activities(activities: list[dict], rc: RunContext) -> dict[str, str]:
    """Run a list of activities (a pipeline or a container's body); returns name -> final status."""
    by_name = {a["name"]: a for a in activities}
    for activity in activities:
        for dependency in activity.get("dependsOn", []):
            if dependency["activity"] not in by_name:
                raise ActivityError(f"activity {activity['name']!r} depends on {dependency['activity']!r}, "
                                    "which is not in the same scope", "InvalidTemplate")
    statuses: dict[str, str] = {}
    pending = list(activities)
    while pending:
        ready = [a for a in pending if all(d["activity"] in statuses for d in a.get("dependsOn", []))]
        if not ready:
            raise ActivityError("activities depend on each other in a cycle: "
                                + ", ".join(a["name"] for a in pending), "InvalidTemplate")
        for activity in ready:
            pending.remove(activity)
            if rc.cancelled.is_set() or not _conditions_met(activity, statuses):
                statuses[activity["name"]] = "Skipped"
                rc.store.finish_activity(rc.store.start_activity(rc.run_id, activity["name"], activity["type"], {}),
                                         "Skipped")
                continue
            statuses[activity["name"]] = run_activity(activity, rc)
    return statuses


def outcome(activities: list[dict], statuses: dict[str, str]) -> str:
    """ADF's leaf rule: the run succeeds only if every leaf succeeded; a skipped leaf is judged by its parents."""
    parents = {a["name"]: [d["activity"] for d in a.get("dependsOn", [])] for a in activities}
    has_children = {p for deps in parents.values() for p in deps}

    def judged(name: str) -> bool:
        status = statuses.get(name)
        if status == "Skipped":
            return all(judged(p) for p in parents[name])
        return status == "Succeeded"

    leaves = [name for name in parents if name not in has_children]
    return "Succeeded" if all(judged(leaf) for leaf in leaves) else "Failed"


def failure_message(rc: RunContext) -> str | None:
    failed = [a for a in rc.store.activity_runs(rc.run_id) if a["status"] == "Failed" and a["error"]]
    if not failed:
        return None
    last = failed[-1]
    return f"Operation on target {last['name']} failed: {last['error'].get('message')}"
