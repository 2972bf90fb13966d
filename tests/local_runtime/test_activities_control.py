"""Control-flow activities run through the runtime: SetVariable (pipelineReturnValue), AppendVariable, Switch,
Filter, ForEach (real parallelism, item() and outputs per iteration), ExecutePipeline."""
from __future__ import annotations

import time

import pytest

from tests.local_runtime.builders import activity, fail, pipeline, run_pipeline, set_var, statuses, wait_for


def expr(text: str) -> dict:
    return {"value": text, "type": "Expression"}


def records(store, run_id, name):
    return [a for a in store.activity_runs(run_id) if a["name"] == name]


def output(store, run_id, name):
    return records(store, run_id, name)[-1]["output"]


def wait(name: str, seconds: int = 1, depends=None) -> dict:
    return activity(name, "Wait", depends, waitTimeInSeconds=seconds)


def for_each(name: str, items, body: list[dict], depends=None, **options) -> dict:
    return activity(name, "ForEach", depends, items=expr(items) if isinstance(items, str) else items,
                    activities=body, **options)


def test_append_variable_collects_values_and_set_variable_reads_them(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        for_each("Each", "@createArray('a', 'b', 'c')", [activity("Add", "AppendVariable", variableName="acc",
                                                                  value="@toUpper(item())")], isSequential=True),
        set_var("Show", "@join(variables('acc'), '+')", depends={"Each": ["Succeeded"]}),
    ], variables={"acc": [], "v": ""})
    assert status == "Succeeded"
    assert output(store, run["run_id"], "Show") == {"name": "v", "value": "A+B+C"}


def test_append_variable_needs_an_array_variable(tmp_path):
    status, store, run = run_pipeline(tmp_path, [activity("Add", "AppendVariable", variableName="v", value="x")],
                                      variables={"v": "text"})
    assert status == "Failed"
    error = records(store, run["run_id"], "Add")[0]["error"]
    assert "AppendVariable needs an Array variable; 'v' holds str" in error["message"]


@pytest.mark.parametrize("on, ran", [("b", "CaseB"), ("zzz", "Fallback")])
def test_switch_runs_the_matching_case_or_the_default(tmp_path, on, ran):
    status, store, run = run_pipeline(tmp_path, [activity(
        "Route", "Switch", on=expr("@pipeline().parameters.key"),
        cases=[{"value": "a", "activities": [set_var("CaseA", "a")]},
               {"value": "b", "activities": [set_var("CaseB", "b")]}],
        defaultActivities=[set_var("Fallback", "default")])],
        parameters={"key": {"type": "string"}}, given={"key": on})
    assert status == "Succeeded"
    assert set(statuses(store, run["run_id"])) == {"Route", ran}
    assert output(store, run["run_id"], "Route")["case"] == ("b" if on == "b" else "default")


def test_a_failing_switch_case_fails_the_switch_and_the_run(tmp_path):
    status, store, run = run_pipeline(tmp_path, [activity(
        "Route", "Switch", on="x", cases=[{"value": "x", "activities": [fail("Broken", "case x broke")]}])])
    assert status == "Failed"
    assert statuses(store, run["run_id"]) == {"Route": ["Failed"], "Broken": ["Failed"]}
    assert "case x broke" in records(store, run["run_id"], "Route")[0]["error"]["message"]


def test_filter_keeps_the_items_whose_condition_holds(tmp_path):
    status, store, run = run_pipeline(tmp_path, [activity(
        "Big", "Filter", items=expr("@range(1, 6)"), condition=expr("@greater(item(), 3)"))])
    assert status == "Succeeded"
    assert output(store, run["run_id"], "Big") == {"ItemsCount": 6, "FilteredItemsCount": 3, "Value": [4, 5, 6]}


def _spans(store, run_id, name):
    return sorted((a["start"], a["end"]) for a in records(store, run_id, name))


def test_parallel_for_each_overlaps_up_to_batch_count_with_its_own_item_and_outputs(tmp_path):
    """4 items, batchCount 2: two iterations at a time (about 2 s, not 4). Each iteration reads its own
    Pick output after a Wait, so iterations sharing outputs would record the same value twice."""
    body = [activity("Pick", "Filter", items=expr("@createArray(item())"), condition=expr("@equals(1, 1)")),
            wait("Pause", depends={"Pick": ["Succeeded"]}),
            activity("Keep", "AppendVariable", {"Pause": ["Succeeded"]}, variableName="seen",
                     value=expr("@activity('Pick').output.Value[0]"))]
    started = time.monotonic()
    status, store, run = run_pipeline(tmp_path, [for_each("Each", "@range(0, 4)", body, batchCount=2)],
                                      variables={"seen": []})
    took = time.monotonic() - started
    assert status == "Succeeded"
    assert 1.9 < took < 3.5
    spans = _spans(store, run["run_id"], "Pause")
    running_together = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert running_together == 2
    kept = sorted(a["output"]["value"] for a in records(store, run["run_id"], "Keep"))
    assert kept == [0, 1, 2, 3]


def test_sequential_for_each_runs_one_iteration_at_a_time(tmp_path):
    status, store, run = run_pipeline(tmp_path, [for_each("Each", "@range(0, 2)", [wait("Pause")],
                                                          isSequential=True, batchCount=10)])
    assert status == "Succeeded"
    (_, first_end), (second_start, _) = _spans(store, run["run_id"], "Pause")
    assert second_start >= first_end


def test_a_failed_iteration_fails_the_for_each_after_all_iterations_ran(tmp_path):
    body = [activity("Check", "IfCondition", expression=expr("@equals(item(), 2)"),
                     ifTrueActivities=[fail("Bad", "@concat('item ', string(item()))")])]
    status, store, run = run_pipeline(tmp_path, [for_each("Each", "@range(1, 3)", body)])
    assert status == "Failed"
    assert sorted(statuses(store, run["run_id"])["Check"]) == ["Failed", "Succeeded", "Succeeded"]
    error = records(store, run["run_id"], "Each")[0]["error"]
    assert error["errorCode"] == "ForEachIterationFailed" and "1 of 3 iterations" in error["message"]
    assert "Operation on target Bad failed: item 2" in run["message"]


CHILD = pipeline([
    set_var("Who", "@concat(pipeline().TriggeredByPipelineName, '/', pipeline().parameters.label)"),
    activity("Return", "SetVariable", {"Who": ["Succeeded"]}, variableName="pipelineReturnValue",
             setSystemVariable=True, value=[
                 {"key": "who", "value": {"type": "Expression", "content": "@variables('v')"}},
                 {"key": "n", "value": {"type": "Int", "content": 42}},
                 {"key": "flags", "value": {"type": "Array", "content": [{"type": "Boolean", "content": True}]}},
                 {"key": "nested", "value": {"type": "Object", "content": [
                     {"key": "k", "value": {"type": "String", "content": "deep"}}]}}]),
], parameters={"label": {"type": "string"}})


def execute_child(name="Run", wait_on_completion=True, child="Child", **parameters):
    return activity(name, "ExecutePipeline", pipeline={"referenceName": child, "type": "PipelineReference"},
                    parameters=parameters, waitOnCompletion=wait_on_completion)


def test_execute_pipeline_waits_for_a_child_run_and_returns_its_value(tmp_path):
    status, store, run = run_pipeline(tmp_path, [
        execute_child(label="@concat('from ', pipeline().RunId)"),
        set_var("Use", "@activity('Run').output.pipelineReturnValue.nested.k", depends={"Run": ["Succeeded"]}),
    ], objects={("pipeline", "Child"): CHILD})
    assert status == "Succeeded", run["message"]
    out = output(store, run["run_id"], "Run")
    child = store.run(out["pipelineRunId"])
    assert out["pipelineName"] == "Child" and child["pipeline"] == "Child" and child["status"] == "Succeeded"
    assert child["parent_run_id"] == run["run_id"] and child["invoked_by"] == "PipelineActivity"
    assert child["parameters"] == {"label": f"from {run['run_id']}"}
    assert out["pipelineReturnValue"] == {"who": f"P/from {run['run_id']}", "n": 42, "flags": [True],
                                          "nested": {"k": "deep"}}
    assert output(store, run["run_id"], "Use")["value"] == "deep"
    assert [a["name"] for a in store.activity_runs(child["run_id"])] == ["Who", "Return"]


def test_a_failed_child_run_fails_the_execute_pipeline_activity(tmp_path):
    broken = pipeline([fail("Explode", "child exploded")])
    status, store, run = run_pipeline(tmp_path, [execute_child(child="Broken")],
                                      objects={("pipeline", "Broken"): broken})
    assert status == "Failed"
    error = records(store, run["run_id"], "Run")[0]["error"]
    assert error["errorCode"] == "ExecutePipelineFailed" and "child exploded" in error["message"]
    [child] = store.child_runs(run["run_id"])
    assert child["status"] == "Failed"


def test_execute_pipeline_without_waiting_succeeds_while_the_child_still_runs(tmp_path):
    slow = pipeline([wait("Sleep", 1)])
    status, store, run = run_pipeline(tmp_path, [execute_child(child="Slow", wait_on_completion=False)],
                                      objects={("pipeline", "Slow"): slow})
    assert status == "Succeeded"
    child_id = output(store, run["run_id"], "Run")["pipelineRunId"]
    assert store.run(child_id)["status"] in ("Queued", "InProgress")
    assert wait_for(store, child_id, {"Succeeded"})["parent_run_id"] == run["run_id"]
