"""`make validate`: the committed generated/ is clean, and each kind of breakage is reported at its file and
JSON path. Every case copies generated/, breaks exactly one thing and expects exactly the problems listed."""
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.validate import Problem, format_problems, validate_generated

PIPELINE = "factory/pipeline/PrepareAndTrain.json"
TRIGGER = "factory/trigger/InputCsvCreated.json"
DATASET = "factory/dataset/InputCsv.json"
LINKED_SERVICE = "factory/linkedService/Databricks.json"
TEMPLATE = "arm/ARMTemplateForFactory.json"
ACT = "properties.activities"
UNTIL = f"{ACT}[2].typeProperties.activities"  # PollInterval, GetTrainingJob, RecordTrainingStatus
DELETE = object()
GENERATED = Path(__file__).resolve().parents[2] / "generated"


def segments(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]


def put(path: str, value: Any) -> Callable[[Any], None]:
    """A change that sets (or, with DELETE, removes) the value at a JSON path like `a.b[0].c`."""
    *parents, last = segments(path)

    def change(document: Any) -> None:
        for segment in parents:
            document = document[segment]
        if value is DELETE:
            del document[last]
        else:
            document[last] = value
    return change


@dataclass
class Case:
    """Set `path` of `file` to `value` (DELETE removes it); expect problems at `reported` (default: that
    path), in order, the first one saying `says`."""
    file: str
    path: str
    value: Any
    says: str
    reported: list[str | tuple[str, str]] | None = None

    def expected(self) -> list[tuple[str, str]]:
        return [r if isinstance(r, tuple) else (self.file, r) for r in self.reported or [self.path]]


def copy_generated(tmp_path: Path) -> Path:
    root = tmp_path / "generated"
    shutil.copytree(GENERATED, root)
    return root


def edit(root: Path, file: str, change: Callable[[Any], None]) -> None:
    path = root / file
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=4))


def at(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.file, p.json_path) for p in problems]


SWITCH = {"name": "RouteOutcome", "type": "Switch", "dependsOn": [], "userProperties": [], "typeProperties": {
    "on": {"value": "@variables('training_status')", "type": "Expression"},
    "cases": [{"value": "Failed", "activities": [{
        "name": "JobFailed", "type": "Fail", "userProperties": [],
        "dependsOn": [{"activity": "WaitForTrainingJob", "dependencyConditions": ["Succeeded"]}],
        "typeProperties": {"message": "failed", "errorCode": "Failed"}}]}]}}
PARAMETERS_FILES = ["arm/ARMTemplateParametersForFactory.json", "arm/parameters/dev.json", "arm/parameters/local.json",
                    "arm/parameters/prod.json", "arm/parameters/qa.json"]

CASES = {
    # 1. the SDK models
    "unknown activity type": Case(PIPELINE, f"{ACT}[0].type", "DatabricksNoteBook",
                                  "Activity type 'DatabricksNoteBook' of 'PrepareData' is unknown to the SDK models "
                                  "(azure-mgmt-datafactory 9.3.0) (did you mean 'DatabricksNotebook'?)"),
    "unknown nested activity type": Case(PIPELINE, f"{UNTIL}[0].type", "Wiat", "(did you mean 'Wait'?)"),
    "unknown linked service type": Case(LINKED_SERVICE, "properties.type", "AzureDataBrick",
                                        "LinkedService type 'AzureDataBrick' is unknown"),
    "unknown trigger type": Case(TRIGGER, "properties.type", "BlobEventTrigger", "(did you mean 'BlobEventsTrigger'?)"),
    "missing required field": Case(PIPELINE, f"{ACT}[1].typeProperties.url", DELETE,
                                   "required property 'url' of WebActivity 'StartTrainingJob' is missing"),
    "unknown key in typeProperties": Case(PIPELINE, f"{ACT}[1].typeProperties.methd", "GET",
                                          "WebActivity 'StartTrainingJob' has no property 'methd' (did you mean "
                                          "'method'?): the SDK models (azure-mgmt-datafactory 9.3.0) drop it"),
    "unknown key kept by additional_properties": Case(PIPELINE, f"{ACT}[0].retries", 3,
                                                      "has no property 'retries' (known here: dependsOn, description"),
    "unknown key in a parameter": Case(PIPELINE, "properties.parameters.fileName.defaultValu", "x.csv",
                                       "(did you mean 'defaultValue'?)"),
    "expression object where the SDK takes a string": Case(
        PIPELINE, f"{UNTIL}[2].typeProperties.variableName",
        {"value": "@concat('training_', 'status')", "type": "Expression"}, "takes a string here, found an object"),
    "string where the SDK takes an Expression object": Case(PIPELINE, f"{ACT}[3].typeProperties.expression", "@true",
                                                           "expected an object (Expression)"),
    # 2. references
    "dangling dependsOn": Case(PIPELINE, f"{ACT}[1].dependsOn[0].activity", "PrepareDta",
                               "depends on 'PrepareDta', which is not an activity of this list (did you mean "
                               "'PrepareData'?)"),
    "dependsOn outside its scope": Case(PIPELINE, f"{UNTIL}[1].dependsOn[0].activity", "StartTrainingJob",
                                        "depends on 'StartTrainingJob', which is in another activities list"),
    "dependsOn from a Switch case to an outer activity": Case(
        PIPELINE, f"{ACT}[3]", SWITCH, "depends on 'WaitForTrainingJob', which is in another activities list",
        [f"{ACT}[3].typeProperties.cases[0].activities[0].dependsOn[0].activity"]),
    "dependsOn itself": Case(PIPELINE, f"{ACT}[1].dependsOn[0].activity", "StartTrainingJob", "depends on itself"),
    "duplicate activity name": Case(PIPELINE, f"{UNTIL}[0].name", "PrepareData", "'PrepareData' is used twice",
                                    [f"{UNTIL}[0].name", f"{UNTIL}[1].dependsOn[0].activity"]),
    "dangling linked service in a pipeline": Case(PIPELINE, f"{ACT}[0].linkedServiceName.referenceName", "Databrick",
                                                  "names linkedService 'Databrick', which is not in "
                                                  "factory/linkedService/ (did you mean 'Databricks'?)"),
    "dangling linked service in a dataset": Case(DATASET, "properties.linkedServiceName.referenceName", "Lake",
                                                 "(there: AzureMLWorkspace, Databricks, PortoStorage)"),
    "dangling dataset": Case(PIPELINE, f"{ACT}[1].typeProperties.datasets",
                             [{"referenceName": "InputCSV2", "type": "DatasetReference"}], "names dataset 'InputCSV2'",
                             [f"{ACT}[1].typeProperties.datasets[0].referenceName"]),
    "dataset reference missing a required parameter": Case(
        PIPELINE, f"{ACT}[1].typeProperties.datasets",
        [{"referenceName": "InputCsv", "type": "DatasetReference", "parameters": {"folderPath": "in"}}],
        "dataset 'InputCsv' requires parameter 'fileName'", [f"{ACT}[1].typeProperties.datasets[0].parameters"]),
    "dangling pipeline in a trigger": Case(TRIGGER, "properties.pipelines[0].pipelineReference.referenceName", "Train",
                                           "names pipeline 'Train'"),
    "trigger passes an undeclared parameter": Case(TRIGGER, "properties.pipelines[0].parameters.folder", "x",
                                                   "pipeline 'PrepareAndTrain' declares no parameter 'folder'"),
    "trigger omits a required parameter": Case(TRIGGER, "properties.pipelines[0].parameters.fileName", DELETE,
                                               "requires parameter 'fileName' (it has no defaultValue)",
                                               ["properties.pipelines[0].parameters"]),
    "undeclared variable in an expression": Case(
        PIPELINE, f"{ACT}[3].typeProperties.expression.value", "@equals(variables('training_state'), 'Completed')",
        "variables('training_state') names no variable of the pipeline (did you mean 'training_status'?)"),
    "undeclared variable set": Case(PIPELINE, f"{UNTIL}[2].typeProperties.variableName", "status",
                                    "SetVariable sets variable 'status', which the pipeline does not declare"),
    "undeclared pipeline parameter": Case(PIPELINE, f"{ACT}[0].typeProperties.baseParameters.input_file_name.value",
                                          "@pipeline().parameters.file", "pipeline().parameters.file is not declared"),
    "undeclared dataset parameter": Case(DATASET, "properties.typeProperties.location.fileName.value",
                                         "@dataset().name", "dataset().name is not a parameter of this dataset"),
    "unknown activity() name": Case(PIPELINE, f"{UNTIL}[2].typeProperties.value.value",
                                    "@activity('GetTrainingJobs').output.properties.status",
                                    "activity('GetTrainingJobs') names no activity"),
    # 3. expressions parse
    "unparsable expression": Case(PIPELINE, f"{ACT}[1].typeProperties.url.value", "@concat(pipeline().parameters.x,)",
                                  "expression does not parse: Unexpected ')'"),
    "unparsable interpolation": Case(TRIGGER, "properties.pipelines[0].parameters.fileName",
                                     "x-@{triggerBody().fileName", "Expected '}' to close the '@{'"),
    # 4. the ARM template and its parameters files
    "undeclared ARM parameter": Case(TEMPLATE, "resources[1].properties.typeProperties.domain",
                                     "[parameters('Databricks_domain')]",
                                     "uses parameters('Databricks_domain'), which the template does not declare"),
    "undeclared ARM variable": Case(TEMPLATE, "resources[3].dependsOn[0]", "[concat(variables('factoryID'), '/x')]",
                                    "(did you mean 'factoryId'?)"),
    "unparsable ARM expression": Case(TEMPLATE, "resources[0].name", "[concat(parameters('factoryName') '/x')]",
                                      "expected ')' at column 35"),
    "parameters file sets an undeclared parameter": Case("arm/parameters/dev.json", "parameters.Databricks_domain",
                                                         {"value": "x"}, "sets 'Databricks_domain', which"),
    "parameters file entry without a value": Case("arm/parameters/qa.json", "parameters.factoryName", "adf-porto-qa",
                                                  'expected {"value": ...}'),
    "template parameter that no parameters file sets": Case(
        TEMPLATE, "parameters.Databricks_token", {"type": "secureString"},
        "does not set 'Databricks_token', which ARMTemplateForFactory.json declares without a default",
        [(file, "parameters") for file in PARAMETERS_FILES]),
}


def test_the_committed_generated_folder_has_no_problem():
    assert validate_generated(GENERATED) == []


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_breakage_is_reported_at_its_file_and_json_path(case, tmp_path):
    root = copy_generated(tmp_path)
    edit(root, case.file, put(case.path, case.value))
    problems = validate_generated(root)
    assert at(problems) == case.expected(), format_problems(problems)
    assert case.says in problems[0].message


def test_expression_problems_carry_a_marker_under_the_failing_place(tmp_path):
    root = copy_generated(tmp_path)
    edit(root, PIPELINE, put(f"{ACT}[3].typeProperties.expression.value", "@equals(variables('x'), 'Completed')"))
    [problem] = validate_generated(root)
    assert problem.message.splitlines()[1:] == ["  @equals(variables('x'), 'Completed')", "          ^"]
    assert str(problem).startswith(f"{PIPELINE}: {ACT}[3].typeProperties.expression.value: variables('x') names")
    assert str(problem).splitlines()[1] == "      @equals(variables('x'), 'Completed')"  # indented under the line


def test_linked_templates_and_their_parameters_are_checked(tmp_path):
    root = copy_generated(tmp_path)
    linked = root / "arm" / "linkedTemplates"
    linked.mkdir()
    (linked / "ArmTemplate_master.json").write_text(json.dumps({
        "parameters": {"containerUri": {"type": "string"}},
        "resources": [{"name": "ArmTemplate_0", "properties": {
            "uri": "[concat(parameters('containerUri'), '/0.json')]", "token": "[parameters('containerSasToken')]"}}]}))
    (linked / "ArmTemplateParameters_master.json").write_text(json.dumps({"parameters": {"factoryName": {"value": "f"}}}))
    assert at(validate_generated(root)) == [
        ("arm/linkedTemplates/ArmTemplate_master.json", "resources[0].properties.token"),
        ("arm/linkedTemplates/ArmTemplateParameters_master.json", "parameters.factoryName"),
        ("arm/linkedTemplates/ArmTemplateParameters_master.json", "parameters"),
    ]


def test_unreadable_and_misnamed_files_are_problems_not_crashes(tmp_path):
    root = copy_generated(tmp_path)
    (root / "factory" / "dataset" / "Broken.json").write_text('{"name": "Broken", "properties": {')
    (root / TRIGGER).rename(root / "factory" / "trigger" / "OnCsv.json")
    (root / "arm" / "parameters" / "qa.json").unlink()
    (root / "arm" / "parameters" / "qa.json").mkdir()  # not a file: reported, the other files still checked
    problems = validate_generated(root)
    assert at(problems) == [("factory/dataset/Broken.json", "$"), ("factory/trigger/OnCsv.json", "name"),
                            ("arm/parameters/qa.json", "$")]
    assert problems[0].message == "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 35"
    assert "differs from the file name" in problems[1].message and "is a folder" in problems[2].message


def test_format_problems_gives_one_file_path_message_entry_each():
    problems = [Problem("a.json", "properties.x", "wrong"), Problem("b.json", "$", "first\n  ^")]
    assert format_problems(problems) == ["a.json: properties.x: wrong", "b.json: $: first\n      ^"]


def test_no_pipeline_may_delete_from_or_copy_into_the_archive(tmp_path):
    root = copy_generated(tmp_path)
    pipeline = "factory/pipeline/PrepareAndTrain.json"
    purge = {"name": "PurgeArchive", "type": "Delete", "dependsOn": [],
             "typeProperties": {"dataset": {"referenceName": "LineageArchive", "type": "DatasetReference"},
                                "enableLogging": False}}
    overwrite = {"name": "OverwriteArchive", "type": "Copy", "dependsOn": [],
                 "inputs": [{"referenceName": "InputCsv", "type": "DatasetReference"}],
                 "outputs": [{"referenceName": "LineageArchive", "type": "DatasetReference"}],
                 "typeProperties": {"source": {"type": "BinarySource"}, "sink": {"type": "BinarySink"}}}

    def add(body):
        body["properties"]["activities"].append({"name": "Cleanup", "type": "IfCondition", "dependsOn": [],
                                                 "typeProperties": {"expression": {"value": "@true()",
                                                                                   "type": "Expression"},
                                                                    "ifTrueActivities": [purge, overwrite]}})

    edit(root, pipeline, add)
    problems = [p for p in validate_generated(root, {"LineageArchive"}) if "retention" in p.message]
    last = len(json.loads((root / pipeline).read_text())["properties"]["activities"]) - 1
    assert at(problems) == [
        (pipeline, f"properties.activities[{last}].typeProperties.ifTrueActivities[0].typeProperties.dataset"),
        (pipeline, f"properties.activities[{last}].typeProperties.ifTrueActivities[1].outputs[0]")]
    assert "'PurgeArchive' deletes from dataset 'LineageArchive'" in problems[0].message
    assert validate_generated(copy_generated(tmp_path / "clean"), {"LineageArchive"}) == []
