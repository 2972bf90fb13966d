"""Run-level semantics through the runtime: parallel branches, cancelling (cooperative, down to child runs
and notebook processes), the pipeline `concurrency` property with the real service loop, rerun from the
failed activity."""
from __future__ import annotations

import threading
import time

import pytest

from local_runtime.runs import RunError, cancel_run, rerun, start_run
from local_runtime.service import serve
from ops.services import process_alive
from tests.conftest import free_port
from tests.local_runtime.builders import (
    FACTORY,
    activity,
    deploy,
    environment,
    execute_run,
    fail,
    pipeline,
    run_pipeline,
    set_var,
    statuses,
    wait_for,
)


def expr(text: str) -> dict:
    return {"value": text, "type": "Expression"}


def wait(name: str, seconds: int = 1, depends=None) -> dict:
    return activity(name, "Wait", depends, waitTimeInSeconds=seconds)


def by_name(store, run_id) -> dict[str, dict]:
    return {a["name"]: a for a in store.activity_runs(run_id)}


def test_independent_branches_run_in_parallel_and_join(tmp_path):
    started = time.monotonic()
    status, store, run = run_pipeline(tmp_path, [
        wait("Left"), wait("Right"),
        set_var("Join", "joined", depends={"Left": ["Succeeded"], "Right": ["Succeeded"]})])
    assert status == "Succeeded"
    assert time.monotonic() - started < 1.9
    records = by_name(store, run["run_id"])
    assert records["Left"]["start"] < records["Right"]["end"] and records["Right"]["start"] < records["Left"]["end"]
    assert records["Join"]["start"] >= max(records["Left"]["end"], records["Right"]["end"])


NOTEBOOK = """# Databricks notebook source
import os, time
open(dbutils.widgets.get("pid_file"), "w").write(str(os.getpid()))
time.sleep(60)
"""


def test_cancelling_a_run_stops_every_running_activity_and_child_run(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "sleepy.py").write_text(NOTEBOOK)
    pid_file = tmp_path / "notebook.pid"
    settings, store = environment(tmp_path, notebooks_dir=notebooks)
    deploy(store, {
        ("pipeline", "P"): pipeline([
            wait("Sleep", 30),
            activity("Loop", "ForEach", items=expr("@range(0, 3)"), activities=[wait("Inner", 30)]),
            activity("Poll", "Until", expression=expr("@equals(1, 2)"), timeout="0.00:10:00",
                     activities=[wait("Tick", 1)]),
            activity("Child", "ExecutePipeline", pipeline={"referenceName": "Slow", "type": "PipelineReference"},
                     waitOnCompletion=True),
            activity("Notebook", "DatabricksNotebook", notebookPath=f"{settings.notebook_root}/sleepy",
                     baseParameters={"pid_file": str(pid_file)}),
            set_var("After", "never", depends={"Sleep": ["Succeeded"]})]),
        ("pipeline", "Slow"): pipeline([wait("SlowWait", 30)])})
    run_id = start_run(store, "P", {})
    assert store.run(run_id)["status"] == "Queued"
    worker = threading.Thread(target=execute_run, args=(store, settings, run_id))
    worker.start()
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text() and store.child_runs(run_id)
               and store.child_runs(run_id)[0]["status"] == "InProgress"):
        assert time.monotonic() < deadline, "the activities did not all start"
        time.sleep(0.05)
    assert store.run(run_id)["status"] == "InProgress"
    cancelled_at = time.monotonic()
    assert cancel_run(store, run_id) == "Canceling"
    worker.join(15)
    assert not worker.is_alive() and time.monotonic() - cancelled_at < 6
    run = store.run(run_id)
    assert run["status"] == "Cancelled"
    result = statuses(store, run_id)
    for name in ("Sleep", "Loop", "Poll", "Child", "Notebook"):
        assert result[name] == ["Cancelled"], name
    assert result["Inner"] == ["Cancelled"] * 3 and result["After"] == ["Skipped"]
    [child] = store.child_runs(run_id)
    assert child["status"] == "Cancelled" and statuses(store, child["run_id"]) == {"SlowWait": ["Cancelled"]}
    assert not process_alive(int(pid_file.read_text()))


def test_cancelling_a_queued_run_means_it_never_starts(tmp_path):
    settings, store = environment(tmp_path)
    deploy(store, {("pipeline", "P"): pipeline([set_var("A", "a")])})
    run_id = start_run(store, "P", {})
    assert cancel_run(store, run_id) == "Cancelled"
    assert store.claim_next_run() is None
    assert store.run(run_id)["status"] == "Cancelled" and store.activity_runs(run_id) == []
    with pytest.raises(RunError, match="no run nope"):
        cancel_run(store, "nope")


def test_pipeline_concurrency_keeps_extra_runs_queued_until_a_slot_frees(tmp_path):
    """The service runs two runs at once, but the pipeline's concurrency is 1."""
    settings, store = environment(tmp_path, runtime_port=free_port(), poll_seconds=0.1)
    deploy(store, {("pipeline", "P"): pipeline([wait("Pause", 1)], concurrency=1)})
    first, second = start_run(store, "P", {}), start_run(store, "P", {})
    stop = threading.Event()
    service = threading.Thread(target=serve, args=(settings, stop), daemon=True)
    service.start()
    try:
        wait_for(store, first, {"InProgress"})
        time.sleep(0.5)  # several executor polls
        assert store.run(second)["status"] == "Queued"
        done_first, done_second = wait_for(store, first, {"Succeeded"}), wait_for(store, second, {"Succeeded"})
        assert done_second["run_start"] >= done_first["run_end"]
    finally:
        stop.set()
        service.join(10)


def test_rerun_from_failed_reuses_succeeded_outputs_and_variables_and_starts_at_the_failure(tmp_path):
    """The fix is deployed between the runs; the rerun must not run Prepare again (it would draw a new guid)."""
    prepare = activity("Prepare", "IfCondition", expression=True,
                       ifTrueActivities=[set_var("Draw", "@guid()")])
    report = set_var("Report", "@concat('used ', variables('v'))", variable="w", depends={"Work": ["Succeeded"]})

    def deployed(work: dict) -> None:
        deploy(store, {("pipeline", "P"): pipeline([prepare, work, report], variables={"v": "", "w": ""})})

    settings, store = environment(tmp_path)
    deployed(fail("Work", "not yet", depends={"Prepare": ["Succeeded"]}))
    original = start_run(store, "P", {"x": 1})
    assert execute_run(store, settings, original) == "Failed"
    drawn = by_name(store, original)["Draw"]["output"]["value"]
    with pytest.raises(RunError, match="succeeded, so nothing failed"):
        rerun(store, start_and_finish(store, settings), from_failed=True)

    deployed(set_var("Work", "fixed", variable="w", depends={"Prepare": ["Succeeded"]}))
    second = rerun(store, original)
    with pytest.raises(RunError, match="is still Queued"):
        rerun(store, second)
    assert execute_run(store, settings, second) == "Succeeded"
    run = store.run(second)
    assert run["rerun_of"] == original and run["parameters"] == {"x": 1}
    records = by_name(store, second)
    assert "Draw" not in records  # Prepare's body did not run again
    assert records["Prepare"]["input"]["reusedFromRunId"] == original
    assert records["Report"]["output"]["value"] == f"used {drawn}"
    assert [a["name"] for a in store.activity_runs(second)] == ["Prepare", "Work", "Report"]

    whole = rerun(store, original, from_failed=False)
    assert execute_run(store, settings, whole) == "Succeeded"
    assert store.run(whole)["rerun_of"] == original
    assert by_name(store, whole)["Draw"]["output"]["value"] != drawn  # everything ran again


def start_and_finish(store, settings) -> str:
    """A run of a trivially succeeding pipeline Q."""
    deploy(store, {("pipeline", "Q"): pipeline([set_var("A", "a")])})
    with store.transaction() as db:
        run_id = store.queue_run(db, FACTORY, "Q", {}, invoked_by="Manual")
    assert execute_run(store, settings, run_id) == "Succeeded"
    return run_id
