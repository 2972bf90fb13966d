"""The exporter against a reference pair written by hand, plus the export conventions the reference does not cover.

tests/generator/reference/factory/ is a small ADF git folder built from the examples of Microsoft's "Use custom
parameters with the Resource Manager template" (its sample definition file, plus the triggers' keyed `pipelines`
and `scope` of the default one); reference/expected/ is what ADF's export writes for it, written by hand from the
conventions of the real exports named in generator/arm_export.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.arm_export import export
from generator.errors import ExportError
from generator.layout import FactoryObject, read_git_folder

REFERENCE = Path(__file__).parent / "reference"


def load(name: str) -> dict:
    return json.loads((REFERENCE / "expected" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference():
    objects, definition = read_git_folder(REFERENCE / "factory")
    return export(objects, definition, "adf-ref-dev")


def test_parameters_match_the_reference_in_name_order_type_default_and_metadata(reference):
    expected = load("ARMTemplateForFactory.json")["parameters"]
    assert list(reference.template["parameters"]) == list(expected)
    for name, entry in expected.items():
        assert reference.template["parameters"][name] == entry, name


def test_resources_match_the_reference_key_for_key(reference):
    expected = load("ARMTemplateForFactory.json")["resources"]
    assert [r["name"] for r in reference.template["resources"]] == [r["name"] for r in expected]
    for got, want in zip(reference.template["resources"], expected):
        assert list(got) == ["name", "type", "apiVersion", "properties", "dependsOn"]
        for key in want:
            assert got[key] == want[key], f"{want['name']}: {key}"


def test_the_whole_template_and_parameters_file_match(reference):
    assert reference.template == load("ARMTemplateForFactory.json")
    assert reference.adf_parameters_file() == load("ARMTemplateParametersForFactory.json")


def test_the_reference_shows_the_conventions_it_pins(reference):
    by_name = {r["name"].split("'/")[1][:-3]: r for r in reference.template["resources"]}
    # ExecutePipeline: the calling pipeline depends on the pipeline it runs.
    assert by_name["RunAll"]["dependsOn"] == ["[concat(variables('factoryId'), '/pipelines/CopyOrders')]"]
    # A Key Vault reference stays one and makes the linked service depend on the vault.
    assert by_name["SqlDatabase"]["properties"]["typeProperties"]["password"]["type"] == "AzureKeyVaultSecret"
    assert "[concat(variables('factoryId'), '/linkedServices/AzureKeyVault1')]" in by_name["SqlDatabase"]["dependsOn"]
    # Secure strings never carry a default, in the template or in the parameters file.
    secure = [k for k, v in reference.template["parameters"].items() if v["type"] == "secureString"]
    assert secure and all("defaultValue" not in reference.template["parameters"][k] for k in secure)
    assert all(reference.adf_parameters_file()["parameters"][k] == {"value": ""} for k in secure)


def test_the_project_parameters_file_refuses_a_blank_secret(reference):
    with pytest.raises(ExportError, match="BlobStorage_connectionString has no default and no value"):
        reference.parameters_file()
    values = {p.name: "x" for p in reference.parameters if not p.has_default}
    assert reference.parameters_file(values)["parameters"]["BlobStorage_connectionString"] == {"value": "x"}


# --- conventions outside the reference ---

def obj(folder: str, name: str, **properties) -> FactoryObject:
    return FactoryObject(folder, name, {"name": name, "properties": properties})


def ref(kind: str, name: str) -> dict:
    return {"referenceName": name, "type": kind}


def names(template: dict) -> list[str]:
    return [r["name"].split("'/")[1][:-3] for r in template["resources"]]


def test_resources_are_grouped_by_type_and_sorted_ordinally_within():
    objects = [obj("linkedService", "b", type="X"), obj("trigger", "t", type="X"), obj("dataflow", "df", type="X"),
               obj("dataset", "ds", type="X"), obj("pipeline", "p_b"), obj("pipeline", "P_a"),
               obj("pipeline", "p_A"), obj("linkedService", "A", type="X")]
    assert names(export(objects, {}, "f").template) == ["P_a", "p_A", "p_b", "ds", "A", "b", "t", "df"]


def test_depends_on_lists_present_objects_grouped_by_type_in_order_of_appearance():
    pipeline = obj("pipeline", "P", activities=[
        {"name": "c", "type": "Copy", "typeProperties": {"stagingSettings": {
            "linkedServiceName": ref("LinkedServiceReference", "Stage")}},
         "inputs": [ref("DatasetReference", "Zin")], "outputs": [ref("DatasetReference", "Aout")]},
        {"name": "run", "type": "ExecutePipeline", "typeProperties": {"pipeline": ref("PipelineReference", "Child")}},
        {"name": "df", "type": "ExecuteDataFlow", "typeProperties": {"dataflow": ref("DataFlowReference", "Flow")}},
        {"name": "x", "type": "Copy", "inputs": [ref("DatasetReference", "NotInFactory")]}])
    objects = [pipeline, obj("pipeline", "Child"), obj("dataset", "Zin", type="X"), obj("dataset", "Aout", type="X"),
               obj("linkedService", "Stage", type="X"), obj("dataflow", "Flow", type="MappingDataFlow")]
    template = export(objects, {}, "f").template
    assert template["resources"][names(template).index("P")]["dependsOn"] == [f"[concat(variables('factoryId'), '/{p}')]" for p in (
        "pipelines/Child", "datasets/Zin", "datasets/Aout", "linkedServices/Stage", "dataflows/Flow")]


def test_every_reference_kind_becomes_a_dependency():
    ls = obj("linkedService", "L", type="X", connectVia=ref("IntegrationRuntimeReference", "IR"),
             typeProperties={"credential": ref("CredentialReference", "C")})
    ir = obj("integrationRuntime", "IR", type="Managed",
             managedVirtualNetwork={"referenceName": "default", "type": "ManagedVirtualNetworkReference"})
    tumbling = obj("trigger", "T2", type="TumblingWindowTrigger", typeProperties={"dependsOn": [
        {"type": "TumblingWindowTriggerDependencyReference", "referenceTrigger": ref("TriggerReference", "T1")}]})
    vnet = FactoryObject("managedVirtualNetwork", "default", {"name": "default", "properties": {}})
    objects = [ls, ir, tumbling, obj("trigger", "T1", type="TumblingWindowTrigger"),
               obj("credential", "C", type="ManagedIdentity"), vnet]
    template = export(objects, {}, "f").template
    deps = {n: r["dependsOn"] for n, r in zip(names(template), template["resources"])}
    assert deps["L"] == ["[concat(variables('factoryId'), '/integrationRuntimes/IR')]",
                         "[concat(variables('factoryId'), '/credentials/C')]"]
    assert deps["IR"] == ["[concat(variables('factoryId'), '/managedVirtualNetworks/default')]"]
    assert deps["T2"] == ["[concat(variables('factoryId'), '/triggers/T1')]"]


def test_git_folders_outside_the_common_ones(tmp_path):
    root = tmp_path / "adf"
    files = {
        "factory/adf-dev.json": {"name": "adf-dev", "location": "westeurope", "properties": {
            "globalParameters": {"env": {"type": "string", "value": "dev"}, "retries": {"type": "int", "value": 3}}}},
        "managedVirtualNetwork/default.json": {"name": "default", "properties": {}},
        "managedVirtualNetwork/default/managedPrivateEndpoint/pe-blob.json": {"name": "pe-blob", "properties": {
            "privateLinkResourceId": "/subscriptions/x/storageAccounts/st", "groupId": "blob"}},
    }
    for path, body in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(json.dumps(body))
    objects, definition = read_git_folder(root)
    template = export(objects, definition, "adf-dev").template
    by_type = {r["type"].rsplit("/", 1)[1]: r for r in template["resources"]}
    assert by_type["globalparameters"]["name"] == "[concat(parameters('factoryName'), '/default')]"
    assert by_type["globalparameters"]["properties"]["env"] == {
        "type": "string", "value": "[parameters('default_properties_env_value')]"}
    assert template["parameters"]["default_properties_retries_value"] == {"type": "string", "defaultValue": 3}
    pe = by_type["managedPrivateEndpoints"]
    assert pe["name"] == "[concat(parameters('factoryName'), '/default/pe-blob')]"
    assert pe["dependsOn"] == ["[concat(variables('factoryId'), '/managedVirtualNetworks/default')]"]
    assert pe["properties"]["groupId"] == "[parameters('pe-blob_properties_groupId')]"


def test_a_factory_without_global_parameters_adds_no_resource():
    factory = FactoryObject("factory", "adf", {"name": "adf", "properties": {}})
    assert export([factory], None, "adf").template["resources"] == []


def test_unknown_folders_and_two_factory_files_are_errors():
    with pytest.raises(ExportError, match=r"pipelines/P.json: ADF has no folder 'pipelines'; known folders: pipeline"):
        export([obj("pipelines", "P")], {}, "f")
    with pytest.raises(ExportError, match=r"factory/ holds 2 files \(a, b\)"):
        export([FactoryObject("factory", n, {"name": n, "properties": {}}) for n in "ab"], {}, "f")


def test_circular_execute_pipeline_chains_are_reported_before_arm_rejects_them():
    def runs(name: str, other: str) -> FactoryObject:
        return obj("pipeline", name, activities=[{"name": "r", "type": "ExecutePipeline",
                                                  "typeProperties": {"pipeline": ref("PipelineReference", other)}}])
    with pytest.raises(ExportError, match=r"circular dependsOn.*: A -> B -> A\n  fix: break the cycle"):
        export([runs("A", "B"), runs("B", "A")], {}, "f")
    assert export([runs("Self", "Self")], {}, "f").template["resources"][0]["dependsOn"] == []


def test_read_git_folder_requires_file_and_object_names_to_match(tmp_path):
    (tmp_path / "factory").mkdir()
    (tmp_path / "factory" / "adf.json").write_text(json.dumps({"name": "other", "properties": {}}))
    with pytest.raises(ExportError, match=r"adf.json: object name 'other' differs from the file name"):
        read_git_folder(tmp_path)
