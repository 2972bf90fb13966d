"""Blob event triggers without storage: filters, which REST calls raise events, the event schema, consuming
the event log from a cursor, deduplication of redelivered events, BlobDeleted, start/stop."""
from __future__ import annotations

import re
import threading
from dataclasses import replace

import pytest

from local_runtime import triggers
from local_runtime.errors import NotDeployedError
from local_runtime.eventgrid import BLOB_CREATED, BLOB_DELETED, blob_event, classify
from local_runtime.eventgrid.events import BlobOperation
from local_runtime.store import utcnow
from local_runtime.triggers import event_matches, matches, path_matches, poll_once, start_trigger, stop_trigger
from tests.local_runtime.builders import FACTORY, deploy, environment, pipeline, set_var

SCOPE = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1"


def blob_trigger(events=(BLOB_CREATED,), begins="/input/blobs/", ends=".csv", **type_properties) -> dict:
    tp = {"scope": SCOPE, "events": list(events), **type_properties}
    if begins is not None:
        tp["blobPathBeginsWith"] = begins
    if ends is not None:
        tp["blobPathEndsWith"] = ends
    return {"properties": {"type": "BlobEventsTrigger", "typeProperties": tp, "pipelines": [{
        "pipelineReference": {"referenceName": "P", "type": "PipelineReference"},
        "parameters": {"folderPath": "@triggerBody().folderPath", "fileName": "@triggerBody().fileName"}}]}}


def event(path: str, etag: str = '"0x1"', event_type: str = BLOB_CREATED, size: int = 10,
          account: str = "devstoreaccount1") -> dict:
    container, _, name = path.partition("/")
    api = "DeleteBlob" if event_type == BLOB_DELETED else "PutBlob"
    return blob_event(BlobOperation(api, account, container, name), host="127.0.0.1:10000", event_time=utcnow(),
                      etag=etag, content_type="text/csv", content_length=size, blob_type="BlockBlob")


@pytest.fixture
def env(tmp_path):
    settings, store = environment(tmp_path)
    deploy(store, {("pipeline", "P"): pipeline([set_var("S", "x")], parameters={"folderPath": {"type": "String"},
                                                                                 "fileName": {"type": "String"}}),
                   ("trigger", "OnCsv"): blob_trigger(),
                   ("trigger", "OnDelete"): blob_trigger(events=(BLOB_DELETED,), ends=None)})
    return settings, store


def runs_of(store, trigger: str) -> list[dict]:
    return [r for r in store.runs(1000) if r["trigger"] and r["trigger"]["name"] == trigger]


# --- filters -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("begins, ends, container, name, expected", [
    ("/input/blobs/", ".csv", "input", "drops/a.csv", True),
    ("/input/blobs/drops/", None, "input", "drops/a.csv", True),
    ("/input/blobs/drops/", None, "input", "other/a.csv", False),
    ("/input/blobs/", ".csv", "input", "a.CSV", False),          # case-sensitive, as Event Grid's filters
    ("/input/blobs/", None, "inputs", "a.csv", False),           # the container is part of the path
    (None, ".csv", "anything", "x/y.csv", True),                 # endsWith alone matches every container
])
def test_path_filters_apply_to_the_container_blobs_path(begins, ends, container, name, expected):
    tp = {k: v for k, v in {"blobPathBeginsWith": begins, "blobPathEndsWith": ends}.items() if v is not None}
    assert path_matches(tp, container, name) is expected


def test_ignore_empty_blobs_defaults_to_true():
    props = blob_trigger()["properties"]
    assert matches(props, "a.csv", 5) and not matches(props, "a.csv", 0)
    keep_empty = blob_trigger(ignoreEmptyBlobs=False)["properties"]
    assert matches(keep_empty, "a.csv", 0)
    assert event_matches(keep_empty, event("input/a.csv", size=0))
    assert not event_matches(props, event("input/a.csv", size=0))


def test_event_matching_checks_type_account_and_path():
    created, deleted = blob_trigger()["properties"], blob_trigger(events=(BLOB_DELETED,))["properties"]
    assert event_matches(created, event("input/a.csv"))
    assert not event_matches(created, event("input/a.csv", event_type=BLOB_DELETED))
    assert event_matches(deleted, event("input/a.csv", event_type=BLOB_DELETED))  # no size: never "empty"
    assert not event_matches(created, event("input/a.csv", account="otheraccount"))
    assert not event_matches(created, event("archive/a.csv"))


# --- which calls raise events, and their schema ---------------------------------------------------------------
@pytest.mark.parametrize("method, target, headers, api", [
    ("PUT", "/devstoreaccount1/input/a%20b/c.csv", {}, "PutBlob"),
    ("PUT", "/devstoreaccount1/input/c.csv?comp=blocklist", {}, "PutBlockList"),
    ("PUT", "/devstoreaccount1/input/c.csv", {"x-ms-copy-source": "http://x/a/b"}, "CopyBlob"),
    ("PUT", "/devstoreaccount1/input/c.csv", {"x-ms-copy-source": "http://x/a/b", "x-ms-blob-type": "BlockBlob"},
     "PutBlobFromUrl"),
    ("DELETE", "/devstoreaccount1/input/c.csv", {}, "DeleteBlob"),
    ("PUT", "/devstoreaccount1/input/c.csv?comp=block&blockid=AAA", {}, None),
    ("PUT", "/devstoreaccount1/input/c.csv?comp=metadata", {}, None),
    ("PUT", "/devstoreaccount1/input/c.csv?comp=appendblock", {}, None),
    ("DELETE", "/devstoreaccount1/input/c.csv?snapshot=2024-01-01T00:00:00Z", {}, None),
    ("PUT", "/devstoreaccount1/input?restype=container", {}, None),
    ("DELETE", "/devstoreaccount1/input?restype=container", {}, None),
    ("GET", "/devstoreaccount1/input/c.csv", {}, None),
    ("HEAD", "/devstoreaccount1/input/c.csv", {}, None),
])
def test_blob_writes_and_deletes_raise_events_nothing_else_does(method, target, headers, api):
    op = classify(method, target, headers)
    assert (op.api if op else None) == api
    if api == "PutBlob":
        assert (op.account, op.container, op.blob) == ("devstoreaccount1", "input", "a b/c.csv")


def test_events_follow_event_grids_blob_schema():
    created = event("input/drops/a b.csv", etag='"0xABC"', size=42)
    assert created["subject"] == "/blobServices/default/containers/input/blobs/drops/a b.csv"
    assert created["topic"].endswith("/providers/Microsoft.Storage/storageAccounts/devstoreaccount1")
    assert created["eventType"] == BLOB_CREATED and created["metadataVersion"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", created["eventTime"])
    assert re.fullmatch(r"[0-9a-f-]{36}", created["id"])
    assert created["data"] == {"api": "PutBlob", "clientRequestId": None, "requestId": None, "eTag": '"0xABC"',
                               "contentType": "text/csv", "contentLength": 42, "blobType": "BlockBlob",
                               "url": "http://127.0.0.1:10000/devstoreaccount1/input/drops/a%20b.csv",
                               "sequencer": None}
    deleted = event("input/a.csv", event_type=BLOB_DELETED)["data"]
    assert deleted["api"] == "DeleteBlob" and "eTag" not in deleted and "contentLength" not in deleted


def test_the_log_assigns_sequencers_in_order_and_keeps_a_redelivered_ones(env):
    _, store = env
    first, second = store.append_storage_event(event("input/a.csv")), store.append_storage_event(event("input/a.csv"))
    assert re.fullmatch(r"[0-9A-F]{32}", first["data"]["sequencer"])
    assert first["data"]["sequencer"] < second["data"]["sequencer"]
    assert store.append_storage_event(first)["data"]["sequencer"] == first["data"]["sequencer"]


# --- consuming the log ---------------------------------------------------------------------------------------
def test_one_run_per_matching_event_with_the_trigger_body_mapped(env):
    settings, store = env
    start_trigger(store, FACTORY, "OnCsv")
    store.append_storage_event(event("input/drops/a.csv"))
    store.append_storage_event(event("input/drops/notes.txt"))
    store.append_storage_event(event("input/drops/empty.csv", size=0))
    [run_id] = poll_once(store, settings)
    run = store.run(run_id)
    assert run["parameters"] == {"folderPath": "input/drops", "fileName": "a.csv"}
    assert run["invoked_by"] == "BlobEventsTrigger" and run["trigger"]["body"]["eventType"] == BLOB_CREATED
    assert poll_once(store, settings) == []


def test_a_duplicated_event_starts_no_second_run_a_new_version_does(env):
    settings, store = env
    start_trigger(store, FACTORY, "OnCsv")
    original = store.append_storage_event(event("input/a.csv", etag='"0x1"'))
    assert len(poll_once(store, settings)) == 1
    store.append_storage_event(original)                             # Event Grid redelivers the same event
    store.append_storage_event({**event("input/a.csv", etag="0x1")})  # same version, etag unquoted
    assert poll_once(store, settings) == []
    store.append_storage_event(event("input/a.csv", etag='"0x2"'))   # the blob was overwritten
    assert len(poll_once(store, settings)) == 1
    assert len(runs_of(store, "OnCsv")) == 2


def test_a_blob_deleted_trigger_fires_on_delete_with_file_name_and_folder_path(env):
    settings, store = env
    start_trigger(store, FACTORY, "OnDelete")
    store.append_storage_event(event("input/drops/a.csv"))
    deleted = store.append_storage_event(event("input/drops/a.csv", event_type=BLOB_DELETED))
    [run_id] = poll_once(store, settings)
    assert store.run(run_id)["parameters"] == {"folderPath": "input/drops", "fileName": "a.csv"}
    assert store.run(run_id)["trigger"]["body"]["eventType"] == BLOB_DELETED
    store.append_storage_event(deleted)  # duplicate delivery of the delete
    assert poll_once(store, settings) == []


def test_polling_reads_only_the_events_after_the_cursor(env, monkeypatch):
    settings, store = env
    start_trigger(store, FACTORY, "OnCsv")
    store.append_storage_events([event(f"archive/old-{i}.csv") for i in range(2500)])  # more than one batch
    assert poll_once(store, settings) == []
    asked = []
    original = store.storage_events_after
    monkeypatch.setattr(store, "storage_events_after", lambda seq, limit=1000: asked.append(seq) or original(seq, limit))
    store.append_storage_event(event("input/new.csv"))
    assert len(poll_once(store, settings)) == 1
    assert asked == [2500]  # one read, from the cursor: none of the 2,500 older events again


def test_a_stopped_trigger_ignores_what_arrives_while_stopped(env):
    settings, store = env
    start_trigger(store, FACTORY, "OnCsv")
    store.append_storage_event(event("input/before-stop.csv"))
    state = stop_trigger(store, FACTORY, "OnCsv")  # delivers what arrived while it was started
    assert state["runtime_state"] == "Stopped" and len(runs_of(store, "OnCsv")) == 1
    store.append_storage_event(event("input/while-stopped.csv"))
    assert poll_once(store, settings) == []
    start_trigger(store, FACTORY, "OnCsv")
    assert poll_once(store, settings) == []
    store.append_storage_event(event("input/after-start.csv"))
    [run_id] = poll_once(store, settings)
    assert store.run(run_id)["parameters"]["fileName"] == "after-start.csv"


def test_starting_a_started_trigger_changes_nothing_and_unknown_triggers_are_named(env):
    _, store = env
    first = start_trigger(store, FACTORY, "OnCsv")
    assert start_trigger(store, None, "OnCsv") == first  # None: the deployed factory
    with pytest.raises(NotDeployedError, match=r"trigger 'Nope' is not deployed in adf-test \(triggers: OnCsv, OnDelete\)"):
        start_trigger(store, FACTORY, "Nope")


def test_a_trigger_whose_parameters_fail_to_evaluate_starts_nothing_and_moves_on(env, caplog):
    settings, store = env
    broken = blob_trigger()
    broken["properties"]["pipelines"][0]["parameters"] = {"fileName": "@triggerBody().nope.deeper"}
    deploy(store, {("trigger", "Broken"): broken})
    start_trigger(store, FACTORY, "Broken")
    store.append_storage_event(event("input/a.csv"))
    assert poll_once(store, settings) == []
    assert "cannot evaluate its pipeline parameters" in caplog.text


def test_the_service_loop_reconciles_once_at_start_then_only_reads_events(env, monkeypatch):
    settings, store = env
    calls, stop = {"reconcile": 0, "poll": 0}, threading.Event()
    outcomes = iter([ConnectionError("Azurite is not up yet"), None])

    def reconcile(*_):
        calls["reconcile"] += 1
        failure = next(outcomes)
        if failure:
            raise failure

    def poll(*_):
        calls["poll"] += 1
        if calls["poll"] == 5:
            stop.set()
        return []

    monkeypatch.setattr(triggers, "reconcile", reconcile)
    monkeypatch.setattr(triggers, "poll_once", poll)
    triggers.watch(store, replace(settings, poll_seconds=0.001), stop)
    assert calls == {"reconcile": 2, "poll": 5}  # retried once storage answered, then never again
