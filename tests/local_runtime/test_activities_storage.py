"""Storage activities (GetMetadata, Validation, Copy, Delete) against a real Azurite, through a deployed
factory with an AzureBlobStorage linked service and parameterized datasets."""
from __future__ import annotations

import base64
import hashlib
import threading
import time

import pytest

from storage import container_client
from tests.local_runtime.builders import activity, put, ref, run_pipeline, statuses, storage_objects

CSV = b"id,name\r\n1,\"x, quoted\"\r\n2,y\r\n"



def names(azurite: str, container: str) -> list[str]:
    return sorted(b.name for b in container_client(azurite, container).list_blobs())


def run(tmp_path, azurite, activities, **kwargs):
    return run_pipeline(tmp_path, activities, objects=storage_objects(azurite), **kwargs)


def the(store, run_id, name) -> dict:
    return [a for a in store.activity_runs(run_id) if a["name"] == name][-1]


def get_metadata(name: str, dataset: dict, fields: list[str]) -> dict:
    return activity(name, "GetMetadata", dataset=dataset, fieldList=fields)


def test_get_metadata_of_a_file_a_folder_and_a_missing_item(tmp_path, azurite, container):
    put(azurite, container, "in/a.csv", CSV)
    put(azurite, container, "in/sub/b.bin", b"\x00\x01")
    status, store, run_ = run(tmp_path, azurite, [
        get_metadata("File", ref("Csv", container, "in", "a.csv"),
                     ["exists", "itemName", "itemType", "size", "lastModified", "contentMD5", "structure",
                      "columnCount"]),
        get_metadata("Folder", ref("Bin", container, "in"), ["itemName", "itemType", "childItems"]),
        get_metadata("Root", ref("Bin", container), ["itemName", "lastModified", "childItems"]),
        get_metadata("Gone", ref("Bin", container, "in", "nope.bin"), ["exists", "size"]),
        get_metadata("GoneNoExists", ref("Bin", container, "in", "nope.bin"), ["size"]),
    ])
    file = the(store, run_["run_id"], "File")["output"]
    assert {k: v for k, v in file.items() if k != "lastModified"} == {
        "exists": True, "itemName": "a.csv", "itemType": "File", "size": len(CSV),
        "contentMD5": base64.b64encode(hashlib.md5(CSV).digest()).decode(),
        "structure": [{"name": "id", "type": "String"}, {"name": "name", "type": "String"}], "columnCount": 2}
    assert file["lastModified"].endswith("Z")
    assert the(store, run_["run_id"], "Folder")["output"] == {
        "itemName": "in", "itemType": "Folder",
        "childItems": [{"name": "a.csv", "type": "File"}, {"name": "sub", "type": "Folder"}]}
    root = the(store, run_["run_id"], "Root")["output"]
    assert root["itemName"] == container and root["childItems"] == [{"name": "in", "type": "Folder"}]
    assert the(store, run_["run_id"], "Gone")["output"] == {"exists": False}
    missing = the(store, run_["run_id"], "GoneNoExists")
    assert missing["status"] == "Failed" and missing["error"]["errorCode"] == "PathNotFound"
    assert f"{container}/in/nope.bin does not exist" in missing["error"]["message"]
    assert status == "Failed"


def test_validation_waits_for_the_file_and_times_out_when_it_never_comes(tmp_path, azurite, container):
    """Two parallel branches: one file arrives after about a second (first too small), the other never."""
    def arrive() -> None:
        time.sleep(0.5)
        put(azurite, container, "drop/late.csv", b"ab")
        time.sleep(1)
        put(azurite, container, "drop/late.csv", b"abcdef")

    threading.Thread(target=arrive, daemon=True).start()
    started = time.monotonic()
    status, store, run_ = run(tmp_path, azurite, [
        activity("Arrives", "Validation", dataset=ref("Bin", container, "drop", "late.csv"), sleep=1,
                 minimumSize=5, timeout="0.00:00:20"),
        activity("HasFiles", "Validation", dataset=ref("Bin", container, "drop"), sleep=1, childItems=True,
                 timeout="0.00:00:20"),
        activity("Never", "Validation", dataset=ref("Bin", container, "drop", "never.csv"), sleep=1,
                 timeout="0.00:00:02"),
    ])
    assert time.monotonic() - started < 6
    assert the(store, run_["run_id"], "Arrives")["output"] == {"exists": True, "size": 6}
    assert the(store, run_["run_id"], "HasFiles")["status"] == "Succeeded"
    never = the(store, run_["run_id"], "Never")
    assert never["error"]["errorCode"] == "ValidationTimedOut"
    assert f"{container}/drop/never.csv (dataset Bin) did not exist" in never["error"]["message"]
    assert status == "Failed"


def copy(name: str, source: dict, sink: dict, depends=None, source_settings=None, sink_settings=None) -> dict:
    body = activity(name, "Copy", depends, source={"type": "BinarySource", "storeSettings": source_settings or {}},
                    sink={"type": "BinarySink", "storeSettings": sink_settings or {}})
    body["inputs"], body["outputs"] = [source], [sink]
    return body


def test_copy_binary_with_dataset_parameters_from_the_pipeline(tmp_path, azurite, container):
    data = bytes(range(256)) * 10
    put(azurite, container, "raw/blob.bin", data)
    status, store, run_ = run(tmp_path, azurite, [
        copy("Copy", ref("Bin", container, "raw", "@pipeline().parameters.name"),
             ref("Bin", container, "@concat('out/', pipeline().RunId)", "@pipeline().parameters.name"))],
        parameters={"name": {"type": "string"}}, given={"name": "blob.bin"})
    assert status == "Succeeded", run_["message"]
    output = the(store, run_["run_id"], "Copy")["output"]
    assert {k: output[k] for k in ("dataRead", "dataWritten", "filesRead", "filesWritten")} == \
        {"dataRead": 2560, "dataWritten": 2560, "filesRead": 1, "filesWritten": 1}
    assert "rowsRead" not in output
    target = f"out/{run_['run_id']}/blob.bin"
    assert container_client(azurite, container).download_blob(target).readall() == data


def test_copy_delimited_text_reformats_and_counts_rows_per_for_each_item(tmp_path, azurite, container):
    """A ForEach copies each CSV to a headerless, semicolon-separated file named by item()."""
    put(azurite, container, "csv/a.csv", CSV)
    put(azurite, container, "csv/b.csv", b"id,name\n3,z\n")
    status, store, run_ = run(tmp_path, azurite, [activity(
        "Each", "ForEach", items=["a", "b"], activities=[
            copy("CopyOne", ref("Csv", container, "csv", "@concat(item(), '.csv')"),
                 ref("CsvNoHeader", container, "semi", "@concat(item(), '.txt')"))])])
    assert status == "Succeeded", run_["message"]
    blob = container_client(azurite, container).download_blob
    assert blob("semi/a.txt").readall() == b"1;x, quoted\r\n2;y\r\n"
    assert blob("semi/b.txt").readall() == b"3;z\r\n"
    rows = sorted((a["output"]["rowsRead"], a["output"]["rowsCopied"]) for a in store.activity_runs(run_["run_id"])
                  if a["name"] == "CopyOne")
    assert rows == [(1, 1), (2, 2)]


def test_copy_a_folder_by_wildcard_preserving_the_hierarchy(tmp_path, azurite, container):
    for path in ("src/one.csv", "src/deep/two.csv", "src/skip.txt"):
        put(azurite, container, path, b"id\n1\n")
    status, store, run_ = run(tmp_path, azurite, [
        copy("CopyAll", ref("Bin", container, "src"), ref("Bin", container, "dst"),
             source_settings={"recursive": True, "wildcardFileName": "*.csv"})])
    assert status == "Succeeded", run_["message"]
    assert [n for n in names(azurite, container) if n.startswith("dst/")] == ["dst/deep/two.csv", "dst/one.csv"]
    assert the(store, run_["run_id"], "CopyAll")["output"]["filesWritten"] == 2


def test_copy_of_a_missing_source_file_fails_with_its_path(tmp_path, azurite, container):
    status, store, run_ = run(tmp_path, azurite, [copy("Copy", ref("Bin", container, "raw", "missing.bin"),
                                                       ref("Bin", container, "out"))])
    assert status == "Failed"
    assert f"source file {container}/raw/missing.bin (dataset Bin) does not exist" in run_["message"]


@pytest.mark.parametrize("folder, file, recursive, left", [
    ("f", "", False, ["f/sub/3.txt", "f/sub/4.csv", "keep.txt"]),
    ("f", "", True, ["keep.txt"]),
    ("f", "*.txt", True, ["f/2.csv", "f/sub/4.csv", "keep.txt"]),
    ("f", "1.txt", False, ["f/2.csv", "f/sub/3.txt", "f/sub/4.csv", "keep.txt"]),
])
def test_delete_files_of_a_folder_recursively_or_by_wildcard(tmp_path, azurite, container, folder, file, recursive,
                                                            left):
    for path in ("f/1.txt", "f/2.csv", "f/sub/3.txt", "f/sub/4.csv", "keep.txt"):
        put(azurite, container, path, b"x")
    status, store, run_ = run(tmp_path, azurite, [activity(
        "Clean", "Delete", dataset=ref("Bin", container, folder, file),
        storeSettings={"type": "AzureBlobStorageReadSettings", "recursive": recursive})])
    assert status == "Succeeded", run_["message"]
    assert names(azurite, container) == left
    output = the(store, run_["run_id"], "Clean")["output"]
    assert output["filesDeleted"] == 5 - len(left) and output["isWildcardUsed"] == ("*" in file)


def test_deleting_a_missing_file_fails(tmp_path, azurite, container):
    status, store, run_ = run(tmp_path, azurite, [activity("Clean", "Delete", dataset=ref("Bin", container, "f", "x"))])
    assert status == "Failed" and statuses(store, run_["run_id"]) == {"Clean": ["Failed"]}
    assert f"{container}/f/x (dataset Bin) does not exist" in run_["message"]
