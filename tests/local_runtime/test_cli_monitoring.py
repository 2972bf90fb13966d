"""The monitoring commands (`runs` with filters, `runs <id>`, `watch`, `cancel`, `rerun`) through
`local_runtime.cli.main` against a tmp store (LOCAL_HOME), with the real engine executing the runs on a
background executor as the service would; each command also in its --json form."""
from __future__ import annotations

import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from local_runtime import monitor
from local_runtime.cli import main
from local_runtime.runs import execute, rerun, start_run
from tests.local_runtime.builders import activity, deploy, environment, fail, pipeline, set_var, wait_for

SVG = "{http://www.w3.org/2000/svg}"


def expr(text: str) -> dict:
    return {"value": text, "type": "Expression"}


def wait(name: str, seconds: int = 1, depends=None) -> dict:
    return activity(name, "Wait", depends, waitTimeInSeconds=seconds)


NESTED = pipeline([
    activity("Loop", "ForEach", items=expr("@createArray('a', 'b')"), isSequential=True,
             activities=[set_var("Each", "@toUpper(item())")]),
    activity("Branch", "IfCondition", expression=expr("@equals(pipeline().parameters.ok, 'yes')"),
             depends={"Loop": ["Succeeded"]},
             ifTrueActivities=[set_var("Fine", "fine")], ifFalseActivities=[fail("Broken", "branch broke")]),
    activity("Child", "ExecutePipeline", pipeline={"referenceName": "Small", "type": "PipelineReference"},
             waitOnCompletion=True),
], parameters={"ok": {"type": "string", "defaultValue": "yes"}})
OBJECTS = {
    ("pipeline", "Nested"): NESTED,
    ("pipeline", "Small"): pipeline([set_var("One", "1")]),
    ("pipeline", "Slow"): pipeline([activity("Loop", "ForEach", items=expr("@range(0, 2)"),
                                             activities=[wait("Nap", 30)])]),
    ("pipeline", "Steps"): pipeline([wait("First", 1), set_var("Second", "2", depends={"First": ["Succeeded"]})]),
    ("pipeline", "Broken"): pipeline([set_var("Ok", "ok"), fail("Bad", "bad input", depends={"Ok": ["Succeeded"]})]),
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """LOCAL_HOME points the CLI at a tmp store with the pipelines above deployed."""
    monkeypatch.setenv("LOCAL_HOME", str(tmp_path / "home"))
    settings, store = environment(tmp_path)
    deploy(store, OBJECTS)
    return settings, store


@contextmanager
def executor(settings, store, delay: float = 0.0):
    """What the service's executor does: claim queued runs and execute them (after `delay` seconds), until the
    block ends."""
    stop = threading.Event()

    def loop() -> None:
        stop.wait(delay)
        while not stop.is_set():
            run = store.claim_next_run()
            if run is None:
                stop.wait(0.05)
            else:
                threading.Thread(target=execute, args=(store, settings, run), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def finished(settings, store, pipeline_name: str, parameters: dict | None = None) -> str:
    run_id = start_run(store, pipeline_name, parameters or {})
    with executor(settings, store):
        wait_for(store, run_id, {"Succeeded", "Failed", "Cancelled"})
    return run_id


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys, *args: str):
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


# --- runs: the list and its filters -----------------------------------------------------------------------
def test_parse_time_reads_iso_and_relative_times():
    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    assert monitor.parse_time("30m", now) == now - timedelta(minutes=30)
    assert monitor.parse_time("1h30m", now) == now - timedelta(minutes=90)
    assert monitor.parse_time("2d", now) == now - timedelta(days=2)
    assert monitor.parse_time("2024-05-01", now) == datetime(2024, 5, 1, tzinfo=UTC)
    assert monitor.parse_time("2024-05-01T10:00:00+02:00", now) == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert monitor.parse_time("2024-05-01T10:00:00.1234567Z", now).microsecond == 123456
    with pytest.raises(monitor.MonitorError, match=r"'yesterday' is neither ISO 8601 .* nor relative"):
        monitor.parse_time("yesterday", now)


def test_runs_lists_newest_first_and_filters_by_pipeline_status_time_and_limit(env, capsys):
    settings, store = env
    broken = finished(settings, store, "Broken")
    old = finished(settings, store, "Small")
    two_days_ago = monitor.stamp(datetime.now(UTC) - timedelta(days=2))
    with store.connect() as db:  # as if it had run two days ago
        db.execute("UPDATE pipeline_runs SET queued_at=? WHERE run_id=?", [two_days_ago, old])
    steps = finished(settings, store, "Steps")
    queued = start_run(store, "Small", {})

    def ids(*args: str) -> list[str]:
        return [r["run_id"] for r in cli_json(capsys, "runs", *args)]

    assert ids() == [queued, steps, broken, old]
    assert ids("--pipeline", "small") == [queued, old]  # pipeline names are case-insensitive, as in ADF
    assert ids("--status", "failed") == [broken]
    assert ids("--status", "Failed,Queued") == ids("--status", "Failed", "--status", "Queued") == [queued, broken]
    assert ids("--since", "1h") == [queued, steps, broken]
    assert ids("--until", "1d") == [old]
    assert ids("--since", two_days_ago[:10], "--pipeline", "Small", "--status", "Succeeded") == [old]
    assert ids("--limit", "2") == [queued, steps]
    listed = cli_json(capsys, "runs", "--pipeline", "Steps")[0]
    assert listed["status"] == "Succeeded" and listed["duration_seconds"] >= 1.0

    code, out, _ = cli(capsys, "runs", "--status", "Failed")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["run", "id", "pipeline"]
    assert lines[1].split()[:3] == [broken, "Broken", "Failed"] and len(lines) == 2
    assert cli(capsys, "runs", "--status", "Cancelled", "--since", "1h")[1].startswith(
        "no runs (status Cancelled, queued since ")


@pytest.mark.parametrize("args, message", [
    (["--status", "Done"], "status 'Done' is not a pipeline run status; one of Queued, InProgress, Succeeded"),
    (["--since", "yesterday"], "time 'yesterday' is neither ISO 8601"),
    (["--since", "1h", "--until", "2h"], "--since .* must be before --until"),
    (["--limit", "0"], "--limit must be at least 1, got 0"),
    (["some-run", "--status", "Failed"], "filter the run list; leave out the run id"),
    (["--svg", "x.svg"], "--svg draws one run's timeline: give the run id too"),
    (["nope"], "no run nope; `python -m local_runtime runs` lists them"),
])
def test_runs_rejects_bad_filters_with_a_message(env, capsys, args, message):
    code, out, err = cli(capsys, "runs", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and re.search(message, err), err


# --- runs <id>: one run in detail ---------------------------------------------------------------------------
def test_run_detail_shows_nested_activities_io_errors_child_runs_and_reruns(env, capsys, tmp_path):
    settings, store = env
    run_id = finished(settings, store, "Nested", {"ok": "no"})
    again = monitor.run_detail(store, run_id)  # no rerun yet
    assert again["reruns"] == []
    rerun_id = rerun(store, run_id, from_failed=False)

    detail = cli_json(capsys, "runs", run_id)
    assert detail["run_id"] == run_id and detail["status"] == "Failed" and detail["duration_seconds"] > 0
    tree = [(a["depth"], a["name"], a["status"]) for a in detail["activities"]]
    assert sorted(tree) == sorted([(0, "Loop", "Succeeded"), (1, "Each", "Succeeded"), (1, "Each", "Succeeded"),
                                   (0, "Branch", "Failed"), (1, "Broken", "Failed"), (0, "Child", "Succeeded")])
    for i, (depth, name, _) in enumerate(tree):  # each nested run right under its container
        if depth == 1:
            parent = next(a for a in reversed(detail["activities"][:i]) if a["depth"] == 0)
            assert detail["activities"][i]["parent"] == parent["activity_run_id"]
            assert parent["name"] == {"Each": "Loop", "Broken": "Branch"}[name]
    each = [a for a in detail["activities"] if a["name"] == "Each"]
    assert [a["output"]["value"] for a in each] == ["A", "B"] and each[0]["input"]["value"] == "A"
    assert all(isinstance(a["duration_seconds"], float) for a in detail["activities"])
    broken = next(a for a in detail["activities"] if a["name"] == "Broken")
    assert broken["error"]["message"] == "branch broke"
    [child] = detail["child_runs"]
    assert child["pipeline"] == "Small" and child["status"] == "Succeeded" and child["parent_run_id"] == run_id
    child_activity = next(a for a in detail["activities"] if a["name"] == "Child")
    assert child_activity["output"]["pipelineRunId"] == child["run_id"]
    assert [(r["run_id"], r["rerun_of"], r["rerun_mode"]) for r in detail["reruns"]] == [(rerun_id, run_id, "full")]

    code, out, _ = cli(capsys, "runs", run_id)
    lines = out.splitlines()
    assert code == 0 and "status Failed" in lines[1] and "message: Operation on target Broken failed" in out
    rows = [line for line in lines if line.split() and line.split()[0] in ("Loop", "Each", "Branch", "Broken",
                                                                           "Child")]
    indents = {line.split()[0]: len(line) - len(line.lstrip()) for line in rows[:6]}
    assert indents["Each"] == indents["Loop"] + 2 and indents["Broken"] == indents["Branch"] + 2
    assert "      error: branch broke" in out
    assert "inputs and outputs:" in out and 'out {"name": "v", "value": "A"}' in out
    assert f"child runs:\n    {child['run_id']}  Small  Succeeded" in out and "(activity Child)" in out
    assert f"reruns:\n    {rerun_id}  Nested  Queued" in out and "(full)" in out
    rerun_lines = cli(capsys, "runs", rerun_id)[1]
    assert f"rerun of {run_id} (full)" in rerun_lines
    assert f"child run of {run_id} (activity Child)" in cli(capsys, "runs", child["run_id"])[1]

    picture = tmp_path / "run.svg"
    code, out, _ = cli(capsys, "runs", run_id, "--svg", str(picture))
    assert code == 0 and out.rstrip().endswith(f"timeline picture: {picture}")
    svg = ET.parse(picture).getroot()
    labels = {t.text.strip(): float(t.get("x")) for t in svg.findall(f"{SVG}text") if t.find(f"{SVG}tspan") is not None}
    assert labels["Each"] > labels["Loop"] and labels["Broken"] > labels["Branch"]


def test_svg_colours_cancelled_and_queued_runs(env, capsys, tmp_path):
    settings, store = env
    run_id = start_run(store, "Slow", {})
    with executor(settings, store):
        wait_for_activity(store, run_id, "Nap", count=2)
        assert cli(capsys, "cancel", run_id)[0] == 0
    cli(capsys, "runs", run_id, "--svg", str(tmp_path / "cancelled.svg"))
    rects = ET.parse(tmp_path / "cancelled.svg").getroot().findall(f"{SVG}rect")
    assert [r.get("fill") for r in rects] == ["#ef6c00"] * 3  # Loop and both Naps: Cancelled
    queued = start_run(store, "Small", {})
    cli(capsys, "runs", queued, "--svg", str(tmp_path / "queued.svg"))
    title = ET.parse(tmp_path / "queued.svg").getroot().find(f"{SVG}text")
    assert title.get("fill") == "#90caf9" and title.text.endswith(": Queued in 0.0s")


def wait_for_activity(store, run_id: str, name: str, count: int = 1, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for a in store.activity_runs(run_id) if a["name"] == name) < count:
        assert time.monotonic() < deadline, f"{name} did not start {count} time(s)"
        time.sleep(0.02)


# --- watch --------------------------------------------------------------------------------------------------
def test_watch_follows_a_run_live_and_exits_0_when_it_succeeds(env, capsys):
    settings, store = env
    run_id = start_run(store, "Steps", {})
    with executor(settings, store, delay=0.3):  # the run stays Queued for a moment
        code, out, _ = cli(capsys, "watch", run_id, "--poll", "0.05")
    assert code == 0
    lines = [line.split("] ", 1)[1] for line in out.splitlines()]
    assert lines[0] == f"run {run_id} is Queued"
    events = [line for line in lines if not line.startswith("progress")]
    assert events[1:] == [f"run {run_id} is InProgress", "started    First (Wait)",
                          events[3], "started    Second (SetVariable)", events[5],
                          events[6]]
    assert events[3].startswith("Succeeded  First (Wait)  1.") and events[5].startswith("Succeeded  Second")
    assert events[6] == f"run {run_id} ended Succeeded"
    progress = [line for line in lines if line.startswith("progress")]
    assert progress[0] == "progress: Queued, 0.0s elapsed, 0 activity runs done, 0 running"
    assert any(", 0 activity runs done, 1 running" in p for p in progress)
    assert progress[-1].startswith("progress: Succeeded, 1.")
    assert progress[-1].endswith("2 activity runs done, 0 running")


def test_watch_indents_nested_activities_reports_child_runs_and_exits_1_on_failure(env, capsys):
    settings, store = env
    run_id = start_run(store, "Nested", {"ok": "no"})
    with executor(settings, store):
        code, out, _ = cli(capsys, "watch", run_id, "--poll", "0.05")
    assert code == 1
    lines = [line.split("] ", 1)[1] for line in out.splitlines()]
    assert "started      Each (SetVariable)" in lines and "started      Broken (Fail)" in lines
    assert any(line.startswith("Failed       Broken (Fail)") and line.endswith("error: branch broke")
               for line in lines)
    child = store.child_runs(run_id)[0]["run_id"]
    assert f"child run {child} of Small is Succeeded" in lines
    assert lines[-1] == f"run {run_id} ended Failed: Operation on target Broken failed: branch broke"

    events = [json.loads(line) for line in cli(capsys, "watch", run_id, "--json")[1].splitlines()]
    assert [e["event"] for e in events][-2:] == ["progress", "end"] and events[-1]["run"]["status"] == "Failed"
    nested = [e for e in events if e["event"] == "ended" and e["activity"]["name"] == "Each"]
    assert len(nested) == 2 and all(e["depth"] == 1 for e in nested)
    assert {e["activity"]["name"] for e in events if e["event"] == "started"} == {
        "Loop", "Each", "Branch", "Broken", "Child"}


def test_follow_reports_activities_while_the_run_is_still_going(env):
    """The library behind `watch`: an activity's start is seen before the run ends, not replayed afterwards."""
    settings, store = env
    run_id = start_run(store, "Steps", {})
    with executor(settings, store):
        for event in monitor.follow(store, run_id, poll=0.05, timeout=20):
            if event.kind == "started" and event.data["activity"]["name"] == "First":
                assert store.run(run_id)["status"] == "InProgress"
                assert store.activity_runs(run_id)[-1]["name"] == "First"  # Second has not started yet
            last = event
    assert last.kind == "end" and last.data["run"]["status"] == "Succeeded"


def test_watch_gives_up_after_its_timeout_with_exit_1(env, capsys):
    settings, store = env
    run_id = start_run(store, "Small", {})  # nothing executes it
    code, out, err = cli(capsys, "watch", run_id, "--timeout", "0.3", "--poll", "0.05")
    assert code == 1 and out.splitlines()[0].endswith(f"run {run_id} is Queued")
    assert f"error: run {run_id} still Queued after 0.3s; is the runtime up (`make up`)?" in err
    code, _, err = cli(capsys, "watch", "nope")
    assert code == 2 and err == "error: no run nope; `python -m local_runtime runs` lists them\n"


# --- cancel ---------------------------------------------------------------------------------------------------
def test_cancel_waits_until_the_run_and_its_activities_are_cancelled(env, capsys):
    settings, store = env
    run_id = start_run(store, "Slow", {})
    with executor(settings, store):
        wait_for_activity(store, run_id, "Nap", count=2)
        started = time.monotonic()
        code, out, _ = cli(capsys, "cancel", run_id)
        assert time.monotonic() - started < 8
    assert code == 0 and out == f"run {run_id}: Canceling -> Cancelled\n"
    assert store.run(run_id)["status"] == "Cancelled"
    assert {a["status"] for a in store.activity_runs(run_id)} == {"Cancelled"}

    code, _, err = cli(capsys, "cancel", run_id)
    assert code == 2 and err == f"error: run {run_id} already ended Cancelled: nothing to cancel\n"
    assert cli(capsys, "cancel", "nope")[0] == 2


def test_cancel_json_and_no_wait(env, capsys):
    settings, store = env
    queued = start_run(store, "Small", {})
    result = cli_json(capsys, "cancel", queued, "--no-wait")
    assert (result["requested"], result["status"]) == ("Cancelled", "Cancelled")  # a queued run never starts
    assert result["run"]["message"] == "cancelled before it started"

    running = start_run(store, "Slow", {})
    with executor(settings, store):
        wait_for_activity(store, running, "Nap")
        result = cli_json(capsys, "cancel", running, "--no-wait")
        assert (result["requested"], result["status"]) == ("Canceling", "Canceling")
        assert wait_for(store, running, {"Cancelled"})["status"] == "Cancelled"


def test_cancel_says_when_nothing_finishes_the_cancellation(env, capsys):
    settings, store = env
    run_id = start_run(store, "Small", {})
    assert store.claim_run(run_id)["status"] == "InProgress"  # claimed by an executor that has gone away
    code, out, err = cli(capsys, "cancel", run_id, "--timeout", "0.3")
    assert code == 2 and out == ""
    assert err.startswith(f"error: run {run_id} still Canceling after 0.3s; is the runtime up (`make up`)?")


# --- rerun ------------------------------------------------------------------------------------------------------
def test_rerun_prints_the_new_run_id_and_with_wait_follows_it(env, capsys):
    settings, store = env
    original = finished(settings, store, "Broken")
    code, out, _ = cli(capsys, "rerun", original)
    new_id = out.strip()
    assert code == 0 and store.run(new_id)["rerun_of"] == original and store.run(new_id)["rerun_mode"] == "full"
    assert store.run(new_id)["status"] == "Queued"
    assert cli(capsys, "cancel", new_id)[0] == 0

    deploy(store, {("pipeline", "Broken"): pipeline([set_var("Ok", "ok"),
                                                     set_var("Bad", "fixed", depends={"Ok": ["Succeeded"]})])})
    with executor(settings, store):
        code, out, _ = cli(capsys, "rerun", original, "--from-failed", "--wait", "--poll", "0.05")
    lines = out.splitlines()
    fixed = lines[0]
    assert code == 0 and store.run(fixed)["rerun_mode"] == "from_failed"
    assert lines[-1].endswith(f"run {fixed} ended Succeeded")
    ok = next(a for a in store.activity_runs(fixed) if a["name"] == "Ok")
    assert ok["input"]["reusedFromRunId"] == original  # not run again

    code, out, err = cli(capsys, "rerun", fixed, "--from-failed")
    assert code == 2 and "succeeded, so nothing failed to rerun from" in err

    with executor(settings, store):
        code, out, _ = cli(capsys, "rerun", original, "--wait", "--json", "--poll", "0.05")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and events[0]["event"] == "queued" and events[0]["rerun_of"] == original
    assert events[-1]["event"] == "end" and events[-1]["run"]["run_id"] == events[0]["run_id"]
    assert cli_json(capsys, "rerun", original) == {"run_id": store.runs(1)[0]["run_id"], "rerun_of": original,
                                                   "mode": "full"}


def test_run_wait_still_prints_status_changes_and_the_table(env, capsys):
    settings, store = env
    with executor(settings, store):
        code, out, _ = cli(capsys, "run", "--pipeline", "Steps", "--wait", "--timeout", "20")
    run_id = out.splitlines()[0]
    assert code == 0 and f"  {run_id}: Succeeded" in out and "  First" in out
