"""ScheduleTrigger in the runtime: due occurrences fire once with @trigger().scheduledTime / startTime, a
downtime fires only the latest missed occurrence, stopped triggers fire nothing, broken ones are refused."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from local_runtime.schedule import ScheduleError, format_time
from local_runtime.triggers import poll_once, start_trigger, stop_trigger
from tests.local_runtime.builders import FACTORY, deploy, environment, pipeline, set_var


def schedule_trigger(recurrence: dict) -> dict:
    return {"properties": {"type": "ScheduleTrigger", "typeProperties": {"recurrence": recurrence}, "pipelines": [{
        "pipelineReference": {"referenceName": "P", "type": "PipelineReference"},
        "parameters": {"scheduled": "@trigger().scheduledTime", "started": "@trigger().startTime",
                       "day": "@formatDateTime(trigger().scheduledTime, 'yyyy-MM-dd')"}}]}}


EVERY_MINUTE = {"frequency": "Minute", "interval": 1, "startTime": "2024-01-01T00:00:00Z", "timeZone": "UTC"}


@pytest.fixture
def env(tmp_path):
    settings, store = environment(tmp_path)
    deploy(store, {("pipeline", "P"): pipeline([set_var("S", "x")], parameters={
        "scheduled": {"type": "String"}, "started": {"type": "String"}, "day": {"type": "String"}}),
        ("trigger", "EveryMinute"): schedule_trigger(EVERY_MINUTE),
        ("trigger", "Broken"): schedule_trigger({"frequency": "Day", "startTime": "2024-01-01T00:00:00",
                                                 "schedule": {"weekDays": ["Monday"]}})})
    return settings, store


def minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def test_a_due_occurrence_fires_once_with_its_scheduled_time(env):
    settings, store = env
    start_trigger(store, FACTORY, "EveryMinute")
    now = datetime.now(UTC) + timedelta(seconds=90)
    [run_id] = poll_once(store, settings, now)
    run = store.run(run_id)
    scheduled = format_time(minute_floor(now))
    assert run["invoked_by"] == "ScheduleTrigger"
    assert run["parameters"]["scheduled"] == scheduled and run["parameters"]["day"] == scheduled[:10]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", run["parameters"]["started"])  # when it fired
    assert run["trigger"]["scheduledTime"] == scheduled
    assert poll_once(store, settings, now) == []
    assert len(poll_once(store, settings, now + timedelta(minutes=1))) == 1


def test_nothing_fires_before_the_first_occurrence_after_the_start(env):
    settings, store = env
    start_trigger(store, FACTORY, "EveryMinute")
    started = datetime.fromisoformat(store.trigger_states(FACTORY)["EveryMinute"]["started_at"][:26] + "+00:00")
    assert poll_once(store, settings, started) == []
    assert poll_once(store, settings, minute_floor(started) + timedelta(seconds=59)) == []
    assert len(poll_once(store, settings, minute_floor(started) + timedelta(seconds=60))) == 1


def test_after_downtime_only_the_latest_missed_occurrence_fires(env, caplog):
    settings, store = env
    start_trigger(store, FACTORY, "EveryMinute")
    back = datetime.now(UTC) + timedelta(hours=3, seconds=30)  # three hours of missed minutes
    [run_id] = poll_once(store, settings, back)
    assert store.run(run_id)["parameters"]["scheduled"] == format_time(minute_floor(back))
    assert "firing only the latest" in caplog.text
    assert poll_once(store, settings, back) == []


def test_a_stopped_schedule_fires_nothing_and_does_not_catch_up_when_restarted(env):
    settings, store = env
    start_trigger(store, FACTORY, "EveryMinute")
    stop_trigger(store, FACTORY, "EveryMinute")
    assert poll_once(store, settings, datetime.now(UTC) + timedelta(minutes=5)) == []
    start_trigger(store, FACTORY, "EveryMinute")
    restarted = datetime.fromisoformat(store.trigger_states(FACTORY)["EveryMinute"]["started_at"][:26] + "+00:00")
    [run_id] = poll_once(store, settings, restarted + timedelta(seconds=61))
    assert store.run(run_id)["parameters"]["scheduled"] > format_time(restarted)


def test_a_broken_recurrence_cannot_be_started_and_is_reported_once_if_deployed_started(env, caplog):
    settings, store = env
    with pytest.raises(ScheduleError, match="a Day recurrence takes hours, minutes; remove schedule.weekDays"):
        start_trigger(store, FACTORY, "Broken")
    with store.transaction() as db:  # a deploy starts triggers without asking
        db.execute("INSERT INTO trigger_state VALUES (?,?,?,?)", [FACTORY, "Broken", "Started", "2024-01-01T00:00:00Z"])
    assert poll_once(store, settings) == [] and poll_once(store, settings) == []
    assert caplog.text.count("remove schedule.weekDays") == 1


def test_an_ended_schedule_fires_nothing(env):
    settings, store = env
    deploy(store, {("trigger", "Ended"): schedule_trigger({**EVERY_MINUTE, "endTime": "2024-01-02T00:00:00Z"})})
    start_trigger(store, FACTORY, "Ended")
    assert poll_once(store, settings, datetime.now(UTC) + timedelta(days=1)) == []
