"""The Event Grid stand-in against real Azurite: blob writes and deletes through it log events in Event
Grid's schema (and nothing else does), large bodies stream, triggers fire from the log (BlobDeleted too,
duplicates deduplicated), reconciliation catches writes that bypassed it, and `make up` runs it as a service."""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import uuid

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from local_runtime.eventgrid import BLOB_CREATED, BLOB_DELETED
from local_runtime.settings import PROJECT_ROOT
from local_runtime.store import Store
from local_runtime.triggers import poll_once, reconcile, start_trigger
from storage import container_client, ensure_containers, service_client, upload_bytes
from tests.conftest import free_port
from tests.local_runtime.builders import FACTORY, deploy, pipeline, set_var

CSV = b"id,target\n1,0\n2,1\n"


def events(stand_in) -> list[dict]:
    return [e for _, e in stand_in.store.storage_events_after(0, 10_000)]


@pytest.fixture
def container(event_grid) -> str:
    name = f"ev{uuid.uuid4().hex[:12]}"
    ensure_containers(event_grid.account_url, [name])
    return name


def test_an_upload_through_the_stand_in_logs_one_blob_created_event(event_grid, container):
    blob = container_client(event_grid.account_url, container).get_blob_client("drops/day 1.csv")
    blob.upload_blob(CSV, content_settings=ContentSettings(content_type="text/csv"))
    [event] = events(event_grid)
    props = blob.get_blob_properties()
    assert event["eventType"] == BLOB_CREATED
    assert event["subject"] == f"/blobServices/default/containers/{container}/blobs/drops/day 1.csv"
    assert event["topic"].endswith("/providers/Microsoft.Storage/storageAccounts/devstoreaccount1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", event["eventTime"])
    data = event["data"]
    assert data["api"] == "PutBlob" and data["eTag"].strip('"') == props.etag.strip('"')
    assert (data["contentType"], data["contentLength"], data["blobType"]) == ("text/csv", len(CSV), "BlockBlob")
    assert data["url"] == f"{event_grid.account_url}/{container}/drops/day%201.csv"
    assert re.fullmatch(r"[0-9A-F]{32}", data["sequencer"]) and data["requestId"] and data["clientRequestId"]


def test_staged_copy_and_delete_each_log_one_event_reads_and_metadata_none(event_grid, container):
    client = container_client(event_grid.account_url, container)
    staged = client.get_blob_client("big.bin")
    staged.stage_block("AAAA", b"x" * 1000)
    staged.stage_block("AAAB", b"y" * 500)
    assert events(event_grid) == []  # Put Block commits nothing
    staged.commit_block_list(["AAAA", "AAAB"])
    copy = client.get_blob_client("copy.bin")
    copy.start_copy_from_url(staged.url)
    staged.set_blob_metadata({"k": "v"})
    staged.download_blob().readall()
    list(client.list_blobs())
    staged.delete_blob()
    upload_bytes(f"{event_grid.azurite_url}/{container}/direct.csv", CSV)  # around the stand-in: no event
    logged = events(event_grid)
    assert [(e["eventType"], e["data"]["api"], e["subject"].rsplit("/", 1)[1]) for e in logged] == [
        (BLOB_CREATED, "PutBlockList", "big.bin"), (BLOB_CREATED, "CopyBlob", "copy.bin"),
        (BLOB_DELETED, "DeleteBlob", "big.bin")]
    assert logged[0]["data"]["contentLength"] == 1500 and logged[1]["data"]["contentLength"] == 1500
    deleted = logged[2]["data"]
    assert deleted["blobType"] == "BlockBlob" and deleted["contentType"] and "eTag" not in deleted
    assert [e["data"]["sequencer"] for e in logged] == sorted(e["data"]["sequencer"] for e in logged)


def test_failures_pass_through_raise_no_event_and_connections_stay_alive(event_grid, container):
    upload_bytes(f"{event_grid.account_url}/{container}/a.csv", CSV)
    conn = http.client.HTTPConnection("127.0.0.1", event_grid.settings.azurite_port, timeout=10)
    statuses, sockets = [], set()
    for method in ("HEAD", "GET", "DELETE", "HEAD"):  # unsigned: Azurite refuses; the answer is relayed
        conn.request(method, f"/devstoreaccount1/{container}/a.csv")
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
        sockets.add(id(conn.sock))
    conn.close()
    assert statuses == [403, 403, 403, 403] and len(sockets) == 1  # one kept-alive connection throughout
    with pytest.raises(ResourceNotFoundError):
        container_client(event_grid.account_url, container).get_blob_client("missing.csv").delete_blob()
    assert [e["data"]["api"] for e in events(event_grid)] == ["PutBlob"]


def trigger(container: str, events_: list[str], ends: str | None = ".csv") -> dict:
    tp = {"scope": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
          "events": events_, "blobPathBeginsWith": f"/{container}/blobs/"}
    if ends:
        tp["blobPathEndsWith"] = ends
    return {"properties": {"type": "BlobEventsTrigger", "typeProperties": tp, "pipelines": [{
        "pipelineReference": {"referenceName": "P", "type": "PipelineReference"},
        "parameters": {"folderPath": "@triggerBody().folderPath", "fileName": "@triggerBody().fileName"}}]}}


def deploy_triggers(stand_in, container: str) -> None:
    deploy(stand_in.store, {
        ("pipeline", "P"): pipeline([set_var("S", "x")], parameters={"folderPath": {"type": "String"},
                                                                     "fileName": {"type": "String"}}),
        ("trigger", "OnCreate"): trigger(container, [BLOB_CREATED]),
        ("trigger", "OnDelete"): trigger(container, [BLOB_DELETED], ends=None)})
    start_trigger(stand_in.store, FACTORY, "OnCreate")
    start_trigger(stand_in.store, FACTORY, "OnDelete")


def fired(stand_in, run_ids: list[str]) -> list[tuple[str, str, str]]:
    runs = [stand_in.store.run(r) for r in run_ids]
    return sorted((r["trigger"]["name"], r["parameters"]["folderPath"], r["parameters"]["fileName"]) for r in runs)


def test_triggers_fire_from_the_log_on_create_and_delete_and_ignore_a_duplicate(event_grid, container):
    deploy_triggers(event_grid, container)
    url = f"{event_grid.account_url}/{container}/drops/a.csv"
    upload_bytes(url, CSV)  # the runtime is not polling: the events wait in the log
    container_client(event_grid.account_url, container).get_blob_client("drops/a.csv").delete_blob()
    assert fired(event_grid, poll_once(event_grid.store, event_grid.settings)) == [
        ("OnCreate", f"{container}/drops", "a.csv"), ("OnDelete", f"{container}/drops", "a.csv")]
    for event in events(event_grid):
        event_grid.store.append_storage_event(event)  # Event Grid delivers the same events again
    assert poll_once(event_grid.store, event_grid.settings) == []


def test_reconciliation_fires_what_bypassed_the_stand_in_once(event_grid, container):
    deploy_triggers(event_grid, container)
    upload_bytes(f"{event_grid.azurite_url}/{container}/direct.csv", CSV)     # no event
    upload_bytes(f"{event_grid.account_url}/{container}/proxied.csv", CSV)    # an event
    upload_bytes(f"{event_grid.azurite_url}/{container}/empty.csv", b"")      # ignoreEmptyBlobs
    assert fired(event_grid, poll_once(event_grid.store, event_grid.settings)) == [("OnCreate", container, "proxied.csv")]
    assert fired(event_grid, reconcile(event_grid.store, event_grid.settings)) == [("OnCreate", container, "direct.csv")]
    assert reconcile(event_grid.store, event_grid.settings) == []
    assert poll_once(event_grid.store, event_grid.settings) == []


# --- `make up`: the stand-in as its own service, streaming 100 MB ------------------------------------------
def services(command: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "ops.services", command], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def peak_rss_mb(pid: int) -> float:
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def test_make_up_runs_the_stand_in_which_streams_100_mb_without_holding_it(tmp_path):
    blob_port, runtime_port, internal_port = free_port(), free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "LOCAL_HOME": str(tmp_path), "LOCAL_RUNTIME_PORT":
           str(runtime_port), "AZURITE_BLOB_PORT": str(blob_port), "AZURITE_INTERNAL_PORT": str(internal_port)}
    try:
        out = services("up", env)
        assert "azurite    started" in out and "eventgrid  started" in out and "runtime    started" in out
        pids = {n: int((tmp_path / "pids" / f"{n}.pid").read_text()) for n in ("azurite", "eventgrid", "runtime")}
        account_url = f"http://127.0.0.1:{blob_port}/devstoreaccount1"
        ensure_containers(account_url, ["big"])
        before = peak_rss_mb(pids["eventgrid"])
        size = 100 * 1024 * 1024
        client = BlobServiceClient(account_url, credential=service_client(account_url).credential,
                                   max_single_put_size=2 * size)  # one Put Blob of 100 MB, not blocks
        blob = client.get_blob_client("big", "large.bin")
        blob.upload_blob(b"\x01" * size)
        assert sum(len(chunk) for chunk in blob.download_blob().chunks()) == size
        assert peak_rss_mb(pids["eventgrid"]) - before < 32, "the stand-in buffered the body"
        [event] = [e for _, e in Store(tmp_path / "runtime" / "runtime.db").storage_events_after(0)]
        assert (event["data"]["api"], event["data"]["contentLength"]) == ("PutBlob", size)
    finally:
        out = services("down", env)
    assert "runtime    stopped" in out and "eventgrid  stopped" in out and "azurite    stopped" in out
    for pid in pids.values():
        assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0
