"""Human-readable views of runs: a table of activity runs with durations and a text timeline."""
from __future__ import annotations

from datetime import datetime


def _time(text: str | None) -> datetime | None:
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f") if text else None


def duration(start: str | None, end: str | None) -> float | None:
    a, b = _time(start), _time(end)
    return (b - a).total_seconds() if a and b else None


def format_run(run: dict, activities: list[dict]) -> str:
    took = duration(run["run_start"], run["run_end"])
    lines = [f"run {run['run_id']}  pipeline {run['pipeline']}  factory {run['factory']}",
             f"  status {run['status']}  invoked by {run['invoked_by']}  queued {run['queued_at']}"
             + (f"  took {took:.1f}s" if took is not None else ""),
             f"  parameters {run['parameters']}"]
    if run.get("message"):
        lines.append(f"  message: {run['message']}")
    if activities:
        origin = _time(activities[0]["start"])
        span = max((duration(activities[0]["start"], a["end"] or a["start"]) or 0) for a in activities) or 1.0
        lines.append(f"  {'activity':<24}{'type':<20}{'status':<11}{'start':>8}{'took':>8}  timeline")
        for a in activities:
            offset = (_time(a["start"]) - origin).total_seconds()
            took_a = duration(a["start"], a["end"])
            width = 30
            left = int(offset / span * width)
            bar = " " * left + "#" * max(1, int((took_a or 0) / span * width))
            lines.append(f"  {a['name']:<24}{a['type']:<20}{a['status']:<11}{offset:>7.1f}s"
                         f"{(f'{took_a:.1f}s' if took_a is not None else '-'):>8}  |{bar:<{width}}|")
            if a["status"] == "Failed" and a.get("error"):
                lines.append(f"      error: {a['error'].get('message', '')[:400]}")
    return "\n".join(lines)
