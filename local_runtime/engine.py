"""Execute one pipeline run: activities in dependency order with independent branches in parallel, ADF's
dependency conditions, policies (timeout, retry), Skipped cascading, cooperative cancellation, and the final
status by ADF's leaf rule."""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from collections import ChainMap
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
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
POLL = 0.1                         # how often a waiting activity looks at its stop signal
GRACE = 5.0                        # how long a stopped runner gets to stop its children before it is abandoned


class SharedOutputs(dict):
    """Activity outputs written by parallel branches while expressions iterate them (case-insensitive lookups,
    error messages): iterate over a snapshot (taken under the GIL) so a concurrent insert cannot break it."""

    def __iter__(self):
        return iter(list(dict.keys(self)))


class RunObserver:
    """Told when pipeline runs and activity runs start and end (lineage emitters). Called on the engine's
    threads, so it must return quickly; whatever it raises is logged and ignored: it never fails a run."""

    def pipeline_started(self, run: dict) -> None: ...

    def pipeline_ended(self, run: dict, status: str, message: str | None) -> None: ...

    def activity_started(self, rc: RunContext, activity: dict, activity_run_id: str) -> None: ...

    def activity_ended(self, rc: RunContext, activity: dict, activity_run_id: str, status: str, output: Any,
                       error: dict | None) -> None: ...


_observers: weakref.WeakKeyDictionary[Store, list[RunObserver]] = weakref.WeakKeyDictionary()


def observe(store: Store, observer: RunObserver) -> None:
    """Tell `observer` about every run executed against this store (child runs of ExecutePipeline included)."""
    _observers.setdefault(store, []).append(observer)


def unobserve(store: Store, observer: RunObserver) -> None:
    if observer in _observers.get(store, []):
        _observers[store].remove(observer)


def notify(store: Store, event: str, *args: Any) -> None:
    for observer in list(_observers.get(store, ())):
        try:
            getattr(observer, event)(*args)
        except Exception:
            log.warning("run observer %s failed on %s; the run goes on", type(observer).__name__, event,
                        exc_info=True)


class Cancelled(ActivityError):
    """The activity stopped because its run was cancelled (or its container stopped)."""

    def __init__(self, message: str = "the run was cancelled"):
        super().__init__(message, "OperationCancelled")


@dataclass
class RunContext:
    store: Store
    settings: Settings
    factory: str
    run_id: str
    expressions: ExpressionContext
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set when this scope must stop: the run was cancelled, or an enclosing activity timed out."""
    parent: str | None = None
    """Activity run id of the enclosing container activity (None at the pipeline's top level)."""
    reuse: dict[str, dict] = field(default_factory=dict)
    """Rerun from failed: top-level activity name -> the succeeded activity run whose output is reused."""
    return_value: dict = field(default_factory=dict)
    """The pipelineReturnValue system variable (SetVariable with setSystemVariable)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    """Guards the run's shared state (variables) across parallel branches and ForEach iterations."""
    pipeline_name: str = ""

    def evaluate(self, value: Any) -> Any:
        return evaluate_value(value, self.expressions)

    def iteration(self, item: Any) -> RunContext:
        """A ForEach iteration: its own item() and its own activity outputs; variables stay shared (as in ADF)."""
        expressions = self.expressions.with_item(item)
        expressions.activity_outputs = ChainMap(SharedOutputs(), self.expressions.activity_outputs)
        return dataclasses.replace(self, expressions=expressions)


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


def _call_supervised(func, timeout: float, activity: dict, inputs: Any, rc: RunContext) -> Any:
    """Run the runner in its own thread with its own stop signal, set when the activity times out or the
    enclosing scope stops; cooperative runners (Wait, Until, ForEach, notebooks, child pipelines) then stop."""
    stop = threading.Event()
    scoped = dataclasses.replace(rc, cancelled=stop)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = func(activity, inputs, scoped)
        except BaseException as exc:  # carried back to the engine thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name=f"activity-{activity['name']}")
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        if rc.cancelled.is_set():
            stop.set()
            thread.join(GRACE)
            raise Cancelled()
        if time.monotonic() >= deadline:
            stop.set()
            thread.join(GRACE)
            raise ActivityError(f"activity timed out after {timeout:.0f}s (policy.timeout)", "ActivityTimedOut")
        thread.join(min(POLL, max(deadline - time.monotonic(), 0)))
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _finish(rc: RunContext, activity_run_id: str, name: str, status: str, output: Any = None,
            error: dict | None = None) -> str:
    rc.store.finish_activity(activity_run_id, status, output, error)
    rc.expressions.activity_outputs[name] = {"output": output, "status": status, "error": error}
    return status


def _end(rc: RunContext, activity: dict, activity_run_id: str, status: str, output: Any = None,
         error: dict | None = None) -> str:
    _finish(rc, activity_run_id, activity["name"], status, output, error)
    notify(rc.store, "activity_ended", rc, activity, activity_run_id, status, output, error)
    return status


def run_activity(activity: dict, rc: RunContext) -> str:
    name, activity_type = activity["name"], activity["type"]
    policy = activity.get("policy", {})
    retries = int(policy.get("retry", 0) or 0)
    interval = float(policy.get("retryIntervalInSeconds", 30) or 0)
    timeout = parse_timespan(policy["timeout"]) if policy.get("timeout") else DEFAULT_TIMEOUT
    entry = RUNNERS.get(activity_type)
    for attempt in range(retries + 1):
        props = activity.get("typeProperties", {})
        activity_run_id = rc.store.start_activity(rc.run_id, name, activity_type, {}, parent=rc.parent)
        notify(rc.store, "activity_started", rc, activity, activity_run_id)
        attempt_rc = dataclasses.replace(rc, parent=activity_run_id)
        try:
            if entry is None:
                raise ActivityError(f"activity type {activity_type!r} is not supported by the local runtime yet; "
                                    f"supported: {', '.join(sorted(RUNNERS))}", "UnsupportedActivityType")
            runner, evaluates = entry
            inputs = rc.evaluate(props) if evaluates else props
            if evaluates:
                rc.store.set_activity_input(activity_run_id, inputs)
            output = _call_supervised(runner, timeout, activity, inputs, attempt_rc)
        except BaseException as exc:
            error = _error(exc, name)
            if rc.cancelled.is_set():
                return _end(rc, activity, activity_run_id, "Cancelled", None, _error(Cancelled(), name))
            _end(rc, activity, activity_run_id, "Failed", None, error)
            log.info("run %s: %s failed (attempt %d/%d): %s", rc.run_id, name, attempt + 1, retries + 1,
                     error["message"])
            if attempt < retries and not rc.cancelled.wait(interval):
                continue
            return "Failed"
        return _end(rc, activity, activity_run_id, "Succeeded", output)
    return "Failed"


def _reuse(activity: dict, rc: RunContext) -> str:
    """Rerun from failed: record the original's succeeded activity run and its output instead of running it."""
    original = rc.reuse[activity["name"]]
    activity_run_id = rc.store.start_activity(
        rc.run_id, activity["name"], activity["type"],
        {"reusedFromRunId": original["run_id"], "reusedFromActivityRunId": original["activity_run_id"]})
    return _finish(rc, activity_run_id, activity["name"], "Succeeded", original["output"])


def _skip(activity: dict, rc: RunContext) -> str:
    activity_run_id = rc.store.start_activity(rc.run_id, activity["name"], activity["type"], {}, parent=rc.parent)
    rc.store.finish_activity(activity_run_id, "Skipped")
    return "Skipped"


def run_activities(activities: list[dict], rc: RunContext) -> dict[str, str]:
    """Run a list of activities (a pipeline or a container's body); returns name -> final status.

    An activity starts as soon as all its dependencies have ended, so independent branches run in parallel,
    as in ADF. Decisions (run, skip) are taken on this thread only; the activities run on a pool."""
    by_name = {a["name"]: a for a in activities}
    for activity in activities:
        for dependency in activity.get("dependsOn", []):
            if dependency["activity"] not in by_name:
                raise ActivityError(f"activity {activity['name']!r} depends on {dependency['activity']!r}, "
                                    "which is not in the same scope", "InvalidTemplate")
    statuses: dict[str, str] = {}
    pending = list(activities)
    running: dict[Any, str] = {}
    with ThreadPoolExecutor(max(1, len(activities)), thread_name_prefix="branch") as pool:
        while pending or running:
            ready = [a for a in pending if all(d["activity"] in statuses for d in a.get("dependsOn", []))]
            for activity in ready:
                pending.remove(activity)
                name = activity["name"]
                if rc.cancelled.is_set() or not _conditions_met(activity, statuses):
                    statuses[name] = _skip(activity, rc)
                elif name in rc.reuse:
                    statuses[name] = _reuse(activity, rc)
                else:
                    running[pool.submit(run_activity, activity, rc)] = name
            if ready:
                continue  # skips and reuses may have made more activities ready: look again before waiting
            if not running:
                if pending:
                    raise ActivityError("activities depend on each other in a cycle: "
                                        + ", ".join(a["name"] for a in pending), "InvalidTemplate")
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                statuses[running.pop(future)] = future.result()
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


def run_scope(activities: list[dict], rc: RunContext, owner: str, error_code: str) -> dict[str, str]:
    """Run a container's body; raise when it failed (by the leaf rule) with the inner errors, or when stopped."""
    statuses = run_activities(activities, rc)
    if outcome(activities, statuses) == "Succeeded":
        return statuses
    if rc.cancelled.is_set():
        raise Cancelled()
    failed = [rc.expressions.activity_outputs[n]["error"]["message"] for n, s in statuses.items() if s == "Failed"]
    raise ActivityError("; ".join(failed) or f"an activity inside {owner} failed", error_code)


def failure_message(rc: RunContext) -> str | None:
    failed = [a for a in rc.store.activity_runs(rc.run_id) if a["status"] == "Failed" and a["error"]]
    if not failed:
        return None
    last = failed[-1]
    return f"Operation on target {last['name']} failed: {last['error'].get('message')}"
