"""ScheduleTrigger recurrence math: next_occurrences and latest_occurrence, pure. The cases follow the
examples of ADF's "Create a trigger that runs a pipeline on a schedule" page, plus time zones, daylight
saving, month ends, intervals with schedules and validation messages."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local_runtime.schedule import ScheduleError, format_time, latest_occurrence, next_occurrences, parse_recurrence


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def occurrences(recurrence: dict, after: str, count: int) -> list[str]:
    return [format_time(t) for t in next_occurrences(recurrence, utc(after), count)]


def rec(frequency: str, start: str, interval: int = 1, **extra) -> dict:
    return {"frequency": frequency, "interval": interval, "startTime": start, **extra}


CASES = [
    # (what, recurrence, after, expected next occurrences)
    ("docs: start in the past, every 2 days: the first future instance from the start",
     rec("Day", "2017-04-07T14:00:00Z", 2), "2017-04-08T13:00:00",
     ["2017-04-09T14:00:00Z", "2017-04-11T14:00:00Z", "2017-04-13T14:00:00Z"]),
    ("docs: same first run for an earlier start on the same grid",
     rec("Day", "2017-04-01T14:00:00Z", 2), "2017-04-08T13:00:00", ["2017-04-09T14:00:00Z"]),
    ("docs: every 15 minutes until endTime (inclusive)",
     rec("Minute", "2017-12-08T00:00:00", 15, endTime="2017-12-08T01:00:00"), "2017-12-08T00:00:00",
     ["2017-12-08T00:15:00Z", "2017-12-08T00:30:00Z", "2017-12-08T00:45:00Z", "2017-12-08T01:00:00Z"]),
    ("start in the future: the start itself is the first occurrence",
     rec("Hour", "2030-01-01T10:30:00", 6), "2029-12-31T00:00:00", ["2030-01-01T10:30:00Z", "2030-01-01T16:30:00Z"]),
    ("docs: {hours: [5]} runs at 5 AM every day, at the start's minute",
     rec("Day", "2024-01-01T00:20:00", schedule={"hours": [5]}), "2024-01-01T00:00:00",
     ["2024-01-01T05:20:00Z", "2024-01-02T05:20:00Z"]),
    ("docs: minutes [15], hours [5, 17]",
     rec("Day", "2024-01-01T00:00:00", schedule={"minutes": [15], "hours": [5, 17]}), "2024-01-01T00:00:00",
     ["2024-01-01T05:15:00Z", "2024-01-01T17:15:00Z", "2024-01-02T05:15:00Z"]),
    ("docs: minutes alone run every hour at those minutes",
     rec("Day", "2024-01-01T10:07:00", schedule={"minutes": [0, 30]}), "2024-01-01T10:07:00",
     ["2024-01-01T10:30:00Z", "2024-01-01T11:00:00Z", "2024-01-01T11:30:00Z"]),
    ("docs: 5 PM on Monday, Wednesday and Friday at :15 and :45 (2024-01-01 is a Monday)",
     rec("Week", "2024-01-01T00:00:00", schedule={"hours": [17], "minutes": [15, 45],
                                                  "weekDays": ["Monday", "wednesday", "FRIDAY"]}),
     "2024-01-01T17:20:00", ["2024-01-01T17:45:00Z", "2024-01-03T17:15:00Z", "2024-01-03T17:45:00Z",
                             "2024-01-05T17:15:00Z", "2024-01-05T17:45:00Z", "2024-01-08T17:15:00Z"]),
    ("docs: weekDays alone run at the start's time",
     rec("Week", "2024-01-01T09:30:00", schedule={"weekDays": ["Tuesday", "Thursday"]}), "2024-01-01T00:00:00",
     ["2024-01-02T09:30:00Z", "2024-01-04T09:30:00Z", "2024-01-09T09:30:00Z"]),
    ("every 2 weeks on Monday and Sunday: weeks begin on Sunday",
     rec("Week", "2024-01-03T08:00:00", 2, schedule={"weekDays": ["Monday", "Sunday"]}), "2024-01-01T00:00:00",
     ["2024-01-14T08:00:00Z", "2024-01-15T08:00:00Z", "2024-01-28T08:00:00Z"]),
    ("docs: 6 AM on the first and last day of every month",
     rec("Month", "2024-01-01T00:00:00", schedule={"minutes": [0], "hours": [6], "monthDays": [1, -1]}),
     "2024-01-01T00:00:00", ["2024-01-01T06:00:00Z", "2024-01-31T06:00:00Z", "2024-02-01T06:00:00Z",
                             "2024-02-29T06:00:00Z"]),
    ("monthDays [31] skips the months without one",
     rec("Month", "2024-01-01T06:00:00", schedule={"monthDays": [31]}), "2024-01-01T00:00:00",
     ["2024-01-31T06:00:00Z", "2024-03-31T06:00:00Z", "2024-05-31T06:00:00Z"]),
    ("docs: first and last Friday of every month at 5:15 AM",
     rec("Month", "2024-01-01T00:00:00", schedule={"minutes": [15], "hours": [5], "monthlyOccurrences": [
         {"day": "friday", "occurrence": 1}, {"day": "friday", "occurrence": -1}]}), "2024-01-01T00:00:00",
     ["2024-01-05T05:15:00Z", "2024-01-26T05:15:00Z", "2024-02-02T05:15:00Z", "2024-02-23T05:15:00Z"]),
    ("docs: the fifth Friday only in months that have one",
     rec("Month", "2024-01-01T05:00:00", schedule={"monthlyOccurrences": [{"day": "friday", "occurrence": 5}]}),
     "2024-01-01T00:00:00", ["2024-03-29T05:00:00Z", "2024-05-31T05:00:00Z"]),
    ("monthly without a schedule keeps the start's day, or the month's last day",
     rec("Month", "2024-01-31T10:00:00"), "2024-01-01T00:00:00",
     ["2024-01-31T10:00:00Z", "2024-02-29T10:00:00Z", "2024-03-31T10:00:00Z", "2024-04-30T10:00:00Z"]),
    ("every 3 months",
     rec("Month", "2024-11-15T00:00:00", 3), "2024-11-15T00:00:00", ["2025-02-15T00:00:00Z", "2025-05-15T00:00:00Z"]),
    ("every 2 days at 09:00 and 21:00: the interval counts days from the start's",
     rec("Day", "2024-01-01T12:00:00", 2, schedule={"hours": [9, 21], "minutes": [0]}), "2024-01-01T00:00:00",
     ["2024-01-01T21:00:00Z", "2024-01-03T09:00:00Z", "2024-01-03T21:00:00Z"]),
    ("every 2 hours at :00 and :30",
     rec("Hour", "2024-01-01T10:25:00", 2, schedule={"minutes": [0, 30]}), "2024-01-01T00:00:00",
     ["2024-01-01T10:30:00Z", "2024-01-01T12:00:00Z", "2024-01-01T12:30:00Z", "2024-01-01T14:00:00Z"]),
    ("a wall-clock start in a Windows time zone",
     rec("Day", "2024-01-10T09:00:00", timeZone="W. Europe Standard Time"), "2024-01-10T00:00:00",
     ["2024-01-10T08:00:00Z", "2024-01-11T08:00:00Z"]),
    ("daily 09:00 Berlin stays 09:00 across the spring change (UTC moves an hour)",
     rec("Day", "2024-03-29T09:00:00", timeZone="W. Europe Standard Time"), "2024-03-29T00:00:00",
     ["2024-03-29T08:00:00Z", "2024-03-30T08:00:00Z", "2024-03-31T07:00:00Z", "2024-04-01T07:00:00Z"]),
    ("hourly steps in absolute time across the autumn change",
     rec("Hour", "2024-10-27T00:00:00", timeZone="W. Europe Standard Time"), "2024-10-26T22:00:00",
     ["2024-10-26T23:00:00Z", "2024-10-27T00:00:00Z", "2024-10-27T01:00:00Z", "2024-10-27T02:00:00Z"]),
    ("02:30 does not exist on the spring day: it fires at 03:30 local, after the jump",
     rec("Day", "2024-03-30T02:30:00", timeZone="W. Europe Standard Time", schedule={"hours": [2], "minutes": [30]}),
     "2024-03-30T00:00:00", ["2024-03-30T01:30:00Z", "2024-03-31T01:30:00Z", "2024-04-01T00:30:00Z"]),
    ("02:30 happens twice on the autumn day: it fires once, the first time",
     rec("Day", "2024-10-26T02:30:00", timeZone="W. Europe Standard Time"), "2024-10-26T00:00:00",
     ["2024-10-26T00:30:00Z", "2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]),
    ("a start with an offset is converted to the zone's wall clock",
     rec("Day", "2024-01-10T09:00:00+01:00", timeZone="UTC"), "2024-01-10T00:00:00", ["2024-01-10T08:00:00Z"]),
    ("ends at endTime",
     rec("Day", "2024-01-01T00:00:00", endTime="2024-01-03T00:00:00"), "2023-12-31T00:00:00",
     ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]),
    ("far from the start: jumps to the period, no walk from 2000",
     rec("Minute", "2000-01-01T00:00:00", 7), "2026-06-01T12:00:00", ["2026-06-01T12:05:00Z", "2026-06-01T12:12:00Z"]),
]


@pytest.mark.parametrize("recurrence, after, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_next_occurrences(recurrence, after, expected):
    assert occurrences(recurrence, after, len(expected)) == expected


def test_next_occurrences_are_strictly_after_and_count_limited():
    daily = rec("Day", "2024-01-01T09:00:00")
    assert occurrences(daily, "2024-01-02T09:00:00", 1) == ["2024-01-03T09:00:00Z"]
    assert occurrences(daily, "2024-01-02T08:59:59", 1) == ["2024-01-02T09:00:00Z"]
    assert next_occurrences(daily, utc("2024-01-01T00:00:00"), 0) == []
    assert next_occurrences(rec("Day", "2024-01-01T00:00:00", endTime="2024-01-02T00:00:00"),
                            utc("2024-01-05T00:00:00"), 3) == []


def test_next_occurrences_take_aware_times_in_any_zone():
    from zoneinfo import ZoneInfo

    after = datetime(2024, 1, 2, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 09:00 UTC
    assert format_time(next_occurrences(rec("Day", "2024-01-01T09:00:00"), after, 1)[0]) == "2024-01-03T09:00:00Z"


def test_latest_occurrence_is_the_one_to_fire_after_downtime():
    every_minute = rec("Minute", "2024-01-01T00:00:00")
    assert format_time(latest_occurrence(every_minute, utc("2024-01-01T00:00:30"), utc("2024-01-08T12:34:56"))) \
        == "2024-01-08T12:34:00Z"
    assert latest_occurrence(every_minute, utc("2024-01-08T12:34:00"), utc("2024-01-08T12:34:56")) is None
    weekly = rec("Week", "2024-01-01T00:00:00", schedule={"weekDays": ["Friday"], "hours": [6], "minutes": [0]})
    assert format_time(latest_occurrence(weekly, utc("2024-01-01T00:00:00"), utc("2024-02-01T00:00:00"))) \
        == "2024-01-26T06:00:00Z"
    ended = rec("Day", "2024-01-01T00:00:00", endTime="2024-01-05T12:00:00")
    assert format_time(latest_occurrence(ended, utc("2024-01-01T00:00:00"), utc("2025-01-01T00:00:00"))) \
        == "2024-01-05T00:00:00Z"
    assert latest_occurrence(rec("Day", "2030-01-01T00:00:00"), utc("2024-01-01T00:00:00"),
                             utc("2025-01-01T00:00:00")) is None


@pytest.mark.parametrize("recurrence, message", [
    ({"frequency": "Fortnight", "startTime": "2024-01-01T00:00:00"}, "frequency must be one of Minute, Hour"),
    (rec("Day", "2024-01-01T00:00:00", 0), "interval must be a positive integer, found 0"),
    ({"frequency": "Day"}, "startTime is required"),
    (rec("Day", "yesterday"), "'yesterday' is not an ISO 8601 date-time"),
    (rec("Day", "2024-01-02T00:00:00", endTime="2024-01-01T00:00:00"), "endTime .* must be after startTime"),
    (rec("Day", "2024-01-01T00:00:00", timeZone="Europe/Berlin"), "not a Windows time zone id"),
    (rec("Day", "2024-01-01T00:00:00", schedule={"weekDays": ["Monday"]}), "a Day recurrence takes hours, minutes; "
                                                                            "remove schedule.weekDays"),
    (rec("Minute", "2024-01-01T00:00:00", schedule={"minutes": [5]}), "a Minute recurrence takes no schedule"),
    (rec("Week", "2024-01-01T00:00:00", schedule={"monthDays": [1]}), "monthDays and monthlyOccurrences Month"),
    (rec("Day", "2024-01-01T00:00:00", schedule={"hours": [24]}), "hours takes integers from 0 to 23, found 24"),
    (rec("Month", "2024-01-01T00:00:00", schedule={"monthDays": [0]}), "monthDays takes integers from -31 to 31 except 0"),
    (rec("Week", "2024-01-01T00:00:00", schedule={"weekDays": ["Funday"]}), "day names Monday..Sunday, found 'Funday'"),
])
def test_invalid_recurrences_say_what_is_expected(recurrence, message):
    with pytest.raises(ScheduleError, match=message):
        parse_recurrence(recurrence)
