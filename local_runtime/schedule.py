"""ScheduleTrigger recurrences as ADF computes them (learn.microsoft.com, "Create a trigger that runs a
pipeline on a schedule"): pure functions of the trigger's `recurrence` JSON, no clock, no I/O.

- Without a schedule, occurrences are startTime + n x interval. Minute and Hour step in absolute time; Day,
  Week and Month step on the wall clock of `timeZone` (a Windows id), so a daily 09:00 stays 09:00 across
  daylight-saving changes. Month keeps the start's day, or the month's last day when it is shorter.
- With a schedule, the recurrence counts periods (every `interval` days, weeks or months from the start's)
  and fires at the schedule's times inside each one, never before startTime. Missing minutes default to
  the start's minute; missing hours to every hour when minutes are given (`{"minutes": [15]}` runs at :15
  each hour) and to the start's hour otherwise (`{"weekDays": ["Tuesday"]}` runs at the start's time).
  weekDays need Week, monthDays and monthlyOccurrences need Month; scheduled times have zero seconds.
- Choices where the docs are silent: a week period begins on Sunday; a wall-clock time the clocks skip
  fires at the same offset after the jump (02:30 becomes 03:30), a repeated one fires once, the first time.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from local_runtime.errors import RuntimeErrorBase
from local_runtime.expressions.errors import EvaluationError
from local_runtime.expressions.timezones import resolve_zone

FREQUENCIES = {"minute": "Minute", "hour": "Hour", "day": "Day", "week": "Week", "month": "Month"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]  # date.weekday() order
MAX_PERIODS = 100_000  # how far a search looks before concluding the schedule never fires there
ALLOWED = {"Minute": set(), "Hour": {"minutes"}, "Day": {"minutes", "hours"},
           "Week": {"minutes", "hours", "weekDays"},
           "Month": {"minutes", "hours", "monthDays", "monthlyOccurrences"}}


class ScheduleError(RuntimeErrorBase):
    """A ScheduleTrigger recurrence the runtime cannot compute."""


@dataclass(frozen=True)
class Recurrence:
    frequency: str
    interval: int
    start: datetime              # aware UTC
    start_local: datetime        # naive wall clock in `zone`
    end: datetime | None         # aware UTC
    zone: tzinfo
    minutes: tuple[int, ...] | None = None
    hours: tuple[int, ...] | None = None
    week_days: tuple[int, ...] | None = None            # date.weekday() numbers
    month_days: tuple[int, ...] | None = None            # 1..31, or -1 (last) .. -31
    monthly_occurrences: tuple[tuple[int, int | None], ...] | None = None  # (weekday, nth or -nth or None)

    @property
    def scheduled(self) -> bool:
        return any(v is not None for v in (self.minutes, self.hours, self.week_days, self.month_days,
                                           self.monthly_occurrences))


# --- parsing ---------------------------------------------------------------------------------------------
def _to_utc(wall: datetime, zone: tzinfo) -> datetime:
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _parse_time(value: Any, zone: tzinfo, name: str) -> datetime:
    """A naive wall-clock time in `zone`; a value with Z or an offset is converted to it."""
    if not isinstance(value, str):
        raise ScheduleError(f"recurrence.{name} must be an ISO 8601 date-time string, found {value!r}")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # .NET writes 7 fractional digits
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(f"recurrence.{name} {value!r} is not an ISO 8601 date-time such as "
                            "'2024-01-31T09:00:00' (wall clock in timeZone) or '2024-01-31T09:00:00Z'") from None
    return _wall(moment, zone) if moment.tzinfo else moment


def _ints(schedule: dict, key: str, low: int, high: int, zero: bool = True) -> tuple[int, ...] | None:
    if key not in schedule or schedule[key] is None:
        return None
    values = schedule[key] if isinstance(schedule[key], list) else [schedule[key]]
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high or (v == 0 and not zero):
            raise ScheduleError(f"recurrence.schedule.{key} takes integers from {low} to {high}"
                                f"{'' if zero else ' except 0'}, found {v!r}")
    return tuple(sorted(set(values))) if values else None


def _weekday(value: Any, key: str) -> int:
    if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
        raise ScheduleError(f"recurrence.schedule.{key} takes day names Monday..Sunday, found {value!r}")
    return WEEKDAYS.index(value.strip().lower())


def parse_recurrence(recurrence: dict) -> Recurrence:
    """Validate a ScheduleTrigger's `typeProperties.recurrence`; errors name the field and what it takes."""
    if not isinstance(recurrence, dict):
        raise ScheduleError(f"a ScheduleTrigger needs typeProperties.recurrence, an object; found {recurrence!r}")
    frequency = FREQUENCIES.get(str(recurrence.get("frequency", "")).lower())
    if frequency is None:
        raise ScheduleError(f"recurrence.frequency must be one of {', '.join(FREQUENCIES.values())}, "
                            f"found {recurrence.get('frequency')!r}")
    interval = recurrence.get("interval", 1)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise ScheduleError(f"recurrence.interval must be a positive integer, found {interval!r}")
    try:
        zone, _ = resolve_zone(recurrence.get("timeZone") or "UTC")
    except EvaluationError as exc:
        raise ScheduleError(f"recurrence.timeZone: {exc}") from None
    if "startTime" not in recurrence:
        raise ScheduleError("recurrence.startTime is required (the first occurrence, or no sooner than it)")
    start_local = _parse_time(recurrence["startTime"], zone, "startTime")
    start = _to_utc(start_local, zone)
    end = _to_utc(_parse_time(recurrence["endTime"], zone, "endTime"), zone) if recurrence.get("endTime") else None
    if end is not None and end <= start:
        raise ScheduleError(f"recurrence.endTime {recurrence['endTime']!r} must be after startTime "
                            f"{recurrence['startTime']!r}")
    schedule = recurrence.get("schedule") or {}
    given = {k for k, v in schedule.items() if v not in (None, [])}
    extra = given - ALLOWED[frequency]
    if extra:
        takes = ", ".join(sorted(ALLOWED[frequency])) or "no schedule"
        raise ScheduleError(f"a {frequency} recurrence takes {takes}; remove schedule.{', schedule.'.join(sorted(extra))}"
                            " or change the frequency (weekDays need Week, monthDays and monthlyOccurrences Month)")
    occurrences = None
    if schedule.get("monthlyOccurrences"):
        occurrences = []
        for item in schedule["monthlyOccurrences"]:
            nth = item.get("occurrence") if isinstance(item, dict) else None
            if nth is not None and (not isinstance(nth, int) or nth == 0 or not -5 <= nth <= 5):
                raise ScheduleError(f"recurrence.schedule.monthlyOccurrences occurrence takes 1..5 or -1..-5, found {nth!r}")
            occurrences.append((_weekday(item.get("day") if isinstance(item, dict) else item,
                                         "monthlyOccurrences day"), nth))
        occurrences = tuple(occurrences)
    week_days = schedule.get("weekDays")
    if isinstance(week_days, str):
        week_days = [week_days]
    return Recurrence(
        frequency, interval, start, start_local, end, zone,
        minutes=_ints(schedule, "minutes", 0, 59), hours=_ints(schedule, "hours", 0, 23),
        week_days=tuple(sorted({_weekday(d, "weekDays") for d in week_days})) if week_days else None,
        month_days=_ints(schedule, "monthDays", -31, 31, zero=False), monthly_occurrences=occurrences)


# --- periods ---------------------------------------------------------------------------------------------
def _month_number(moment: datetime | date) -> int:
    return moment.year * 12 + moment.month - 1


def _week_start(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)  # Sunday


def _hour_base(rec: Recurrence) -> datetime:
    return _to_utc(rec.start_local.replace(minute=0, second=0, microsecond=0), rec.zone)


def _step(rec: Recurrence) -> timedelta:
    return timedelta(minutes=rec.interval) if rec.frequency == "Minute" else timedelta(hours=rec.interval)


def _period_index(rec: Recurrence, instant: datetime) -> int:
    """The period (0 = the start's) that contains `instant`; negative before the start's."""
    if rec.frequency in ("Minute", "Hour"):
        base = _hour_base(rec) if rec.scheduled else rec.start
        return (instant - base) // _step(rec)
    wall = _wall(instant, rec.zone).date()
    if rec.frequency == "Day":
        return (wall - rec.start_local.date()).days // rec.interval
    if rec.frequency == "Week":
        return (_week_start(wall) - _week_start(rec.start_local.date())).days // 7 // rec.interval
    return (_month_number(wall) - _month_number(rec.start_local)) // rec.interval


def _period_start(rec: Recurrence, k: int) -> datetime:
    if rec.frequency in ("Minute", "Hour"):
        return (_hour_base(rec) if rec.scheduled else rec.start) + k * _step(rec)
    if rec.frequency == "Day":
        day = rec.start_local.date() + timedelta(days=k * rec.interval)
    elif rec.frequency == "Week":
        day = _week_start(rec.start_local.date()) + timedelta(weeks=k * rec.interval)
    else:
        year, month = divmod(_month_number(rec.start_local) + k * rec.interval, 12)
        day = date(year, month + 1, 1)
    return _to_utc(datetime.combine(day, time()), rec.zone)


def _month_days(rec: Recurrence, year: int, month: int) -> set[int]:
    last = calendar.monthrange(year, month)[1]
    days = {d if d > 0 else last + 1 + d for d in rec.month_days or () if abs(d) <= last}
    for weekday, nth in rec.monthly_occurrences or ():
        matching = [d for d in range(1, last + 1) if date(year, month, d).weekday() == weekday]
        if nth is None:
            days.update(matching)
        elif abs(nth) <= len(matching):
            days.add(matching[nth - 1] if nth > 0 else matching[nth])
    if rec.month_days is None and rec.monthly_occurrences is None and rec.start_local.day <= last:
        days.add(rec.start_local.day)
    return days


def _candidates(rec: Recurrence, k: int) -> list[datetime]:
    """The occurrences period k could hold (before the startTime / endTime cut), sorted."""
    start = rec.start_local
    if not rec.scheduled:
        if rec.frequency in ("Minute", "Hour"):
            return [rec.start + k * _step(rec)]
        if rec.frequency in ("Day", "Week"):
            return [_to_utc(start + timedelta(days=k * rec.interval * (7 if rec.frequency == "Week" else 1)), rec.zone)]
        year, month = divmod(_month_number(start) + k * rec.interval, 12)
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        return [_to_utc(start.replace(year=year, month=month + 1, day=day), rec.zone)]
    minutes = rec.minutes or (start.minute,)
    if rec.frequency == "Hour":
        return [_period_start(rec, k) + timedelta(minutes=m) for m in minutes]
    hours = rec.hours or (tuple(range(24)) if rec.minutes else (start.hour,))
    first = _wall(_period_start(rec, k), rec.zone).date()
    if rec.frequency == "Day":
        days = [first]
    elif rec.frequency == "Week":
        days = [first + timedelta(days=(wd + 1) % 7) for wd in (rec.week_days or (start.weekday(),))]
    else:
        days = [first.replace(day=d) for d in sorted(_month_days(rec, first.year, first.month))]
    return sorted({_to_utc(datetime.combine(d, time(h, m)), rec.zone) for d in days for h in hours for m in minutes})


# --- queries ---------------------------------------------------------------------------------------------
def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _recurrence(recurrence: dict | Recurrence) -> Recurrence:
    return recurrence if isinstance(recurrence, Recurrence) else parse_recurrence(recurrence)


def next_occurrences(recurrence: dict | Recurrence, after: datetime, count: int) -> list[datetime]:
    """The first `count` occurrences strictly after `after` (naive means UTC), as aware UTC datetimes;
    fewer when endTime comes first."""
    rec, after = _recurrence(recurrence), _aware(after)
    found: list[datetime] = []
    first = max(0, _period_index(rec, max(after, rec.start)))
    for k in range(first, first + MAX_PERIODS):
        if len(found) >= count or (rec.end is not None and _period_start(rec, k) > rec.end):
            break
        found += [c for c in _candidates(rec, k)
                  if c > after and c >= rec.start and (rec.end is None or c <= rec.end)][:count - len(found)]
    return found


def latest_occurrence(recurrence: dict | Recurrence, after: datetime, until: datetime) -> datetime | None:
    """The last occurrence in (after, until], or None: what fires after downtime instead of every missed one."""
    rec, after, until = _recurrence(recurrence), _aware(after), _aware(until)
    if rec.end is not None:
        until = min(until, rec.end)
    if until < rec.start or until <= after:
        return None
    low = max(0, _period_index(rec, max(after, rec.start)))
    high = _period_index(rec, until)
    for k in range(high, max(low, high - MAX_PERIODS) - 1, -1):
        due = [c for c in _candidates(rec, k) if after < c <= until and c >= rec.start]
        if due:
            return due[-1]
    return None


def format_time(moment: datetime) -> str:
    """`@trigger().scheduledTime`'s shape: UTC, second precision, Z."""
    return _aware(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
