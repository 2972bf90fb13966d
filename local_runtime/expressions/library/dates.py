"""Date functions: utcNow, formatDateTime, addDays, addHours, addMinutes, addSeconds, addToTime,
subtractFromTime, getFutureTime, getPastTime, startOfDay, startOfHour, startOfMonth, dayOfWeek,
dayOfMonth, dayOfYear, ticks, convertTimeZone, convertFromUtc, convertToUtc.

Timestamps are strings; results are strings in the optional .NET ``format`` (default ``'o'``, e.g.
``2018-03-15T13:00:00.0000000Z``). "Now" comes from the context's clock.
"""
from __future__ import annotations

from datetime import UTC

from ..dotnet_datetime import TICKS_PER_DAY, TICKS_PER_SECOND, Timestamp, format_timestamp, parse_timestamp
from ..errors import EvaluationError
from ..functions import function
from ..timezones import utc_to_zone, zone_to_utc

_UNIT_TICKS = {"second": TICKS_PER_SECOND, "minute": 60 * TICKS_PER_SECOND, "hour": 3600 * TICKS_PER_SECOND,
               "day": TICKS_PER_DAY, "week": 7 * TICKS_PER_DAY}
_UNIT_MONTHS = {"month": 1, "year": 12}


def _now(context) -> Timestamp:
    moment = context.clock()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Timestamp.from_datetime(moment)


def _shift(stamp: Timestamp, interval: int, unit: str) -> Timestamp:
    key = unit.strip().lower()
    if key in _UNIT_TICKS:
        return stamp.with_ticks(stamp.ticks + interval * _UNIT_TICKS[key])
    if key in _UNIT_MONTHS:
        return stamp.add_months(interval * _UNIT_MONTHS[key])
    raise EvaluationError(f"'{unit}' is not a time unit: use Second, Minute, Hour, Day, Week, Month or Year")


@function("utcNow", "format: string?", context=True)
def utc_now(context, fmt=None):
    return format_timestamp(_now(context), fmt)


@function("formatDateTime", "timestamp: string", "format: string?")
def format_date_time(timestamp, fmt=None):
    return format_timestamp(parse_timestamp(timestamp), fmt)


def _adder(name: str, unit: str):
    @function(name, "timestamp: string", f"{unit}s: integer", "format: string?")
    def implementation(timestamp, amount, fmt=None):
        return format_timestamp(_shift(parse_timestamp(timestamp), amount, unit), fmt)

    return implementation


add_days = _adder("addDays", "day")
add_hours = _adder("addHours", "hour")
add_minutes = _adder("addMinutes", "minute")
add_seconds = _adder("addSeconds", "second")


@function("addToTime", "timestamp: string", "interval: integer", "timeUnit: string", "format: string?")
def add_to_time(timestamp, interval, unit, fmt=None):
    return format_timestamp(_shift(parse_timestamp(timestamp), interval, unit), fmt)


@function("subtractFromTime", "timestamp: string", "interval: integer", "timeUnit: string", "format: string?")
def subtract_from_time(timestamp, interval, unit, fmt=None):
    return format_timestamp(_shift(parse_timestamp(timestamp), -interval, unit), fmt)


@function("getFutureTime", "interval: integer", "timeUnit: string", "format: string?", context=True)
def get_future_time(context, interval, unit, fmt=None):
    return format_timestamp(_shift(_now(context), interval, unit), fmt)


@function("getPastTime", "interval: integer", "timeUnit: string", "format: string?", context=True)
def get_past_time(context, interval, unit, fmt=None):
    return format_timestamp(_shift(_now(context), -interval, unit), fmt)


@function("startOfDay", "timestamp: string", "format: string?")
def start_of_day(timestamp, fmt=None):
    stamp = parse_timestamp(timestamp)
    return format_timestamp(stamp.with_ticks(stamp.ticks - stamp.ticks % TICKS_PER_DAY), fmt)


@function("startOfHour", "timestamp: string", "format: string?")
def start_of_hour(timestamp, fmt=None):
    stamp = parse_timestamp(timestamp)
    return format_timestamp(stamp.with_ticks(stamp.ticks - stamp.ticks % (3600 * TICKS_PER_SECOND)), fmt)


@function("startOfMonth", "timestamp: string", "format: string?")
def start_of_month(timestamp, fmt=None):
    stamp = parse_timestamp(timestamp)
    day = stamp.to_datetime().day
    midnight = stamp.ticks - stamp.ticks % TICKS_PER_DAY
    return format_timestamp(stamp.with_ticks(midnight - (day - 1) * TICKS_PER_DAY), fmt)


@function("dayOfWeek", "timestamp: string")
def day_of_week(timestamp):
    return (parse_timestamp(timestamp).to_datetime().weekday() + 1) % 7  # Sunday is 0


@function("dayOfMonth", "timestamp: string")
def day_of_month(timestamp):
    return parse_timestamp(timestamp).to_datetime().day


@function("dayOfYear", "timestamp: string")
def day_of_year(timestamp):
    return parse_timestamp(timestamp).to_datetime().timetuple().tm_yday


@function("ticks", "timestamp: string")
def ticks(timestamp):
    return parse_timestamp(timestamp).ticks


@function("convertFromUtc", "timestamp: string", "destinationTimeZone: string", "format: string?")
def convert_from_utc(timestamp, destination, fmt=None):
    return format_timestamp(utc_to_zone(parse_timestamp(timestamp), destination), fmt)


@function("convertToUtc", "timestamp: string", "sourceTimeZone: string", "format: string?")
def convert_to_utc(timestamp, source, fmt=None):
    return format_timestamp(zone_to_utc(parse_timestamp(timestamp), source), fmt)


@function("convertTimeZone", "timestamp: string", "sourceTimeZone: string", "destinationTimeZone: string",
          "format: string?")
def convert_time_zone(timestamp, source, destination, fmt=None):
    return format_timestamp(utc_to_zone(zone_to_utc(parse_timestamp(timestamp), source), destination), fmt)
