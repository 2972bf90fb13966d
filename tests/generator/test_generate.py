"""`make generate`: deterministic, committed, SDK-valid, ADF export conventions, per-environment parameters."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from generator.build import DEFAULT_OUT, environment_exports, generate, plan_files, stale_files
from generator.errors import StaleEnvironmentError
from generator.layout import FactoryObject, read_factory_folder
from generator.sdk_check import check_object
from generator.spec import Spec, load_spec


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def with_change(spec: Spec, path: list[str], value) -> Spec:
    data = copy.deepcopy(spec.data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return Spec(spec.path, data)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def test_committed_generated_folder_is_not_stale(spec):
    assert stale_files(spec, DEFAULT_OUT) == [], "generated/ is stale: run `make generate` and commit"


def test_generating_twice_changes_no_byte(spec, tmp_path):
    changed, _ = generate(spec, tmp_path)
    first = snapshot(tmp_path)
    assert len(changed) == len(first) > 10
    changed_again, removed = generate(spec, tmp_path)
    assert changed_again == [] and removed == []
    assert snapshot(tmp_path) == first


def test_stray_files_are_removed_and_reported(spec, tmp_path):
    generate(spec, tmp_path)
    stray = tmp_path / "factory" / "pipeline" / "Old.json"
    stray.write_text("{}")
    assert "factory/pipeline/Old.json (not generated)" in stale_files(spec, tmp_path)
    _, removed = generate(spec, tmp_path)
    assert removed == [stray] and not stray.exists()


def test_git_layout_one_file_per_object_named_after_it(spec):
    objects, definition = read_factory_folder(DEFAULT_OUT / "factory")
    assert {(o.folder, o.name) for o in objects} == {
        ("linkedService", "PortoStorage"), ("linkedService", "Databricks"), ("linkedService", "AzureMLWorkspace"),
        ("dataset", "InputCsv"), ("dataset", "TrainingData"), ("dataset", "TestingData"),
        ("dataset", "RejectedFiles"), ("dataset", "LineageArchive"),
        ("pipeline", "PrepareAndTrain"), ("trigger", "InputCsvCreated")}
    assert definition is not None
    folders = {p.name for p in (DEFAULT_OUT / "factory").iterdir()}
    assert folders == {"linkedService", "dataset", "pipeline", "trigger", "arm-template-parameters-definition.json"}


def test_every_generated_object_deserializes_into_the_sdk_models(spec):
    objects, _ = read_factory_folder(DEFAULT_OUT / "factory")
    assert {o.name: check_object(o) for o in objects} == {o.name: [] for o in objects}


def test_sdk_check_catches_unknown_types_and_missing_required_fields():
    body = json.loads((DEFAULT_OUT / "factory" / "pipeline" / "PrepareAndTrain.json").read_text())
    body["properties"]["activities"][0]["type"] = "DatabricksNoteBook"
    del body["properties"]["activities"][1]["typeProperties"]["url"]
    problems = check_object(FactoryObject("pipeline", "PrepareAndTrain", body))
    assert any("PrepareData" in p and "unknown to the SDK" in p for p in problems)
    assert any("StartTrainingJob" in p and "'url'" in p for p in problems)


def test_the_pipeline_is_the_azure_ml_v2_pattern(spec):
    pipeline = json.loads((DEFAULT_OUT / "factory" / "pipeline" / "PrepareAndTrain.json").read_text())
    activities = {a["name"]: a for a in pipeline["properties"]["activities"]}
    assert activities["PrepareData"]["type"] == "DatabricksNotebook"
    invoke = activities["StartTrainingJob"]
    assert invoke["type"] == "WebActivity" and invoke["typeProperties"]["method"] == "POST"
    assert invoke["typeProperties"]["authentication"] == {"type": "MSI", "resource": "https://ml.azure.com"}
    assert invoke["dependsOn"] == [{"activity": "PrepareData", "dependencyConditions": ["Succeeded"]}]
    wait = activities["WaitForTrainingJob"]
    assert wait["type"] == "Until"
    assert [a["type"] for a in wait["typeProperties"]["activities"]] == ["Wait", "WebActivity", "SetVariable"]
    assert not any(a["type"] == "AzureMLExecutePipeline" for a in activities.values())


def test_trigger_watches_input_for_csv_and_ignores_empty_blobs():
    trigger = json.loads((DEFAULT_OUT / "factory" / "trigger" / "InputCsvCreated.json").read_text())["properties"]
    assert trigger["type"] == "BlobEventsTrigger" and trigger["runtimeState"] == "Started"
    tp = trigger["typeProperties"]
    assert (tp["blobPathBeginsWith"], tp["blobPathEndsWith"], tp["ignoreEmptyBlobs"]) == ("/input/blobs/", ".csv", True)
    assert trigger["pipelines"][0]["parameters"] == {"folderPath": "@triggerBody().folderPath",
                                                     "fileName": "@triggerBody().fileName"}


def test_arm_template_follows_adf_export_conventions():
    template = json.loads((DEFAULT_OUT / "arm" / "ARMTemplateForFactory.json").read_text())
    assert template["$schema"].endswith("deploymentTemplate.json#") and template["contentVersion"] == "1.0.0.0"
    assert template["parameters"]["factoryName"] == {"type": "string", "metadata": "Data Factory name",
                                                     "defaultValue": "adf-porto-dev"}
    assert template["variables"] == {"factoryId": "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]"}
    by_name = {}
    for resource in template["resources"]:
        assert resource["apiVersion"] == "2018-06-01"
        assert resource["name"].startswith("[concat(parameters('factoryName'), '/")
        by_name[resource["name"].split("'/")[1].rstrip("')]")] = resource
    assert by_name["PrepareAndTrain"]["dependsOn"] == [
        "[concat(variables('factoryId'), '/linkedServices/Databricks')]"]
    assert by_name["InputCsvCreated"]["dependsOn"] == ["[concat(variables('factoryId'), '/pipelines/PrepareAndTrain')]"]
    assert by_name["InputCsvCreated"]["properties"]["typeProperties"]["scope"] == \
        "[parameters('InputCsvCreated_properties_typeProperties_scope')]"
    for name in ("Databricks_properties_typeProperties_domain", "Databricks_properties_typeProperties_existingClusterId",
                 "AzureMLWorkspace_properties_typeProperties_mlWorkspaceName",
                 "PrepareAndTrain_properties_parameters_training_endpoint_uri_defaultValue"):
        assert name in template["parameters"], f"{name} must be an ARM parameter"
    assert template["parameters"]["PrepareAndTrain_properties_parameters_poll_interval_seconds_defaultValue"]["type"] == "int"


def test_every_environment_has_a_value_for_every_parameter_and_no_secret(spec):
    template = json.loads((DEFAULT_OUT / "arm" / "ARMTemplateForFactory.json").read_text())
    for env in spec.environments:
        params = json.loads((DEFAULT_OUT / "arm" / "parameters" / f"{env}.json").read_text())["parameters"]
        assert set(params) == set(template["parameters"])
        assert params["factoryName"]["value"] == spec.environment(env)["factory_name"]
        assert all("value" in p or "reference" in p for p in params.values())
    text = "".join(p.read_text() for p in DEFAULT_OUT.rglob("*.json")).lower()
    for marker in ("accountkey=", "password", "sharedaccesssignature", "client_secret"):
        assert marker not in text


def test_changing_one_environment_changes_only_its_parameters_file(spec):
    before = {str(f.path.relative_to(DEFAULT_OUT)): f.content for f in plan_files(spec)}
    changed = with_change(spec, ["environments", "qa", "databricks", "cluster_id"], "0909-999999-other")
    after = {str(f.path.relative_to(DEFAULT_OUT)): f.content for f in plan_files(changed)}
    assert [k for k in before if before[k] != after[k]] == ["arm/parameters/qa.json"]


def test_an_environment_difference_the_template_does_not_parameterize_is_an_error(spec, monkeypatch):
    data = copy.deepcopy(spec.data)
    data["environments"]["qa"]["storage"]["blob_endpoint"] = "https://other.blob.core.windows.net"
    exports = environment_exports(Spec(spec.path, data))  # parameterized by the definition: fine
    assert exports["qa"].parameters_file()["parameters"]["PortoStorage_properties_typeProperties_serviceEndpoint"] == \
        {"value": "https://other.blob.core.windows.net"}
    monkeypatch.setattr("generator.build.render_definition", lambda s: {})  # a definition that parameterizes nothing
    with pytest.raises(StaleEnvironmentError, match=r"environment '(local|qa|prod)' differs from 'dev'.*definition"):
        environment_exports(spec)
