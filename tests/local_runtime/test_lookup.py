"""The Lookup activity against a real Azurite, through the storage factory's parameterized datasets: output
shapes (firstRow, count/value), delimited text (header, no header, delimiter, nulls), Json patterns, folders and
wildcards, ForEach over the result, ADF's row and size limits, failures, and the SDK model check."""
from __future__ import annotations

import json

import pytest

from generator.sdk_check import sdk_findings
from local_runtime.activities import lookup as lookup_module
from tests.local_runtime.builders import activity, pipeline, put, ref, run_pipeline, set_var, storage_objects

CSV = b"id,name\r\n1,\"x, quoted\"\r\n2,y\r\n"
SOURCES = {"Csv": "DelimitedTextSource", "Latin": "DelimitedTextSource", "CsvNoHeader": "DelimitedTextSource", "Json": "JsonSource",
           "Bin": "BinarySource"}



def objects(azurite: str) -> dict:
    """storage_objects plus `Json`, a Json dataset with the same container/folder/file parameters."""
    found = storage_objects(azurite)
    csv = found[("dataset", "Csv")]["properties"]
    found[("dataset", "Json")] = {"properties": {**csv, "type": "Json",
                                                 "typeProperties": {"location": csv["typeProperties"]["location"]}}}
    found[("dataset", "Latin")] = {"properties": {**csv, "typeProperties": {
        **csv["typeProperties"], "encodingName": "@dataset().encoding", "nullValue": "NULL"},
        "parameters": {**csv["parameters"], "encoding": {"type": "string", "defaultValue": "WINDOWS-1252"}}}}
    return found


def lookup(name: str, dataset: dict, depends=None, store_settings: dict | None = None, **options) -> dict:
    source = {"type": SOURCES[dataset["referenceName"]],
              "storeSettings": {"type": "AzureBlobStorageReadSettings", **(store_settings or {})}}
    return activity(name, "Lookup", depends, source=source, dataset=dataset, **options)


def run(tmp_path, azurite, activities, **kwargs):
    status, store, run_ = run_pipeline(tmp_path, activities, objects=objects(azurite), **kwargs)
    return status, run_, {a["name"]: a for a in store.activity_runs(run_["run_id"])}


def test_first_row_by_default_all_rows_when_first_row_only_is_false(tmp_path, azurite, container):
    put(azurite, container, "cfg/t.csv", CSV)
    status, run_, acts = run(tmp_path, azurite, [
        lookup("First", ref("Csv", container, "cfg", "t.csv")),
        lookup("All", ref("Csv", container, "cfg", "t.csv"), firstRowOnly=False),
        set_var("Use", "@{activity('First').output.firstRow.name}|@{activity('All').output.value[1].id}|"
                       "@{activity('All').output.count}", depends={"First": ["Succeeded"], "All": ["Succeeded"]}),
    ])
    assert status == "Succeeded", run_["message"]
    assert acts["First"]["output"] == {"firstRow": {"id": "1", "name": "x, quoted"},
                                       "effectiveIntegrationRuntime": "LocalRuntime"}
    assert acts["All"]["output"] == {"count": 2, "value": [{"id": "1", "name": "x, quoted"}, {"id": "2", "name": "y"}],
                                     "effectiveIntegrationRuntime": "LocalRuntime"}
    assert acts["Use"]["output"]["value"] == "x, quoted|2|2"


def test_first_row_only_as_an_expression_and_an_empty_file(tmp_path, azurite, container):
    """firstRowOnly may be an expression; a file with only a header has no firstRow (ADF leaves the key out)."""
    put(azurite, container, "cfg/empty.csv", b"id,name\r\n")
    status, run_, acts = run(tmp_path, azurite, [
        lookup("None", ref("Csv", container, "cfg", "empty.csv"), firstRowOnly="@equals(1, 1)"),
        lookup("Zero", ref("Csv", container, "cfg", "empty.csv"), firstRowOnly="@equals(1, 2)")])
    assert status == "Succeeded", run_["message"]
    assert acts["None"]["output"] == {"effectiveIntegrationRuntime": "LocalRuntime"}
    assert acts["Zero"]["output"]["count"] == 0 and acts["Zero"]["output"]["value"] == []


def test_without_a_header_columns_are_prop_n_split_on_the_datasets_delimiter(tmp_path, azurite, container):
    """CsvNoHeader: semicolons, no header row. Empty fields are the default nullValue, so null; a short row is
    padded with nulls; values stay strings."""
    put(azurite, container, "in/semi.txt", b"a;b,c;3\n;x;\n7;8\n")
    status, run_, acts = run(tmp_path, azurite, [
        lookup("L", ref("CsvNoHeader", container, "in", "semi.txt"), firstRowOnly=False)])
    assert status == "Succeeded", run_["message"]
    assert acts["L"]["output"]["value"] == [{"Prop_0": "a", "Prop_1": "b,c", "Prop_2": "3"},
                                            {"Prop_0": None, "Prop_1": "x", "Prop_2": None},
                                            {"Prop_0": "7", "Prop_1": "8", "Prop_2": None}]


def test_the_datasets_encoding_and_null_value(tmp_path, azurite, container):
    """Latin: WINDOWS-1252 (a dataset parameter's default) and nullValue NULL, so an empty field stays ""."""
    put(azurite, container, "in/latin.csv", "city,zip,note\r\nZürich,NULL,\r\n".encode("cp1252"))
    unknown = ref("Latin", container, "in", "latin.csv")
    unknown["parameters"]["encoding"] = "KLINGON-1"
    status, run_, acts = run(tmp_path, azurite, [lookup("L", ref("Latin", container, "in", "latin.csv")),
                                                 lookup("Unknown", unknown)])
    assert acts["L"]["output"]["firstRow"] == {"city": "Zürich", "zip": None, "note": ""}
    assert acts["Unknown"]["error"]["errorCode"] == "UnsupportedEncoding"
    assert "encodingName 'KLINGON-1' is not an encoding" in acts["Unknown"]["error"]["message"]


def test_skip_line_count_comes_before_the_header(tmp_path, azurite, container):
    put(azurite, container, "in/skip.csv", b"# exported 2024-01-01\r\nid,name\r\n5,e\r\n")
    body = lookup("L", ref("Csv", container, "in", "skip.csv"))
    body["typeProperties"]["source"]["formatSettings"] = {"type": "DelimitedTextReadSettings", "skipLineCount": 1}
    status, run_, acts = run(tmp_path, azurite, [body])
    assert status == "Succeeded", run_["message"]
    assert acts["L"]["output"]["firstRow"] == {"id": "5", "name": "e"}


@pytest.mark.parametrize("data", [
    b'[{"table": "a", "rows": 1, "keys": ["k"]}, {"table": "b", "rows": 2.5, "keys": []}]',   # arrayOfObjects
    b'{"table": "a", "rows": 1, "keys": ["k"]}\n{"table": "b", "rows": 2.5, "keys": []}\n',  # JSON lines
    b'{\n "table": "a", "rows": 1, "keys": ["k"]\n}\n{\n "table": "b", "rows": 2.5, "keys": []\n}',  # concatenated
])
def test_json_objects_keep_their_types_in_every_file_pattern(tmp_path, azurite, container, data):
    put(azurite, container, "j/tables.json", data)
    status, run_, acts = run(tmp_path, azurite, [
        lookup("L", ref("Json", container, "j", "tables.json"), firstRowOnly=False),
        set_var("Keys", "@{activity('L').output.value[0].keys[0]}-@{add(activity('L').output.value[1].rows, 1)}",
                depends={"L": ["Succeeded"]})])
    assert status == "Succeeded", run_["message"]
    assert acts["L"]["output"]["value"] == [{"table": "a", "rows": 1, "keys": ["k"]},
                                            {"table": "b", "rows": 2.5, "keys": []}]
    assert acts["Keys"]["output"]["value"] == "k-3.5"


def test_a_single_json_document_is_one_row(tmp_path, azurite, container):
    put(azurite, container, "j/one.json", json.dumps({"schema": "dbo", "table": "T1"}).encode())
    status, run_, acts = run(tmp_path, azurite, [lookup("L", ref("Json", container, "j", "one.json"))])
    assert status == "Succeeded", run_["message"]
    assert acts["L"]["output"]["firstRow"] == {"schema": "dbo", "table": "T1"}


def test_for_each_over_the_lookup_value(tmp_path, azurite, container):
    put(azurite, container, "cfg/tables.csv", b"schema,table\r\ndbo,A\r\nsales,B\r\nhr,C\r\n")
    status, run_, acts = run(tmp_path, azurite, [
        lookup("Tables", ref("Csv", container, "cfg", "tables.csv"), firstRowOnly=False),
        activity("Each", "ForEach", {"Tables": ["Succeeded"]}, items="@activity('Tables').output.value",
                 isSequential=True, activities=[activity("Add", "AppendVariable", variableName="seen",
                                                         value="@concat(item().schema, '.', item().table)")]),
        set_var("Show", "@join(variables('seen'), ',')", depends={"Each": ["Succeeded"]}),
    ], variables={"seen": [], "v": ""})
    assert status == "Succeeded", run_["message"]
    assert acts["Show"]["output"]["value"] == "dbo.A,sales.B,hr.C"


def test_a_lookup_inside_for_each_reads_the_file_item_names(tmp_path, azurite, container):
    for name in ("a", "b"):
        put(azurite, container, f"cfg/{name}.csv", f"id,name\r\n1,{name}-one\r\n".encode())
    status, run_, acts = run(tmp_path, azurite, [
        activity("Each", "ForEach", items=["a", "b"], isSequential=True, activities=[
            lookup("L", ref("Csv", container, "cfg", "@concat(item(), '.csv')")),
            activity("Add", "AppendVariable", {"L": ["Succeeded"]}, variableName="seen",
                     value="@activity('L').output.firstRow.name")]),
        set_var("Show", "@join(variables('seen'), ',')", depends={"Each": ["Succeeded"]}),
    ], variables={"seen": [], "v": ""})
    assert status == "Succeeded", run_["message"]
    assert acts["Show"]["output"]["value"] == "a-one,b-one"


@pytest.mark.parametrize("folder, file, settings, names", [
    ("src", "", {"wildcardFileName": "*.csv"}, ["one", "two"]),                       # recursive by default
    ("src", "", {"wildcardFileName": "*.csv", "recursive": False}, ["one"]),
    ("src", "*.csv", {"recursive": False}, ["one"]),                                  # wildcard in the dataset
    ("src/sub", "", {}, ["two"]),                                                         # a folder
])
def test_folders_and_wildcards_read_every_matching_file_in_name_order(tmp_path, azurite, container, folder, file,
                                                                      settings, names):
    put(azurite, container, "src/one.csv", b"name\r\none\r\n")
    put(azurite, container, "src/sub/two.csv", b"name\r\ntwo\r\n")
    put(azurite, container, "src/skip.txt", b"name\r\nskip\r\n")
    status, run_, acts = run(tmp_path, azurite, [
        lookup("L", ref("Csv", container, folder, file), store_settings=settings, firstRowOnly=False)])
    assert status == "Succeeded", run_["message"]
    assert [row["name"] for row in acts["L"]["output"]["value"]] == names


def test_at_most_max_rows_are_returned_across_files(tmp_path, azurite, container, monkeypatch):
    """ADF returns the first 5000 rows of a larger result without failing; 3 here to keep the test small."""
    monkeypatch.setattr(lookup_module, "MAX_ROWS", 3)
    put(azurite, container, "many/a.csv", b"n\r\n1\r\n2\r\n")
    put(azurite, container, "many/b.csv", b"n\r\n3\r\n4\r\n5\r\n")
    status, run_, acts = run(tmp_path, azurite, [lookup("L", ref("Csv", container, "many"), firstRowOnly=False)])
    assert status == "Succeeded", run_["message"]
    assert acts["L"]["output"]["count"] == 3
    assert acts["L"]["output"]["value"] == [{"n": "1"}, {"n": "2"}, {"n": "3"}]


def test_the_default_row_limit_is_adfs_5000(tmp_path, azurite, container):
    put(azurite, container, "big/rows.csv", b"n\n" + b"".join(b"%d\n" % i for i in range(5003)))
    status, run_, acts = run(tmp_path, azurite, [lookup("L", ref("Csv", container, "big", "rows.csv"),
                                                        firstRowOnly=False)])
    assert status == "Succeeded", run_["message"]
    value = acts["L"]["output"]["value"]
    assert acts["L"]["output"]["count"] == len(value) == 5000 and value[-1] == {"n": "4999"}


def test_an_output_over_the_size_limit_fails(tmp_path, azurite, container, monkeypatch):
    monkeypatch.setattr(lookup_module, "MAX_OUTPUT_BYTES", 100)
    put(azurite, container, "big/wide.csv", b"text\r\n" + b"x" * 200 + b"\r\n")
    status, run_, acts = run(tmp_path, azurite, [lookup("L", ref("Csv", container, "big", "wide.csv"))])
    assert status == "Failed"
    error = acts["L"]["error"]
    assert error["errorCode"] == "LookupResultTooLarge"
    assert error["message"].startswith("The size of lookup activity result exceeds the limitation 100 (")


def test_a_missing_file_fails_naming_its_path(tmp_path, azurite, container):
    status, run_, acts = run(tmp_path, azurite, [
        lookup("File", ref("Csv", container, "cfg", "nope.csv")),
        lookup("Folder", ref("Csv", container, "nothing-here")),
        lookup("Wildcard", ref("Csv", container, "cfg"), store_settings={"wildcardFileName": "*.none"}),
        lookup("Container", ref("Csv", f"{container}-gone", "cfg", "t.csv"))])
    assert status == "Failed"
    assert {a["status"] for a in acts.values()} == {"Failed"}
    assert acts["File"]["error"]["errorCode"] == "UserErrorSourceBlobNotExist"
    assert (f"The required Blob is missing. ContainerName: {azurite}/{container}, path: cfg/nope.csv. (dataset Csv)"
            in acts["File"]["error"]["message"])
    assert f"{container}, path: nothing-here/." in acts["Folder"]["error"]["message"]
    assert f"{container}, path: cfg/*.none." in acts["Wildcard"]["error"]["message"]
    assert f"{container}-gone, path: cfg/t.csv." in acts["Container"]["error"]["message"]
    assert "Operation on target" in run_["message"] and "The required Blob is missing" in run_["message"]


@pytest.mark.parametrize("data, code, message", [
    (b"id,name\r\n1,a,extra\r\n", "DelimitedTextMoreColumnsThanDefined",
     "source '{c}/bad/f.csv' with row number 2: found more columns than expected column count: 2."),
    (b"id,,name\r\n1,2,3\r\n", "DelimitedTextColumnNameNotAllowNull", "The name of column index 2 is empty."),
])
def test_malformed_delimited_text_fails_with_adfs_error(tmp_path, azurite, container, data, code, message):
    put(azurite, container, "bad/f.csv", data)
    status, run_, acts = run(tmp_path, azurite, [lookup("L", ref("Csv", container, "bad", "f.csv"))])
    assert status == "Failed" and acts["L"]["error"]["errorCode"] == code
    assert message.format(c=container) in acts["L"]["error"]["message"]


def test_binary_datasets_and_mismatched_sources_are_refused(tmp_path, azurite, container):
    put(azurite, container, "cfg/t.csv", CSV)
    wrong = lookup("Wrong", ref("Csv", container, "cfg", "t.csv"))
    wrong["typeProperties"]["source"]["type"] = "JsonSource"
    status, run_, acts = run(tmp_path, azurite, [lookup("Bin", ref("Bin", container, "cfg", "t.csv")), wrong])
    assert status == "Failed"
    assert acts["Bin"]["error"]["errorCode"] == "UnsupportedDataset"
    assert "ADF's Lookup cannot read Binary datasets" in acts["Bin"]["error"]["message"]
    assert "set typeProperties.source.type to 'DelimitedTextSource'" in acts["Wrong"]["error"]["message"]


def test_the_unsupported_type_error_lists_lookup(tmp_path):
    status, store, run_ = run_pipeline(tmp_path, [activity("X", "Custom")])
    error = store.activity_runs(run_["run_id"])[0]["error"]
    assert status == "Failed" and error["errorCode"] == "UnsupportedActivityType"
    assert ", Lookup, " in error["message"]


def test_the_sdk_model_check_accepts_a_lookup_pipeline_and_catches_a_missing_source():
    body = pipeline([lookup("L", ref("Csv", "cfg", "in", "t.csv"), firstRowOnly=False),
                     activity("Each", "ForEach", {"L": ["Succeeded"]}, items={
                         "value": "@activity('L').output.value", "type": "Expression"}, activities=[])])
    assert sdk_findings("pipeline", {"name": "P", **body}) == []
    del body["properties"]["activities"][0]["typeProperties"]["source"]
    findings = sdk_findings("pipeline", {"name": "P", **body})
    assert findings and "source" in json.dumps(findings)
