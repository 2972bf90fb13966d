"""Pipeline semantics of the local engine: dependency conditions, Skipped cascade, the leaf rule,
policies, control-flow activities, unsupported types."""
from __future__ import annotations

import pytest

from tests.local_runtime.builders import activity, fail, run_pipeline, set_var, statuses


def test_activities_run_in_dependency_order_and_variables_flow(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        set_var("B", "@concat(variables('v'), '-b')", depends={"A": ["Succeeded"]}),
        set_var("A", "a"),
    ])
    assert status == "Succeeded"
    names = [a["name"] for a in store.activity_runs(run["run_id"])]
    assert names == ["A", "B"]
    assert store.activity_runs(run["run_id"])[1]["output"] == {"name": "v", "value": "a-b"}


def test_try_catch_ends_succeeded(tmp_path):
    """A failure handled by an on-failure path: the leaf (the handler) succeeded, so the run succeeded."""
    status, store, run = run_pipeline(tmp_path, [fail("Try"), set_var("Catch", "handled", depends={"Try": ["Failed"]})])
    assert status == "Succeeded"
    assert statuses(store, run["run_id"]) == {"Try": ["Failed"], "Catch": ["Succeeded"]}


def test_do_if_else_ends_failed(tmp_path):
    """Both an on-success and an on-failure path: the skipped success path is judged by its failed parent."""
    status, store, run = run_pipeline(tmp_path, [
        fail("Do"), set_var("OnSuccess", "x", depends={"Do": ["Succeeded"]}),
        set_var("OnFailure", "y", depends={"Do": ["Failed"]})])
    assert status == "Failed"
    assert statuses(store, run["run_id"]) == {"Do": ["Failed"], "OnSuccess": ["Skipped"], "OnFailure": ["Succeeded"]}
    assert "Operation on target Do failed: boom" in run["message"]


def test_skipped_cascades_and_completed_means_succeeded_or_failed(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        fail("A"),
        set_var("B", "b", depends={"A": ["Succeeded"]}),
        set_var("C", "c", depends={"B": ["Succeeded"]}),
        set_var("D", "d", depends={"A": ["Completed"]}),
        set_var("E", "e", depends={"B": ["Skipped"]}),
    ])
    assert statuses(store, run["run_id"]) == {"A": ["Failed"], "B": ["Skipped"], "C": ["Skipped"],
                                              "D": ["Succeeded"], "E": ["Succeeded"]}
    assert status == "Failed"  # leaf C is skipped; its parent B skipped; B's parent A failed


def test_entries_are_anded_and_conditions_in_one_entry_ored(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        set_var("A", "a"), fail("B"),
        set_var("Both", "x", depends={"A": ["Succeeded"], "B": ["Succeeded"]}),
        set_var("Either", "y", depends={"B": ["Succeeded", "Failed"]}),
    ])
    result = statuses(store, run["run_id"])
    assert result["Both"] == ["Skipped"] and result["Either"] == ["Succeeded"]


def test_retry_policy_retries_then_fails(tmp_path):
    flaky = fail("Flaky")
    flaky["policy"] = {"retry": 2, "retryIntervalInSeconds": 0}
    status, store, run = run_pipeline(tmp_path, [flaky])
    assert status == "Failed"
    assert statuses(store, run["run_id"]) == {"Flaky": ["Failed", "Failed", "Failed"]}


def test_timeout_policy_fails_a_slow_activity(tmp_path):
    slow = activity("Slow", "Wait", waitTimeInSeconds=5)
    slow["policy"] = {"timeout": "0.00:00:01"}
    status, store, run = run_pipeline(tmp_path, [slow])
    assert status == "Failed"
    [record] = store.activity_runs(run["run_id"])
    assert record["error"]["errorCode"] == "ActivityTimedOut"


def test_unsupported_activity_type_fails_the_activity_not_the_process(tmp_path):
    status, store, run = run_pipeline(tmp_path, [activity("Copy it", "Custom")])
    assert status == "Failed"
    [record] = store.activity_runs(run["run_id"])
    assert record["error"]["errorCode"] == "UnsupportedActivityType"
    assert "'Custom' is not supported" in record["error"]["message"] and "WebActivity" in record["error"]["message"]


def test_until_is_do_while_and_counts_iterations(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        activity("Loop", "Until", expression={"value": "@equals(length(variables('v')), 3)", "type": "Expression"},
                 timeout="0.00:01:00", activities=[set_var("Grow", "@concat(variables('v'), 'x')")])])
    assert status == "Succeeded"
    result = statuses(store, run["run_id"])
    assert result["Grow"] == ["Succeeded"] * 3
    loop = [a for a in store.activity_runs(run["run_id"]) if a["name"] == "Loop"][0]
    assert loop["output"] == {"iterations": 3}


def test_until_times_out(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        activity("Loop", "Until", expression={"value": "@equals(1, 2)", "type": "Expression"}, timeout="0.00:00:01",
                 activities=[activity("Tick", "Wait", waitTimeInSeconds=1)])])
    assert status == "Failed"
    loop = [a for a in store.activity_runs(run["run_id"]) if a["name"] == "Loop"][0]
    assert loop["error"]["errorCode"] == "UntilTimedOut"


@pytest.mark.parametrize("value, expected_status", [("Completed", "Succeeded"), ("Failed", "Failed")])
def test_if_condition_with_fail_in_the_false_branch(tmp_path, value, expected_status):
    status, store, run = run_pipeline(tmp_path, [
        set_var("Record", value),
        activity("Check", "IfCondition", depends={"Record": ["Succeeded"]},
                 expression={"value": "@equals(variables('v'), 'Completed')", "type": "Expression"},
                 ifFalseActivities=[fail("Stop", message="@concat('job ended ', variables('v'))")])])
    assert status == expected_status
    if expected_status == "Failed":
        assert "job ended Failed" in run["message"]


def test_parameters_default_cast_and_required(tmp_path):
    params = {"n": {"type": "int", "defaultValue": "3"}, "name": {"type": "string"}}
    status, store, run = run_pipeline(tmp_path, [set_var("A", "@string(add(pipeline().parameters.n, 1))")],
                                      parameters=params, given={"name": "x"})
    assert status == "Succeeded" and store.activity_runs(run["run_id"])[0]["output"]["value"] == "4"
    status, _, run = run_pipeline(tmp_path / "second", [set_var("A", "a")], parameters=params)
    assert status == "Failed" and "parameter 'name' has no default" in run["message"]


def test_an_expression_error_fails_the_activity_with_the_position(tmp_path):
    status, store, run = run_pipeline(tmp_path, [set_var("A", "@concat('a', nosuchfunction())")])
    assert status == "Failed"
    [record] = store.activity_runs(run["run_id"])
    assert record["error"]["errorCode"] == "InvalidTemplate" and "^" in record["error"]["message"]
