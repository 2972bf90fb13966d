"""Human-readable views of runs: the run list, one run with its activity runs (nested ones indented under
their container), durations and a text timeline, and the lines `watch` prints while following a run."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

PREVIEW = 160  # characters of an activity's input or output shown in the text view (--json has everything)


def parse_stamp(text: str | None) -> datetime | None:
    """A store timestamp (ISO 8601 UTC, 7 fractional digits, `Z`) as a naive UTC datetime."""
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f") if text else None


def duration(start: str | None, end: str | None) -> float | None:
    a, b = parse_stamp(start), parse_stamp(end)
    return (b - a).total_seconds() if a and b else None


def nested(activities: list[dict]) -> list[tuple[int, dict]]:
    """Activity runs in tree order: each container's runs (ForEach, Until, IfCondition, Switch bodies) right
    after it, one level deeper, in the order they started. Runs whose container is unknown stay at the top."""
    ids = {a["activity_run_id"] for a in activities}
    below: dict[str | None, list[dict]] = {}
    for a in activities:
        below.setdefault(a.get("parent") if a.get("parent") in ids else None, []).append(a)
    out: list[tuple[int, dict]] = []

    def walk(parent: str | None, depth: int) -> None:
        for a in below.get(parent, []):
            out.append((depth, a))
            walk(a["activity_run_id"], depth + 1)

    walk(None, 0)
    return out


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"


def format_runs(runs: list[dict]) -> str:
    """The run list: one line per run, newest first, with its duration; reruns and child runs say whose."""
    if not runs:
        return "no runs"
    width = max(len("pipeline"), *(len(r["pipeline"]) for r in runs)) + 2
    lines = [f"{'run id':<38}{'pipeline':<{width}}{'status':<12}{'invoked by':<18}{'queued':<30}{'took':>8}"]
    for r in runs:
        took = r.get("duration_seconds", duration(r.get("run_start"), r.get("run_end")))
        note = (f"  rerun of {r['rerun_of']}" if r.get("rerun_of") else "") + \
               (f"  child of {r['parent_run_id']}" if r.get("parent_run_id") else "")
        lines.append(f"{r['run_id']:<38}{r['pipeline']:<{width}}{r['status']:<12}{r['invoked_by']:<18}"
                     f"{r['queued_at']:<30}{_seconds(took):>8}{note}")
    return "\n".join(lines)


def _run_line(run: dict, via: str = "") -> str:
    took = duration(run.get("run_start"), run.get("run_end"))
    return f"    {run['run_id']}  {run['pipeline']}  {run['status']}  took {_seconds(took)}{via}"


def format_run(run: dict, activities: list[dict], *, details: bool = False, child_runs: list[dict] | None = None,
               reruns: list[dict] | None = None) -> str:
    """The run, then a table of its activity runs (nested ones indented) with start offsets, durations and a
    text timeline, and the errors. `details` adds every activity's input and output (shortened), the child
    runs its ExecutePipeline activities started and the reruns of it."""
    took = duration(run["run_start"], run["run_end"])
    lines = [f"run {run['run_id']}  pipeline {run['pipeline']}  factory {run['factory']}",
             f"  status {run['status']}  invoked by {run['invoked_by']}  queued {run['queued_at']}"
             + (f"  took {took:.1f}s" if took is not None else ""),
             f"  parameters {run['parameters']}"]
    if run.get("rerun_of"):
        lines.append(f"  rerun of {run['rerun_of']} ({run.get('rerun_mode') or 'full'})")
    if run.get("parent_run_id"):
        activity = (run.get("trigger") or {}).get("name")
        lines.append(f"  child run of {run['parent_run_id']}" + (f" (activity {activity})" if activity else ""))
    if run.get("message"):
        lines.append(f"  message: {run['message']}")
    tree = nested(activities)
    if tree:
        origin = min(parse_stamp(a["start"]) for _, a in tree)
        span = max(((parse_stamp(a["end"] or a["start"]) - origin).total_seconds() for _, a in tree), default=0)
        span = span or 1.0
        width = 30
        lines.append(f"  {'activity':<24}{'type':<20}{'status':<11}{'start':>8}{'took':>8}  timeline")
        for depth, a in tree:
            offset = (parse_stamp(a["start"]) - origin).total_seconds()
            took_a = duration(a["start"], a["end"])
            bar = " " * int(offset / span * width) + "#" * max(1, int((took_a or 0) / span * width))
            name = "  " * depth + a["name"]
            lines.append(f"  {name:<24}{a['type']:<20}{a['status']:<11}{offset:>7.1f}s{_seconds(took_a):>8}"
                         f"  |{bar:<{width}}|")
            if a["status"] == "Failed" and a.get("error"):
                lines.append(f"  {'  ' * depth}    error: {a['error'].get('message', '')[:400]}")
    if details and tree:
        lines.append("  inputs and outputs:")
        for depth, a in tree:
            shown = [(label, a.get(key)) for label, key in (("in ", "input"), ("out", "output"))
                     if a.get(key) not in (None, {}, [])]
            for i, (label, value) in enumerate(shown):
                lines.append(f"    {('  ' * depth + a['name']) if i == 0 else '':<24}{label} {_preview(value)}")
    if child_runs:
        lines.append("  child runs:")
        lines += [_run_line(c, f"  (activity {(c.get('trigger') or {}).get('name', '?')})") for c in child_runs]
    if reruns:
        lines.append("  reruns:")
        lines += [_run_line(r, f"  ({r.get('rerun_mode') or 'full'})") for r in reruns]
    return "\n".join(lines)


def format_detail(detail: dict) -> str:
    """`monitor.run_detail` as text."""
    return format_run(detail, detail["activities"], details=True, child_runs=detail.get("child_runs"),
                      reruns=detail.get("reruns"))


def format_event(event) -> str | None:
    """One line for a `monitor.Event` while following a run."""
    data, clock = event.data, f"[{event.elapsed:7.1f}s]"
    if event.kind in ("started", "ended"):
        a = data["activity"]
        label = f"{'  ' * data['depth']}{a['name']} ({a['type']})"
        if event.kind == "started":
            return f"{clock} {'started':<10} {label}"
        line = f"{clock} {a['status']:<10} {label}  {_seconds(duration(a['start'], a['end']))}"
        if a["status"] == "Failed" and a.get("error"):
            line += f"  error: {a['error'].get('message', '')[:300]}"
        return line
    if event.kind == "run":
        return f"{clock} run {data['run_id']} is {data['status']}"
    if event.kind == "child":
        r = data["run"]
        return f"{clock} child run {r['run_id']} of {r['pipeline']} is {r['status']}"
    if event.kind == "progress":
        return (f"{clock} progress: {data['status']}, {event.elapsed:.1f}s elapsed, {data['done']} activity runs "
                f"done, {data['running']} running")
    if event.kind == "end":
        r = data["run"]
        return f"{clock} run {r['run_id']} ended {r['status']}" + (f": {r['message']}" if r.get("message") else "")
    return None
