"""Monitoring as a library: list runs with filters, one run in detail (nested activity runs, child runs,
reruns), follow a run live, cancel and wait. The CLI only formats what these return (see `report`).

Times are UTC, as the store keeps them (ADF's shape: ISO 8601 with 7 fractional digits and `Z`)."""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local_runtime.errors import RuntimeErrorBase
from local_runtime.report import duration, nested, parse_stamp
from local_runtime.runs import cancel_run
from local_runtime.store import TERMINAL, Store

STATUSES = ("Queued", "InProgress", "Succeeded", "Failed", "Canceling", "Cancelled")  # ADF's run statuses
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
NOT_RUNNING_HINT = "is the runtime up (`make up`)? Its log: .local/logs/runtime.log"


class MonitorError(RuntimeErrorBase):
    """A monitoring request that cannot be answered: unknown run, bad filter, nothing to cancel."""


class MonitorTimeout(MonitorError):
    """A run did not end within the time the caller was willing to wait."""


# --- filters ----------------------------------------------------------------------------------------------
def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC unless it carries an offset; a date alone is its midnight) or a time relative to
    now: `90s`, `30m`, `1h`, `2d`, `1w`, or combined as `1h30m`. Returns an aware UTC datetime."""
    now = now or datetime.now(UTC)
    compact = str(text).strip().lower().replace(" ", "")
    if _RELATIVE.fullmatch(compact):
        seconds = sum(float(amount) * UNITS[unit] for amount, unit in _PART.findall(compact))
        return now - timedelta(seconds=seconds)
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise MonitorError(f"time {text!r} is neither ISO 8601 (2024-05-01, 2024-05-01T10:30:00Z) nor relative "
                           "to now (90s, 30m, 1h, 2d, 1w, 1h30m)") from None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def stamp(value: datetime) -> str:
    """A datetime in the store's timestamp shape, so stored times compare as text."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def canonical_status(text: str) -> str:
    """A run status as ADF spells it, matched without regard to case."""
    found = {s.lower(): s for s in STATUSES}.get(str(text).strip().lower())
    if found is None:
        raise MonitorError(f"status {text!r} is not a pipeline run status; one of {', '.join(STATUSES)}")
    return found


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list: every given criterion must hold; runs are matched on the time they were queued."""
    pipeline: str | None = None          # exact name, case-insensitive (as ADF names are)
    statuses: tuple[str, ...] = ()       # any of these
    since: datetime | None = None        # queued at or after
    until: datetime | None = None        # queued before
    limit: int | None = 20               # newest first; None for all

    @classmethod
    def parse(cls, pipeline: str | None = None, statuses: list[str] | None = None, since: str | None = None,
              until: str | None = None, limit: int | None = 20, now: datetime | None = None) -> RunFilter:
        """From command-line text: statuses may also be comma-separated (`Failed,Cancelled`)."""
        wanted = tuple(dict.fromkeys(canonical_status(s) for item in statuses or [] for s in item.split(",") if s))
        start = parse_time(since, now) if since else None
        end = parse_time(until, now) if until else None
        if start and end and start >= end:
            raise MonitorError(f"--since ({stamp(start)}) must be before --until ({stamp(end)})")
        if limit is not None and limit < 1:
            raise MonitorError(f"--limit must be at least 1, got {limit}")
        return cls(pipeline or None, wanted, start, end, limit)

    def describe(self) -> str:
        parts = [f"pipeline {self.pipeline}"] if self.pipeline else []
        parts += [f"status {' or '.join(self.statuses)}"] if self.statuses else []
        parts += [f"queued since {stamp(self.since)}"] if self.since else []
        parts += [f"queued before {stamp(self.until)}"] if self.until else []
        return ", ".join(parts) or "no filter"


def list_runs(store: Store, where: RunFilter = RunFilter()) -> list[dict]:
    """Pipeline runs matching the filter, newest first (child runs of ExecutePipeline activities included)."""
    clauses, args = [], []
    if where.pipeline:
        clauses.append("pipeline = ? COLLATE NOCASE")
        args.append(where.pipeline)
    if where.statuses:
        clauses.append(f"status IN ({','.join('?' * len(where.statuses))})")
        args += list(where.statuses)
    if where.since:
        clauses.append("queued_at >= ?")
        args.append(stamp(where.since))
    if where.until:
        clauses.append("queued_at < ?")
        args.append(stamp(where.until))
    query = "SELECT run_id FROM pipeline_runs" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    query += " ORDER BY queued_at DESC, rowid DESC"
    if where.limit is not None:
        query, args = query + " LIMIT ?", args + [where.limit]
    with store.connect() as db:
        ids = [row["run_id"] for row in db.execute(query, args)]
    return [summary(store.run(run_id)) for run_id in ids]


# --- one run ----------------------------------------------------------------------------------------------
def summary(run: dict) -> dict:
    """A run with its duration in seconds (None while it has not ended)."""
    return {**run, "duration_seconds": duration(run.get("run_start"), run.get("run_end"))}


def get_run(store: Store, run_id: str) -> dict:
    run = store.run(run_id)
    if run is None:
        raise MonitorError(f"no run {run_id}; `python -m local_runtime runs` lists them")
    return run


def reruns_of(store: Store, run_id: str) -> list[dict]:
    with store.connect() as db:
        ids = [r["run_id"] for r in db.execute("SELECT run_id FROM pipeline_runs WHERE rerun_of=? ORDER BY "
                                                "queued_at", [run_id])]
    return [summary(store.run(i)) for i in ids]


def run_detail(store: Store, run_id: str) -> dict:
    """The run, its activity runs in tree order (each with `depth` under its container and
    `duration_seconds`), the child runs its ExecutePipeline activities started and the reruns of it."""
    run = get_run(store, run_id)
    activities = [{**record, "depth": depth, "duration_seconds": duration(record["start"], record["end"])}
                  for depth, record in nested(store.activity_runs(run_id))]
    return {**summary(run), "activities": activities,
            "child_runs": [summary(c) for c in store.child_runs(run_id)], "reruns": reruns_of(store, run_id)}


def wait_for_end(store: Store, run_id: str, timeout: float, poll: float = 0.5,
                 on_status: Callable[[str], None] | None = None) -> dict:
    """Poll until the run has ended (Queued and InProgress are both still waiting); `on_status` hears every
    status it passes through. Raises MonitorTimeout after `timeout` seconds."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        run = get_run(store, run_id)
        if run["status"] != last:
            last = run["status"]
            if on_status:
                on_status(last)
        if run["status"] in TERMINAL:
            return run
        if time.monotonic() >= deadline:
            raise MonitorTimeout(f"run {run_id} still {run['status']} after {timeout:g}s; {NOT_RUNNING_HINT}")
        time.sleep(poll)


# --- following a run live ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """Something that happened to a followed run. kind: `run` (status changed), `started`/`ended` (an activity
    run; data holds the record and its depth), `child` (a child run appeared or changed status), `progress`,
    `end` (the run ended; the last event)."""
    kind: str
    at: str                       # the store's time of the event (an activity's start or end), else now
    elapsed: float                # seconds since the run started (or was queued)
    data: dict = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, "at": self.at, "elapsed": round(self.elapsed, 3), **self.data}


def _since(origin: datetime | None, at: str | None) -> float:
    moment = parse_stamp(at) if at else None
    return max((moment - origin).total_seconds(), 0.0) if origin and moment else 0.0


def follow(store: Store, run_id: str, *, poll: float = 0.5, timeout: float | None = None,
           heartbeat: float = 10.0) -> Iterator[Event]:
    """Follow a run until it ends: yields an event for every activity run that starts or ends (nested ones
    with their depth), every status change of the run and of its child runs, and a progress event after each
    change (and every `heartbeat` seconds). The last event is `end`. Raises MonitorTimeout after `timeout`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen: dict[str, str] = {}
    children: dict[str, str] = {}
    status, beat = None, time.monotonic()
    while True:
        run = get_run(store, run_id)
        origin = parse_stamp(run["run_start"] or run["queued_at"])
        now = stamp(datetime.now(UTC))
        changed = False
        if run["status"] != status:
            status, changed = run["status"], True
            if status not in TERMINAL:  # the end event reports the final status
                yield Event("run", now, _since(origin, now), {"run_id": run_id, "status": status})
        records = store.activity_runs(run_id)  # read after the run: an ended run has all its records here
        depth = {record["activity_run_id"]: d for d, record in nested(records)}
        batch: list[Event] = []
        for record in records:
            key, before = record["activity_run_id"], seen.get(record["activity_run_id"])
            if before == record["status"]:
                continue
            info = {"depth": depth.get(key, 0), "activity": record}
            if before is None and record["status"] != "Skipped":
                batch.append(Event("started", record["start"], _since(origin, record["start"]), info))
            if record["status"] != "InProgress":
                at = record["end"] or now
                batch.append(Event("ended", at, _since(origin, at), info))
            seen[key] = record["status"]
        for child in store.child_runs(run_id):
            if children.get(child["run_id"]) != child["status"]:
                children[child["run_id"]] = child["status"]
                batch.append(Event("child", now, _since(origin, now), {"run": summary(child)}))
        batch.sort(key=lambda event: event.at)  # in the order they happened (stable for equal times)
        yield from batch
        changed = changed or bool(batch)
        if changed or time.monotonic() - beat >= heartbeat:
            beat = time.monotonic()
            ended = sum(1 for s in seen.values() if s != "InProgress")
            yield Event("progress", now, _since(origin, run["run_end"] or now),
                        {"status": run["status"], "done": ended, "running": len(seen) - ended})
        if run["status"] in TERMINAL:
            yield Event("end", run["run_end"] or now, _since(origin, run["run_end"] or now),
                        {"run": summary(run)})
            return
        if deadline is not None and time.monotonic() >= deadline:
            raise MonitorTimeout(f"run {run_id} still {run['status']} after {timeout:g}s; {NOT_RUNNING_HINT}")
        time.sleep(poll)


# --- cancel -----------------------------------------------------------------------------------------------
def cancel(store: Store, run_id: str, *, wait: bool = True, timeout: float = 60.0, recursive: bool = True,
           poll: float = 0.2) -> tuple[str, dict]:
    """Cancel a queued or running run (and, `recursive`, the child runs it started); with `wait`, until it is
    Cancelled. Returns the status right after the request (Cancelled for a queued run, Canceling for a running
    one) and the run as it is now."""
    run = get_run(store, run_id)
    if run["status"] in TERMINAL:
        raise MonitorError(f"run {run_id} already ended {run['status']}: nothing to cancel")
    requested = cancel_run(store, run_id, recursive=recursive)
    if not wait or requested in TERMINAL:
        return requested, get_run(store, run_id)
    return requested, wait_for_end(store, run_id, timeout, poll)
