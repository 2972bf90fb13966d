"""Every construct of `arm-template-parameters-definition.json`, through the exporter (what a user sees)."""
from __future__ import annotations

import pytest

from generator.arm_export import export
from generator.definition import DEFAULT_DEFINITION
from generator.errors import ExportError
from generator.layout import FactoryObject

LS = "Microsoft.DataFactory/factories/linkedServices"
DS = "Microsoft.DataFactory/factories/datasets"
PL = "Microsoft.DataFactory/factories/pipelines"
TR = "Microsoft.DataFactory/factories/triggers"
IR = "Microsoft.DataFactory/factories/integrationRuntimes"
KV_SECRET = {"type": "AzureKeyVaultSecret", "store": {"referenceName": "Vault", "type": "LinkedServiceReference"},
             "secretName": "s"}


def obj(folder: str, name: str, **properties) -> FactoryObject:
    return FactoryObject(folder, name, {"name": name, "properties": properties})


def ls(name: str, kind: str, **type_properties) -> FactoryObject:
    return obj("linkedService", name, type=kind, typeProperties=type_properties)


def run(definition: dict | None, *objects: FactoryObject) -> tuple[dict, dict]:
    """(template parameters without factoryName, resource properties by object name)."""
    template = export(list(objects), definition, "adf-test").template
    params = {k: v for k, v in template["parameters"].items() if k != "factoryName"}
    props = {r["name"].split("'/")[1][:-3]: r["properties"] for r in template["resources"]}
    return params, props


def typed(rules: dict, kind: str = "*") -> dict:
    return {LS: {kind: {"properties": {"typeProperties": rules}}}}


# --- actions ---

def test_equals_keeps_the_current_value_as_default():
    params, props = run(typed({"url": "="}), ls("Store", "AzureBlobFS", url="https://a.dfs.core.windows.net/"))
    assert params == {"Store_properties_typeProperties_url": {"type": "string",
                                                              "defaultValue": "https://a.dfs.core.windows.net/"}}
    assert props["Store"]["typeProperties"]["url"] == "[parameters('Store_properties_typeProperties_url')]"


def test_minus_emits_no_default():
    params, _ = run(typed({"url": "-"}), ls("Store", "AzureBlobFS", url="https://a"))
    assert params == {"Store_properties_typeProperties_url": {"type": "string"}}


def test_pipe_on_a_plain_string_is_a_secure_string_without_default():
    params, props = run(typed({"connectionString": "|"}), ls("Sql", "AzureSqlDatabase", connectionString="Server=x"))
    assert params == {"Sql_properties_typeProperties_connectionString": {
        "type": "secureString", "metadata": "Secure string for 'connectionString' of 'Sql'"}}
    assert props["Sql"]["typeProperties"]["connectionString"] == \
        "[parameters('Sql_properties_typeProperties_connectionString')]"


def test_pipe_leaves_a_key_vault_reference_in_place_and_depends_on_the_vault():
    vault = ls("Vault", "AzureKeyVault", baseUrl="https://kv.vault.azure.net/")
    template = export([ls("S3", "AmazonS3", secretAccessKey=KV_SECRET), vault], typed({"secretAccessKey": "|"}),
                      "adf-test").template
    assert set(template["parameters"]) == {"factoryName"}
    s3 = next(r for r in template["resources"] if r["name"].endswith("/S3')]"))
    assert s3["properties"]["typeProperties"]["secretAccessKey"] == KV_SECRET
    assert s3["dependsOn"] == ["[concat(variables('factoryId'), '/linkedServices/Vault')]"]


def test_pipe_on_a_secure_string_object_outside_linked_services_parameterizes_its_value():
    ir = obj("integrationRuntime", "Shir", type="SelfHosted",
             typeProperties={"linkedInfo": {"key": {"type": "SecureString", "value": "**"}}})
    params, props = run({IR: {"properties": {"typeProperties": {"linkedInfo": {"key": "|"}}}}}, ir)
    assert params == {"Shir_properties_typeProperties_linkedInfo_key": {
        "type": "secureString", "metadata": "Secure string for 'key' of 'Shir'"}}
    assert props["Shir"]["typeProperties"]["linkedInfo"]["key"] == {
        "type": "SecureString", "value": "[parameters('Shir_properties_typeProperties_linkedInfo_key')]"}


def test_linked_service_secure_strings_are_parameterized_without_an_entry_and_listed_first():
    params, props = run(typed({"url": "="}),
                        ls("A", "AzureBlobFS", url="https://a"),
                        ls("B", "AzureDatabricks", accessToken={"type": "SecureString", "value": "**"}))
    assert list(params) == ["B_accessToken", "A_properties_typeProperties_url"]
    assert params["B_accessToken"] == {"type": "secureString", "metadata": "Secure string for 'accessToken' of 'B'"}
    assert props["B"]["typeProperties"]["accessToken"] == {"type": "SecureString",
                                                           "value": "[parameters('B_accessToken')]"}


# --- types ---

@pytest.mark.parametrize("spelled, arm", [
    ("string", "string"), ("securestring", "secureString"), ("secureString", "secureString"), ("int", "int"),
    ("bool", "bool"), ("object", "object"), ("secureobject", "secureObject"), ("array", "array")])
def test_every_type(spelled, arm):
    params, _ = run(typed({"x": f"=::{spelled}"}), ls("L", "Any", x="v"))
    entry = params["L_properties_typeProperties_x"]
    assert entry["type"] == arm and entry["defaultValue"] == "v"
    assert ("metadata" in entry) == arm.startswith("secure")


def test_blank_type_is_string_but_objects_and_arrays_keep_their_kind():
    params, _ = run(typed({"n": "=", "o": "=", "a": "="}), ls("L", "Any", n=5, o={"k": 1}, a=[1]))
    assert [p["type"] for p in params.values()] == ["string", "object", "array"]


# --- names ---

def test_a_name_starting_with_minus_shortens_to_object_and_name():
    params, _ = run(typed({"connectionString": "|:-connectionString:secureString"}),
                    ls("AzureStorage1", "AzureBlobStorage", connectionString="DefaultEndpointsProtocol=https"))
    assert list(params) == ["AzureStorage1_connectionString"]


def test_an_explicit_name_replaces_the_property_name_in_the_path():
    trigger = obj("trigger", "T", type="ScheduleTrigger",
                  typeProperties={"recurrence": {"frequency": "Day", "interval": 2}})
    rules = {TR: {"properties": {"typeProperties": {"recurrence": {"interval": "=:triggerSuffix:int",
                                                                   "frequency": "=:-freq"}}}}}
    params, _ = run(rules, trigger)
    assert params == {"T_freq": {"type": "string", "defaultValue": "Day"},
                      "T_properties_typeProperties_recurrence_triggerSuffix": {"type": "int", "defaultValue": 2}}


def test_two_properties_with_one_name_are_an_error():
    with pytest.raises(ExportError, match=r"same ARM parameter name.*\['L_x'\]"):
        run(typed({"a": "=:-x", "b": "=:-x"}), ls("L", "Any", a=1, b=2))


# --- star, arrays ---

def test_star_parameterizes_one_level_and_explicit_keys_win():
    ir = obj("integrationRuntime", "Managed", type="Managed", typeProperties={
        "computeProperties": {"location": "AutoResolve"}, "ssisProperties": {"edition": "Standard"}})
    params, _ = run({IR: {"properties": {"typeProperties": {"*": "=", "ssisProperties": "-::object"}}}}, ir)
    assert params == {
        "Managed_properties_typeProperties_computeProperties": {"type": "object",
                                                                "defaultValue": {"location": "AutoResolve"}},
        "Managed_properties_typeProperties_ssisProperties": {"type": "object"}}  # not also a `*` parameter


def test_star_with_an_object_rule_descends_into_every_key():
    pipeline = obj("pipeline", "P", activities=[], variables={"a": {"type": "String", "defaultValue": "x"},
                                                              "b": {"type": "String", "defaultValue": "y"}})
    params, _ = run({PL: {"properties": {"variables": {"*": {"defaultValue": "="}}}}}, pipeline)
    assert list(params) == ["P_properties_variables_a_defaultValue", "P_properties_variables_b_defaultValue"]


def test_arrays_keyed_by_a_named_property_name_each_item_by_it():
    trigger = obj("trigger", "Arrived", type="BlobEventsTrigger", pipelines=[
        {"pipelineReference": {"referenceName": "Load", "type": "PipelineReference"}, "parameters": {"f": "@x"}},
        {"pipelineReference": {"referenceName": "Audit", "type": "PipelineReference"}, "parameters": {"f": "@y"}}])
    rules = {TR: {"properties": {"pipelines": [{"parameters": {"*": "="}}, "pipelineReference.referenceName"]}}}
    params, props = run(rules, trigger)
    assert list(params) == ["Arrived_properties_Load_parameters_f", "Arrived_properties_Audit_parameters_f"]
    assert props["Arrived"]["pipelines"][1]["parameters"]["f"] == "[parameters('Arrived_properties_Audit_parameters_f')]"


def test_arrays_without_a_naming_property_use_the_index_and_nest():
    pipeline = obj("pipeline", "P", activities=[
        {"name": "W", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 5}},
        {"name": "F", "type": "ForEach", "typeProperties": {"activities": [
            {"name": "Web", "type": "WebActivity", "typeProperties": {"url": "https://x"}}]}}])
    rules = {PL: {"properties": {"activities": [{"typeProperties": {
        "waitTimeInSeconds": "-::int", "activities": [{"typeProperties": {"url": "="}}]}}]}}}
    params, _ = run(rules, pipeline)
    assert params == {
        "P_properties_activities_0_typeProperties_waitTimeInSeconds": {"type": "int"},
        "P_properties_activities_1_typeProperties_activities_0_typeProperties_url": {"type": "string",
                                                                                     "defaultValue": "https://x"}}


def test_rules_that_do_not_fit_the_object_are_ignored():
    params, _ = run(typed({"url": {"nested": "="}, "list": ["="]}), ls("L", "Any", url="plain", list="not a list"))
    assert params == {}


# --- type keys under linkedServices and datasets ---

def test_type_keys_merge_with_star_and_win_on_conflicts():
    rules = {LS: {"*": {"properties": {"typeProperties": {"url": "=", "userName": "="}}},
                  "AzureBlobFS": {"properties": {"typeProperties": {"url": "-", "accountKind": "="}}}}}
    params, _ = run(rules, ls("Lake", "AzureBlobFS", url="u", userName="n", accountKind="k"),
                    ls("Web", "HttpServer", url="w", accountKind="ignored"))
    assert params == {"Lake_properties_typeProperties_url": {"type": "string"},
                      "Lake_properties_typeProperties_userName": {"type": "string", "defaultValue": "n"},
                      "Lake_properties_typeProperties_accountKind": {"type": "string", "defaultValue": "k"},
                      "Web_properties_typeProperties_url": {"type": "string", "defaultValue": "w"}}


def test_dataset_type_keys():
    rules = {DS: {"Json": {"properties": {"typeProperties": {"location": {"container": "="}}}}}}
    params, _ = run(rules, obj("dataset", "J", type="Json", typeProperties={"location": {"container": "c"}}),
                    obj("dataset", "C", type="DelimitedText", typeProperties={"location": {"container": "d"}}))
    assert list(params) == ["J_properties_typeProperties_location_container"]


# --- ADF's default definition ---

def test_without_a_definition_file_the_default_definition_applies():
    params, _ = run(None,
                    ls("Sql", "AzureSqlDatabase", server="s.database.windows.net", connectionString="Server=x"),
                    ls("Dbx", "AzureDatabricks", domain="https://adb", existingClusterId="0101-x"),
                    obj("dataset", "Legacy", type="AzureBlob", typeProperties={"folderPath": "a", "fileName": "b"}),
                    obj("trigger", "T", pipelines=[{"pipelineReference": {"referenceName": "P"}, "parameters": {"p": 1}}],
                        type="BlobEventsTrigger", typeProperties={"scope": "/subscriptions/x"}))
    assert list(params) == [
        "Legacy_properties_typeProperties_folderPath", "Legacy_properties_typeProperties_fileName",
        "Sql_properties_typeProperties_server", "Sql_connectionString",
        "T_properties_P_parameters_p", "T_properties_typeProperties_scope"]
    assert params["Sql_connectionString"] == {"type": "secureString",
                                              "metadata": "Secure string for 'connectionString' of 'Sql'"}


def test_the_default_definition_is_the_documented_one():
    typed_ls = DEFAULT_DEFINITION[LS]["*"]["properties"]["typeProperties"]
    assert len(typed_ls) == 32 and typed_ls["sasUri"] == "|:-sasUri:secureString"
    assert "existingClusterId" not in typed_ls and "domain" not in typed_ls and "mlWorkspaceName" not in typed_ls
    assert set(DEFAULT_DEFINITION) == {
        "Microsoft.DataFactory/factories", "Microsoft.DataFactory/factories/globalparameters", PL,
        "Microsoft.DataFactory/factories/dataflows", IR, TR, LS, DS,
        "Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints"}


# --- malformed definitions: which key, what is wrong, how to fix ---

@pytest.mark.parametrize("definition, says", [
    ([], r"root: expected an object keyed by resource type, found list"),
    ({"Microsoft.DataFactory/factories/pipeline": {}}, r"Microsoft.DataFactory/factories/pipeline: unknown resource "
                                                      r"type\n  fix: use one of .*factories/pipelines"),
    ({PL: "="}, rf"{PL}: expected an object of property paths, found '='"),
    ({LS: {"properties": {"typeProperties": {"url": "="}}}},
     rf"{LS}.properties: the first key under .* is an object type or \*.*\n  fix: wrap it: {{\"\*\": "),
    ({LS: {"*": "="}}, rf"{LS}.\*: expected an object of property paths"),
    ({PL: {"properties": {"x": "+"}}}, rf"{PL}.properties.x: '\+' is not `<action>:<name>:<type>`"),
    ({PL: {"properties": {"x": "=::float"}}}, rf"{PL}.properties.x: type 'float' in '=::float' is unknown\n"
                                              r"  fix: use one of string, "),
    ({PL: {"properties": {"x": "=:a:int:more"}}}, rf"{PL}.properties.x: '=:a:int:more' is not `<action>:<name>:<type>`"),
    ({PL: {"properties": {"x": 5}}}, rf"{PL}.properties.x: 5 is neither a rule string"),
    ({TR: {"properties": {"pipelines": []}}}, rf"{TR}.properties.pipelines: array rule \[\] is not \[<rule for each "
                                              r"item>, \"<naming path>\"\]\n  fix: e.g. "),
    ({TR: {"properties": {"pipelines": [{"parameters": {"*": "="}}, 3]}}}, rf"{TR}.properties.pipelines: array rule"),
    ({TR: {"properties": {"pipelines": [{"parameters": {"*": "=x"}}]}}},
     rf"{TR}.properties.pipelines\[\].parameters.\*: '=x' is not"),
])
def test_malformed_entries_name_the_key_the_problem_and_the_fix(definition, says):
    with pytest.raises(ExportError, match=r"^arm-template-parameters-definition.json: " + says):
        export([], definition, "adf-test")  # checked even when no object of that type exists


def test_resource_type_keys_are_case_insensitive_as_in_arm():
    params, _ = run({"microsoft.datafactory/factories/linkedservices": {"*": {"properties": {"typeProperties": {
        "url": "="}}}}}, ls("L", "Any", url="u"))
    assert list(params) == ["L_properties_typeProperties_url"]
