"""The semantic diff: readable keyed paths, trigger implications, stable text and JSON; generated/ at a git ref."""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.diff import (
    ABSENT,
    Key,
    diff_bodies,
    diff_objects,
    render_json,
    render_lines,
    render_path,
    render_text,
    to_json,
)
from generator.diff_git import diff_generated
from generator.errors import GeneratorError

PROJECT = Path(__file__).resolve().parents[2]


def act(name: str, type_: str = "Wait", depends: tuple[str, ...] = (), **type_properties) -> dict:
    return {"name": name, "type": type_, "typeProperties": type_properties,
            "dependsOn": [{"activity": a, "dependencyConditions": ["Succeeded"]} for a in depends]}


def pipeline(name: str, *activities: dict) -> dict:
    return {"name": name, "properties": {"activities": list(activities)}}


def trigger(name: str, state: str = "Started", pipelines: tuple[str, ...] = ("P",), **type_properties) -> dict:
    return {"name": name, "properties": {
        "type": "BlobEventsTrigger", "runtimeState": state, "typeProperties": type_properties,
        "pipelines": [{"pipelineReference": {"referenceName": p, "type": "PipelineReference"},
                       "parameters": {"fileName": "@triggerBody().fileName"}} for p in pipelines]}}


def lines_for(old: dict, new: dict) -> list[str]:
    return render_lines(diff_objects({("pipeline", "P"): old}, {("pipeline", "P"): new}))


# --- objects and paths -----------------------------------------------------------------------------------------
def test_added_removed_changed_objects_sorted_in_dependency_order():
    old = {("pipeline", "P"): pipeline("P", act("A")), ("dataset", "Gone"): {"name": "Gone", "properties": {}},
           ("trigger", "T"): trigger("T", "Stopped")}
    new = {("trigger", "T"): trigger("T", "Stopped"), ("pipeline", "P"): pipeline("P", act("A", waitTimeInSeconds=1)),
           ("linkedService", "New"): {"name": "New", "properties": {}}}
    diff = diff_objects(old, new)
    assert [(o.folder, o.name, o.kind) for o in diff.objects] == [
        ("linkedService", "New", "added"), ("dataset", "Gone", "removed"), ("pipeline", "P", "changed")]
    assert render_lines(diff) == ["linkedService New: added", "dataset Gone: removed",
                                  "pipeline P: activity A: typeProperties.waitTimeInSeconds added: 1"]
    assert diff.keys("changed") == [("pipeline", "P")]


def test_an_activity_change_is_one_line_keyed_by_activity_name():
    old = pipeline("PrepareAndTrain",
                   act("PrepareData", "DatabricksNotebook", baseParameters={"split_seed": "20240601"}))
    new = copy.deepcopy(old)
    new["properties"]["activities"][0]["typeProperties"]["baseParameters"]["split_seed"] = "1"
    diff = diff_objects({("pipeline", "PrepareAndTrain"): old}, {("pipeline", "PrepareAndTrain"): new})
    assert render_text(diff) == ('pipeline PrepareAndTrain: activity PrepareData: '
                                 'typeProperties.baseParameters.split_seed "20240601" → "1"')


def test_reordering_keyed_activities_is_no_change_but_inserting_one_names_only_it():
    a, b, c = act("A"), act("B", depends=("A",)), act("C")
    assert lines_for(pipeline("P", a, b), pipeline("P", b, a)) == []
    assert lines_for(pipeline("P", a, b), pipeline("P", c, a, b)) == [
        'pipeline P: activity C added: {"name": "C", "type": "Wait", "typeProperties": {}, "dependsOn": []}']
    [removed] = lines_for(pipeline("P", a, b), pipeline("P", a))  # long values are cut for people, not in JSON
    assert removed == ('pipeline P: activity B removed (was {"name": "B", "type": "Wait", "typeProperties": {}, '
                       '"dependsOn": [{"activity": "A", "dependencyConditions": ["Succeeded…)')


def test_nested_container_activities_are_keyed_too():
    until = act("Loop", "Until", activities=[act("Poll", waitTimeInSeconds=5)])
    branch = act("Check", "IfCondition", ifTrueActivities=[act("Yes")], ifFalseActivities=[act("No", message="x")])
    each = act("Each", "ForEach", items="@x", activities=[act("Inner", waitTimeInSeconds=1)])
    switch = act("Route", "Switch", cases=[{"value": "a", "activities": [act("CaseA", waitTimeInSeconds=1)]}],
                 defaultActivities=[act("Default", waitTimeInSeconds=1)])
    old = pipeline("P", until, branch, each, switch)
    new = copy.deepcopy(old)
    acts = new["properties"]["activities"]
    acts[0]["typeProperties"]["activities"][0]["typeProperties"]["waitTimeInSeconds"] = 10
    acts[1]["typeProperties"]["ifFalseActivities"][0]["typeProperties"]["message"] = "y"
    acts[2]["typeProperties"]["activities"][0]["typeProperties"]["waitTimeInSeconds"] = 2
    acts[3]["typeProperties"]["cases"][0]["activities"][0]["typeProperties"]["waitTimeInSeconds"] = 2
    acts[3]["typeProperties"]["defaultActivities"][0]["typeProperties"]["waitTimeInSeconds"] = 2
    assert lines_for(old, new) == [
        "pipeline P: activity Loop: activity Poll: typeProperties.waitTimeInSeconds 5 → 10",
        'pipeline P: activity Check: ifFalseActivities: activity No: typeProperties.message "x" → "y"',
        "pipeline P: activity Each: activity Inner: typeProperties.waitTimeInSeconds 1 → 2",
        "pipeline P: activity Route: case a: activity CaseA: typeProperties.waitTimeInSeconds 1 → 2",
        "pipeline P: activity Route: defaultActivities: activity Default: typeProperties.waitTimeInSeconds 1 → 2",
    ]


def test_depends_on_is_keyed_by_activity_and_trigger_pipelines_by_reference():
    old = pipeline("P", act("A"), act("B"), act("C", depends=("A",)))
    new = pipeline("P", act("A"), act("B"), act("C", depends=("B", "A")))
    new["properties"]["activities"][2]["dependsOn"][1]["dependencyConditions"] = ["Failed"]
    assert lines_for(old, new) == [
        'pipeline P: activity C: dependsOn B added: {"activity": "B", "dependencyConditions": ["Succeeded"]}',
        'pipeline P: activity C: dependsOn A: dependencyConditions[0] "Succeeded" → "Failed"']
    t_old, t_new = trigger("T", pipelines=("P", "Q")), trigger("T", pipelines=("Q", "P"))
    t_new["properties"]["pipelines"][0]["parameters"]["fileName"] = "x.csv"
    diff = diff_objects({("trigger", "T"): t_old}, {("trigger", "T"): t_new})
    assert [c.where for o in diff.objects for c in o.changes] == ["pipeline Q: parameters.fileName"]


def test_unkeyable_arrays_fall_back_to_indexes():
    old = {"name": "T", "properties": {"typeProperties": {"events": ["a", "b"]},
                                       "activities": [{"name": "X"}, {"name": "X"}]}}  # duplicate names: by index
    new = {"name": "T", "properties": {"typeProperties": {"events": ["a"]},
                                       "activities": [{"name": "X"}, {"name": "X", "type": "Wait"}]}}
    assert [(c.where, c.old, c.new) for c in diff_bodies(old, new)] == [
        ("typeProperties.events[1]", "b", ABSENT), ("activities[1].type", ABSENT, "Wait")]


def test_json_types_are_compared_strictly():
    body = lambda v: {"name": "P", "properties": {"x": v}}  # noqa: E731
    assert [(c.old, c.new) for c in diff_bodies(body(1), body(True))] == [(1, True)]
    assert [(c.old, c.new) for c in diff_bodies(body(1), body("1"))] == [(1, "1")]
    assert [(c.old, c.new) for c in diff_bodies(body(None), {"name": "P", "properties": {}})] == [(None, ABSENT)]
    assert diff_bodies(body({"a": 1, "b": 2}), body({"b": 2, "a": 1})) == ()


def test_long_strings_are_shown_from_where_they_differ():
    old = "@concat(" + "'x', " * 40 + "'end')"
    [line] = lines_for(pipeline("P", act("A", value=old)), pipeline("P", act("A", value=old.replace("end", "END"))))
    assert "'end')\" → …" in line and "'END')\"" in line and len(line) < 300


def test_rendering_is_stable_whatever_the_input_order():
    objs = {("trigger", "T"): trigger("T"), ("pipeline", "B"): pipeline("B", act("A")),
            ("pipeline", "A"): pipeline("A", act("A")), ("dataset", "D"): {"name": "D", "properties": {}}}
    new = {k: copy.deepcopy(v) for k, v in reversed(objs.items())}
    new[("pipeline", "B")]["properties"]["activities"][0]["type"] = "Fail"
    new[("pipeline", "A")]["properties"]["activities"][0]["type"] = "Fail"
    first = render_text(diff_objects(objs, new))
    assert first == render_text(diff_objects(dict(reversed(objs.items())), dict(reversed(new.items()))))
    assert first.splitlines()[:2] == ['pipeline A: activity A: type "Wait" → "Fail"',
                                      'pipeline B: activity A: type "Wait" → "Fail"']
    assert render_text(diff_objects(objs, objs)) == "no changes"


def test_json_form_has_keyed_segments_and_leaves_absent_sides_out():
    old = pipeline("P", act("A", x=None))
    new = pipeline("P", act("A", y=1))
    data = to_json(diff_objects({("pipeline", "P"): old}, {("pipeline", "P"): new}))
    assert data["objects"] == [{"folder": "pipeline", "name": "P", "kind": "changed", "changes": [
        {"path": "activity A: typeProperties.y", "segments": ["properties", "activities", {"name": "A"},
                                                             "typeProperties", "y"], "new": 1},
        {"path": "activity A: typeProperties.x", "segments": ["properties", "activities", {"name": "A"},
                                                             "typeProperties", "x"], "old": None}]}]
    assert data["parameters"] == [] and data["triggers"] == []
    assert json.loads(render_json(diff_objects({}, {}))) == {"objects": [], "parameters": [], "triggers": []}


def test_render_path_keeps_branch_names_and_drops_wrappers():
    path = ("properties", "pipelines", Key("pipeline", "pipelineReference.referenceName", "P"), "parameters", "f")
    assert render_path(path) == "pipeline P: parameters.f"
    assert render_path(("properties", "typeProperties", "scope")) == "typeProperties.scope"


# --- trigger implications --------------------------------------------------------------------------------------
def steps(old: dict, new: dict, running: set[str] | None = None) -> list[tuple[str, str]]:
    return [(s.action, s.trigger) for s in diff_objects(old, new, running).triggers]


def test_a_changed_started_trigger_is_stopped_then_started():
    old, new = {("trigger", "T"): trigger("T", scope="a")}, {("trigger", "T"): trigger("T", scope="b")}
    diff = diff_objects(old, new)
    assert [(s.action, s.trigger) for s in diff.triggers] == [("stop", "T"), ("start", "T")]
    assert render_lines(diff)[-2:] == [
        "stop trigger T before deploy: changed: a started trigger cannot be updated",
        "start trigger T after deploy: changed, runtimeState Started"]


def test_removed_and_started_to_stopped_triggers_are_only_stopped():
    old = {("trigger", "Gone"): trigger("Gone"), ("trigger", "Off"): trigger("Off")}
    new = {("trigger", "Off"): trigger("Off", "Stopped")}
    diff = diff_objects(old, new)
    assert [(s.action, s.trigger, s.reason) for s in diff.triggers] == [
        ("stop", "Gone", "removed: stopped before it is deleted"), ("stop", "Off", "runtimeState Started → Stopped")]


def test_a_trigger_whose_pipeline_changed_keeps_running():
    old = {("pipeline", "P"): pipeline("P", act("A")), ("trigger", "T"): trigger("T")}
    new = {("pipeline", "P"): pipeline("P", act("A", waitTimeInSeconds=3)), ("trigger", "T"): trigger("T")}
    diff = diff_objects(old, new)
    assert [(s.action, s.trigger) for s in diff.triggers] == [("keep", "T")]
    assert "not restarted" in diff.triggers[0].reason
    assert [o.name for o in diff.objects] == ["P"]


def test_new_triggers_start_only_when_started_and_the_running_set_overrides_runtime_state():
    assert steps({}, {("trigger", "On"): trigger("On"), ("trigger", "Off"): trigger("Off", "Stopped")}) == [
        ("start", "On")]
    same = {("trigger", "T"): trigger("T")}
    assert steps(same, same) == []                             # deployed Started: running, untouched
    assert steps(same, same, running=set()) == [("start", "T")]  # deployed but not running: started
    stopped = {("trigger", "T"): trigger("T", "Stopped")}
    assert steps(stopped, stopped, running={"T"}) == [("stop", "T")]  # running against its runtimeState
    changed = {("trigger", "T"): trigger("T", scope="new")}
    assert steps(same, changed, running=set()) == [("start", "T")]  # not running: nothing to stop first


# --- generated/ at a git ref -----------------------------------------------------------------------------------
def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT / "generated", tmp_path / "generated")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "generated")
    git(tmp_path, "commit", "-qm", "generated")
    return tmp_path


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=4))


def test_diff_generated_names_the_one_changed_value(repo: Path):
    assert render_text(diff_generated("HEAD", repo)) == "no changes"
    edit_json(repo / "generated/factory/pipeline/PrepareAndTrain.json",
              lambda d: d["properties"]["activities"][0]["typeProperties"]["baseParameters"].update(split_seed="1"))
    diff = diff_generated("HEAD", repo)
    assert render_lines(diff) == [
        'pipeline PrepareAndTrain: activity PrepareData: typeProperties.baseParameters.split_seed "20240601" → "1"',
        "keep trigger InputCsvCreated untouched: pipeline PrepareAndTrain changed, the trigger did not: "
        "it keeps running and is not restarted"]


def test_diff_generated_shows_environment_values_and_template_parameters(repo: Path):
    git(repo, "mv", "generated/factory/dataset/RejectedFiles.json", "generated/RejectedFiles.json.bak")
    git(repo, "commit", "-qm", "no RejectedFiles")  # so the work tree adds it back
    shutil.move(repo / "generated/RejectedFiles.json.bak", repo / "generated/factory/dataset/RejectedFiles.json")
    edit_json(repo / "generated/arm/parameters/qa.json",
              lambda d: d["parameters"]["factoryName"].update(value="adf-porto-qa2"))
    edit_json(repo / "generated/arm/ARMTemplateForFactory.json",
              lambda d: d["parameters"].update(extra={"type": "string"}))
    assert render_lines(diff_generated("HEAD", repo)) == [
        "dataset RejectedFiles: added",
        'env qa: factoryName "adf-porto-qa" → "adf-porto-qa2"',
        'template: extra added: {"type": "string"}']


def test_diff_generated_says_what_a_bad_ref_is(repo: Path, tmp_path_factory):
    with pytest.raises(GeneratorError, match=r"BASE=no-such-branch is not a git ref in .*; try HEAD~1 or a branch"):
        diff_generated("no-such-branch", repo)
    with pytest.raises(GeneratorError, match="not inside a git repository"):
        diff_generated("HEAD", tmp_path_factory.mktemp("plain"))
