"""ARM's limits: 256 parameters (an error with the fix), 800 resources and 4 MB (linked templates, as ADF writes)."""
from __future__ import annotations

import json

import pytest

from generator import arm_export
from generator.arm_export import Limits, export, serialized_size
from generator.build import plan_files
from generator.errors import ExportError
from generator.layout import FactoryObject
from generator.linked_templates import MASTER, MASTER_PARAMETERS, linked_template_files
from generator.spec import load_spec

DEFINITION = {"Microsoft.DataFactory/factories/datasets": {"*": {"properties": {"typeProperties": {"folderPath": "="}}}}}


def dataset(name: str, linked_service: str = "Store", **extra) -> FactoryObject:
    return FactoryObject("dataset", name, {"name": name, "properties": {
        "linkedServiceName": {"referenceName": linked_service, "type": "LinkedServiceReference"},
        "type": "AzureBlob", "typeProperties": {"folderPath": f"data/{name}"}, **extra}})


def factory(datasets: int, **extra) -> list[FactoryObject]:
    store = FactoryObject("linkedService", "Store", {"name": "Store", "properties": {"type": "AzureBlobStorage"}})
    return [store] + [dataset(f"ds{i:04d}", **extra) for i in range(datasets)]


def short(resource: dict) -> str:
    return resource["name"].split("'/")[1][:-3]


# --- parameters: linked templates cannot help ---

def test_the_parameter_limit_is_an_error_naming_limit_count_and_fix():
    export(factory(4), DEFINITION, "f", Limits(parameters=5))  # factoryName + 4: at the limit is fine
    with pytest.raises(ExportError) as caught:
        export(factory(5), DEFINITION, "f", Limits(parameters=5))
    message = str(caught.value)
    assert "the ARM template has 6 parameters, over ARM's limit of 5; linked templates do not help" in message
    assert "Most come from: ds0000 (1), ds0001 (1), ds0002 (1)" in message
    assert "fix: remove entries from arm-template-parameters-definition.json" in message
    assert "global parameters" in message


def test_the_default_parameter_limit_is_256():
    export(factory(255), DEFINITION, "f")
    with pytest.raises(ExportError, match="has 257 parameters, over ARM's limit of 256"):
        export(factory(256), DEFINITION, "f")


def test_linked_templates_count_the_two_container_parameters():
    small = export(factory(3), DEFINITION, "f", Limits(parameters=5, resources=2))
    with pytest.raises(ExportError, match=r"has 6 parameters \(with containerUri and containerSasToken, which linked "
                                          r"templates add\), over ARM's limit of 5"):
        linked_template_files(small, Limits(parameters=5, resources=2))


def test_one_resource_over_one_megabyte_is_an_error():
    big = factory(1, description="x" * 300)
    with pytest.raises(ExportError, match=r"resource \[concat\(parameters\('factoryName'\), '/ds0000'\)\] is \d+ "
                                          r"bytes, over ARM's limit of 300 for one resource definition\n  fix: split"):
        export(big, DEFINITION, "f", Limits(resource_bytes=300))


# --- resources and size: linked templates ---

def test_within_the_limits_there_are_no_linked_templates():
    assert linked_template_files(export(factory(3), DEFINITION, "f")) == {}


@pytest.fixture(scope="module")
def split_by_count():
    limits = Limits(resources=3)
    exp = export(factory(7), DEFINITION, "adf-big", limits)
    return exp, linked_template_files(exp, limits)


def test_past_the_resource_limit_adf_s_linked_template_files_appear(split_by_count):
    _, files = split_by_count
    assert sorted(files) == ["linkedTemplates/ArmTemplateParameters_master.json",
                             "linkedTemplates/ArmTemplate_0.json", "linkedTemplates/ArmTemplate_1.json",
                             "linkedTemplates/ArmTemplate_2.json", "linkedTemplates/ArmTemplate_master.json"]


def test_children_hold_every_resource_once_dependencies_first(split_by_count):
    exp, files = split_by_count
    children = [files[f"linkedTemplates/ArmTemplate_{n}.json"] for n in range(3)]
    placed = {short(r): n for n, child in enumerate(children) for r in child["resources"]}
    assert sorted(placed) == sorted(short(r) for r in exp.template["resources"])
    assert [len(c["resources"]) for c in children] == [3, 3, 2]
    assert placed["Store"] == 0  # every dataset depends on it: it is deployed first
    for child in children:
        assert child["variables"] == exp.template["variables"]
        used = {p for r in child["resources"] for p in json.dumps(r).split("parameters('")[1:]}
        assert list(child["parameters"]) == ["factoryName"] + sorted(
            (u.split("'")[0] for u in used if not u.startswith("factoryName")), key=list(exp.template["parameters"]).index)


def test_the_master_deploys_each_child_after_the_previous_one(split_by_count):
    exp, files = split_by_count
    master = files[MASTER]
    assert list(master["parameters"]) == list(exp.template["parameters"]) + ["containerUri", "containerSasToken"]
    assert master["parameters"]["containerSasToken"] == {
        "type": "string", "metadata": "Sas token to storage account containing linked ARM templates"}
    deployments = master["resources"]
    assert [d["name"] for d in deployments] == ["adf-big_ArmTemplate_0", "adf-big_ArmTemplate_1", "adf-big_ArmTemplate_2"]
    second = deployments[1]
    assert second["type"] == "Microsoft.Resources/deployments" and second["properties"]["mode"] == "incremental"
    assert second["properties"]["templateLink"] == {
        "uri": "[concat(parameters('containerUri'), '/ArmTemplate_1.json', parameters('containerSasToken'))]",
        "contentVersion": "1.0.0.0"}
    assert second["dependsOn"] == ["[resourceId('Microsoft.Resources/deployments', 'adf-big_ArmTemplate_0')]"]
    assert deployments[0]["dependsOn"] == []
    child = files["linkedTemplates/ArmTemplate_1.json"]
    assert second["properties"]["parameters"] == {p: {"value": f"[parameters('{p}')]"} for p in child["parameters"]}


def test_the_master_parameters_file_adds_the_container_values(split_by_count):
    exp, files = split_by_count
    values = files[MASTER_PARAMETERS]["parameters"]
    assert values == {**exp.adf_parameters_file()["parameters"],
                      "containerUri": {"value": ""}, "containerSasToken": {"value": ""}}


def test_past_the_size_limit_every_child_fits():
    exp = export(factory(12), DEFINITION, "f")
    limits = Limits(template_bytes=serialized_size(exp.template) // 3)
    files = linked_template_files(exp, limits)
    children = [v for k, v in files.items() if k.startswith("linkedTemplates/ArmTemplate_") and k[-6].isdigit()]
    assert len(children) >= 3
    assert all(serialized_size(child) <= limits.template_bytes for child in children)
    assert sum(len(c["resources"]) for c in children) == 13


def test_a_resource_too_big_for_any_child_is_an_error():
    exp = export(factory(2, description="x" * 2000), DEFINITION, "f")
    with pytest.raises(ExportError, match=r"resource .*ds0000.* alone makes a template of \d+ bytes"):
        linked_template_files(exp, Limits(template_bytes=1500))


def test_a_real_factory_past_800_resources():
    exp = export(factory(805), {}, "adf-big")
    files = linked_template_files(exp)
    assert [len(files[f"linkedTemplates/ArmTemplate_{n}.json"]["resources"]) for n in (0, 1)] == [800, 6]


def test_a_real_factory_past_4_megabytes():
    exp = export(factory(5, description="x" * 900_000), {}, "adf-big")
    assert serialized_size(exp.template) > 4 * 1024 * 1024
    files = linked_template_files(exp)
    children = [files[k] for k in sorted(files) if k[-6].isdigit()]
    assert len(children) == 2 and all(serialized_size(c) <= 4 * 1024 * 1024 for c in children)


# --- generate writes them only when needed ---

def test_generate_plans_linked_templates_only_past_a_limit(monkeypatch, tmp_path):
    spec = load_spec()
    assert not [f for f in plan_files(spec, tmp_path) if "linkedTemplates" in str(f.path)]
    monkeypatch.setattr(arm_export, "DEFAULT_LIMITS", Limits(resources=4))
    linked = sorted(str(f.path.relative_to(tmp_path)) for f in plan_files(spec, tmp_path) if "linkedTemplates" in str(f.path))
    assert linked == ["arm/linkedTemplates/ArmTemplateParameters_master.json", "arm/linkedTemplates/ArmTemplate_0.json",
                      "arm/linkedTemplates/ArmTemplate_1.json", "arm/linkedTemplates/ArmTemplate_2.json",
                      "arm/linkedTemplates/ArmTemplate_master.json"]
