"""OpenLineage events from the local runtime: every pipeline run and activity run emits START and one of
COMPLETE/FAIL/ABORT, valid against the vendored OpenLineage 2-0-2 RunEvent schema (and each facet against its
own schema), with the data-prep outputs' sha256 equal to the stored blobs'; the Azure ML training job as a job of
its own, reading what data prep wrote and writing the model version; file and HTTP transports; an API key only
from the environment and never written down."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import jsonschema
import pytest
import referencing
import yaml

from generator.errors import SpecErrors
from generator.spec import DEFAULT_SPEC, load_spec
from lineage.openlineage import OpenLineageConfig, attach, run_uuid, transport_plan
from lineage.openlineage_datasets import FACETS_DIR, blob_dataset_id
from local_runtime import azureml_standin, deploy as deployer
from local_runtime.azureml_standin import AzureMLStandIn
from local_runtime.engine import unobserve
from local_runtime.runs import cancel_run
from local_runtime.service import serve
from local_runtime.settings import PROJECT_ROOT
from ops.services import wait_for_http
from storage import download_bytes, upload_bytes
from storage.blobs import ensure_containers
from synthetic import generate, write_csv
from tests.conftest import free_port, start_event_grid
from tests.local_runtime.builders import FACTORY, activity, deploy, environment, execute_run, fail, pipeline, set_var

SCHEMAS = Path(__file__).resolve().parent / "schemas"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
FILE_SECTION = {"namespace": "adf://{factory}", "transport": {"type": "file", "path": "openlineage/events.jsonl"}}
OPENLINEAGE_ENV = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_API_KEY", "OPENLINEAGE_DISABLED")


# --- the schemas, offline ---------------------------------------------------------------------------------
def _registry() -> tuple[referencing.Registry, dict[str, str]]:
    """Every vendored schema under its $id (and the core also under the older URIs the old facet files use);
    returns the registry and facet name -> $id of its document."""
    core = referencing.Resource.from_contents(json.loads((SCHEMAS / "OpenLineage-2-0-2.json").read_text()))
    resources = [(CORE, core)] + [(f"https://openlineage.io/spec/{v}/OpenLineage.json", core) for v in ("1-0-1", "1-0-2")]
    facets = {}
    for path in [*sorted((SCHEMAS / "facets").glob("*.json")), *sorted(FACETS_DIR.glob("*.json"))]:
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], referencing.Resource.from_contents(contents)))
        facets[path.stem] = contents["$id"]
    return referencing.Registry().with_resources(resources), facets


REGISTRY, FACET_IDS = _registry()


def _validate(instance: dict, uri: str) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": uri}
    jsonschema.Draft202012Validator(schema, registry=REGISTRY, format_checker=jsonschema.FormatChecker()) \
        .validate(instance)


def _facets(event: dict) -> list[tuple[str, dict]]:
    found = list(event["run"].get("facets", {}).items()) + list(event["job"].get("facets", {}).items())
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        for group in ("facets", "inputFacets", "outputFacets"):
            found += list(dataset.get(group, {}).items())
    return found


def check_event(event: dict) -> None:
    """The spec's required fields, the RunEvent schema its schemaURL names, and every facet against its own."""
    for key in ("eventType", "eventTime", "producer", "schemaURL"):
        assert event.get(key), f"{key} missing in {event}"
    assert event["run"]["runId"] and event["job"]["namespace"] and event["job"]["name"]
    assert str(uuid.UUID(event["run"]["runId"])) == event["run"]["runId"]
    assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None
    assert event["schemaURL"] == f"{CORE}#/$defs/RunEvent"
    _validate(event, event["schemaURL"])
    for key, facet in _facets(event):
        name = facet["_schemaURL"].split("#/$defs/")[-1]
        assert name in FACET_IDS, f"facet {key} ({facet['_schemaURL']}) has no vendored schema to check it against"
        assert urlsplit(facet["_producer"]).scheme in ("http", "https")
        _validate(facet, f"{FACET_IDS[name]}#/$defs/{name}")


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summary(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["job"]["name"], e["eventType"]) for e in events]


def test_the_schemas_reject_an_event_without_a_required_field():
    event = {"eventType": "START", "eventTime": "2024-06-01T00:00:00+00:00", "producer": "https://example.invalid/x",
             "schemaURL": f"{CORE}#/$defs/RunEvent", "run": {"runId": str(uuid.uuid4())},
             "job": {"namespace": "adf://f", "name": "P"}}
    check_event(event)
    for key, broken in (("schemaURL", None), ("run", {"runId": "run-1"}), ("job", {"name": "P"})):
        with pytest.raises(jsonschema.ValidationError):
            _validate({k: v for k, v in {**event, key: broken}.items() if v is not None}, f"{CORE}#/$defs/RunEvent")
    with pytest.raises(jsonschema.ValidationError, match="is not a 'uuid'"):
        _validate({**event, "run": {"runId": "not-a-uuid"}}, f"{CORE}#/$defs/RunEvent")


# --- runs in a tmp runtime, no storage ----------------------------------------------------------------------
@pytest.fixture
def clean_env():
    with mock.patch.dict("os.environ"):
        for name in OPENLINEAGE_ENV:
            os.environ.pop(name, None)
        yield


def run_with_lineage(tmp_path, activities, section=None, environ=None, cancel_after: float | None = None,
                     flush: bool = True, objects: dict | None = None):
    """Deploy pipeline P, attach an emitter to its store, run it to its end (and, by default, wait until every
    event is sent); returns (status, store, emitter, events file, run id)."""
    settings, store = environment(tmp_path)
    deploy(store, {("pipeline", "P"): pipeline(activities), **(objects or {})})
    emitter = attach(store, settings, {"lineage": {"openlineage": section or FILE_SECTION}}, environ or {})
    with store.transaction() as db:
        run_id = store.queue_run(db, FACTORY, "P", {}, invoked_by="Manual")
    if cancel_after is not None:
        threading.Timer(cancel_after, cancel_run, args=(store, run_id)).start()
    status = execute_run(store, settings, run_id)
    unobserve(store, emitter)
    if flush:
        assert emitter.flush(30)
    return status, store, emitter, settings.home / "openlineage" / "events.jsonl", run_id


def test_every_run_and_activity_emits_start_then_complete_in_order(tmp_path, clean_env):
    status, store, _, path, run_id = run_with_lineage(tmp_path, [
        set_var("First", "a"),
        activity("Loop", "ForEach", {"First": ["Succeeded"]}, items={"value": "@range(0, 2)", "type": "Expression"},
                 isSequential=True, activities=[activity("Pause", "Wait", waitTimeInSeconds=0)])])
    assert status == "Succeeded"
    events = read_events(path)
    for event in events:
        check_event(event)
    assert summary(events) == [
        ("P", "START"), ("P.First", "START"), ("P.First", "COMPLETE"), ("P.Loop", "START"),
        ("P.Pause", "START"), ("P.Pause", "COMPLETE"), ("P.Pause", "START"), ("P.Pause", "COMPLETE"),
        ("P.Loop", "COMPLETE"), ("P", "COMPLETE")]
    assert {e["job"]["namespace"] for e in events} == {f"adf://{FACTORY}"}
    by_id = {a["activity_run_id"]: a for a in store.activity_runs(run_id)}
    pipeline_events = [e for e in events if e["job"]["name"] == "P"]
    assert {e["run"]["runId"] for e in pipeline_events} == {run_id}  # ADF run ids are UUIDs: used as they are
    loop = next(e for e in events if e["job"]["name"] == "P.Loop")
    for event in events:
        if event["job"]["name"] == "P":
            assert "parent" not in event["run"]["facets"]
            continue
        record = by_id[event["run"]["runId"]]
        parent = event["run"]["facets"]["parent"]
        assert parent["root"]["run"]["runId"] == run_id
        assert (parent["root"]["job"]["namespace"], parent["root"]["job"]["name"]) == (f"adf://{FACTORY}", "P")
        if event["job"]["name"] == "P.Pause":  # nested: the ForEach activity run is the parent
            assert parent["run"]["runId"] == record["parent"] == loop["run"]["runId"]
            assert parent["job"]["name"] == "P.Loop"
        else:
            assert parent["run"]["runId"] == run_id and parent["job"]["name"] == "P"
        adf = event["run"]["facets"]["adfRun"]
        assert adf["runId"] == record["activity_run_id"] and adf["activityType"] == record["type"]
    # START and the end of one activity run share its runId; retries and iterations get their own.
    pauses = [e["run"]["runId"] for e in events if e["job"]["name"] == "P.Pause"]
    assert pauses[0] == pauses[1] != pauses[2] == pauses[3]


def test_a_child_pipeline_run_points_at_the_execute_pipeline_activity_that_started_it(tmp_path, clean_env):
    child = {("pipeline", "Child"): pipeline([set_var("Inner", "x")])}
    status, store, _, path, run_id = run_with_lineage(tmp_path, [activity(
        "RunChild", "ExecutePipeline", pipeline={"referenceName": "Child", "type": "PipelineReference"},
        waitOnCompletion=True)], objects=child)
    assert status == "Succeeded"
    events = read_events(path)
    for event in events:
        check_event(event)
    assert summary(events) == [("P", "START"), ("P.RunChild", "START"), ("Child", "START"), ("Child.Inner", "START"),
                               ("Child.Inner", "COMPLETE"), ("Child", "COMPLETE"), ("P.RunChild", "COMPLETE"),
                               ("P", "COMPLETE")]
    run_child = events[1]["run"]["runId"]
    parent = events[2]["run"]["facets"]["parent"]
    assert (parent["run"]["runId"], parent["job"]["name"]) == (run_child, "P.RunChild")
    assert (parent["root"]["run"]["runId"], parent["root"]["job"]["name"]) == (run_id, "P")
    assert events[3]["run"]["facets"]["parent"]["run"]["runId"] == events[2]["run"]["runId"]


def test_a_failing_activity_emits_fail_with_its_error_message(tmp_path, clean_env):
    status, _, _, path, _ = run_with_lineage(tmp_path, [set_var("First", "a"),
                                                        fail("Broken", "the data is bad", {"First": ["Succeeded"]})])
    assert status == "Failed"
    events = read_events(path)
    for event in events:
        check_event(event)
    assert summary(events)[-3:] == [("P.Broken", "START"), ("P.Broken", "FAIL"), ("P", "FAIL")]
    broken, run = events[-2], events[-1]
    assert broken["run"]["facets"]["errorMessage"]["message"] == "the data is bad"
    assert broken["run"]["facets"]["adfRun"]["errorCode"] == "Boom"
    assert run["run"]["facets"]["errorMessage"]["message"] == "Operation on target Broken failed: the data is bad"
    assert all("errorMessage" not in e["run"]["facets"] for e in events if e["eventType"] != "FAIL")


def test_a_cancelled_run_emits_abort(tmp_path, clean_env):
    status, _, _, path, _ = run_with_lineage(tmp_path, [activity("Sleep", "Wait", waitTimeInSeconds=30)],
                                             cancel_after=0.5)
    assert status == "Cancelled"
    events = read_events(path)
    for event in events:
        check_event(event)
    assert summary(events) == [("P", "START"), ("P.Sleep", "START"), ("P.Sleep", "ABORT"), ("P", "ABORT")]


def test_a_lineage_backend_that_is_down_never_fails_a_run(tmp_path, clean_env, caplog):
    section = {"namespace": "adf://{factory}", "transport": {"type": "http", "url": f"http://127.0.0.1:{free_port()}"}}
    with caplog.at_level(logging.WARNING, logger="lineage.openlineage"):
        started = time.monotonic()
        status, *_ = run_with_lineage(tmp_path, [set_var("First", "a")], section, flush=False)
        assert status == "Succeeded"
        assert time.monotonic() - started < 5  # the client retries for ~10 s an event: not on the run's time
        deadline = time.monotonic() + 30
        while "OpenLineage event not sent: ConnectionError" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.2)
    assert "OpenLineage event not sent: ConnectionError" in caplog.text


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_http_transport_posts_each_event_with_the_api_key_from_the_environment_only(tmp_path, clean_env, caplog):
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = f"key-{uuid.uuid4().hex}"
    section = {"namespace": "adf://{factory}", "transport": {
        "type": "http", "url": f"http://127.0.0.1:{server.server_port}", "endpoint": "api/v1/lineage",
        "api_key_env": "LINEAGE_TEST_KEY"}}
    try:
        with caplog.at_level(logging.DEBUG):
            status, _, _, path, _ = run_with_lineage(tmp_path, [set_var("First", "a")], section,
                                                     {"LINEAGE_TEST_KEY": secret})
    finally:
        server.shutdown()
    assert status == "Succeeded"
    assert [p for p, _, _ in _Collector.received] == ["/api/v1/lineage"] * 4
    assert all(h["Authorization"] == f"Bearer {secret}" for _, h, _ in _Collector.received)
    assert all(h["Content-Type"].startswith("application/json") for _, h, _ in _Collector.received)
    events = [body for _, _, body in _Collector.received]
    for event in events:
        check_event(event)
    assert summary(events) == [("P", "START"), ("P.First", "START"), ("P.First", "COMPLETE"), ("P", "COMPLETE")]
    assert secret not in json.dumps(events) and secret not in caplog.text
    assert not path.exists()  # http replaces the file transport, nothing written locally
    assert secret not in "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())


def test_the_transport_plan_comes_from_the_spec_unless_the_environment_sets_one(tmp_path):
    config = OpenLineageConfig.from_spec(load_spec().data)
    assert config.job_namespace("adf-porto-local") == "adf://adf-porto-local"
    assert transport_plan(config, tmp_path, {}) == {
        "type": "file", "log_file_path": str(tmp_path / "openlineage" / "events.jsonl"), "append": True}
    http = OpenLineageConfig(transport={"type": "http", "url": "http://m:5000", "api_key_env": "OL_KEY"})
    assert transport_plan(http, tmp_path, {"OL_KEY": "secret"}) == {
        "type": "http", "url": "http://m:5000", "endpoint": "api/v1/lineage", "api_key_env": "OL_KEY"}
    assert transport_plan(config, tmp_path, {"OPENLINEAGE_URL": "http://marquez:5000"}) is None
    assert transport_plan(config, tmp_path, {"OPENLINEAGE_CONFIG": "/etc/openlineage.yml"}) is None
    assert transport_plan(config, tmp_path, {"OPENLINEAGE__TRANSPORT__TYPE": "console"}) is None
    assert OpenLineageConfig.from_spec({}).transport == FILE_SECTION["transport"]


def test_the_spec_takes_only_the_name_of_an_api_key_variable(tmp_path):
    data = yaml.safe_load(DEFAULT_SPEC.read_text())
    data["lineage"]["openlineage"]["transport"] = {"type": "http", "url": "http://m:5000", "api_key": "abc"}
    path = tmp_path / "factory.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(SpecErrors, match="lineage.openlineage.transport"):
        load_spec(path)


def test_run_ids_that_are_not_uuids_become_stable_uuid5s():
    adf = "b8b4bfd8-3c1a-4fd5-9d7c-0b2bb1a0f4f3"
    assert run_uuid(adf) == adf and run_uuid(adf.upper()) == adf
    derived = run_uuid("batchjob-17")
    assert uuid.UUID(derived).version == 5 and derived == run_uuid("batchjob-17") != run_uuid("batchjob-18")


def test_blob_datasets_follow_the_openlineage_naming_spec():
    assert blob_dataset_id("https://stportodev.blob.core.windows.net/training/run-1/train.parquet") == (
        "wasbs://training@stportodev.dfs.core.windows.net", "run-1/train.parquet")
    assert blob_dataset_id("http://127.0.0.1:10000/devstoreaccount1/input/drops/a.csv") == (
        "wasbs://input@devstoreaccount1", "drops/a.csv")


# --- the deployed pipeline on Azurite, through the service ------------------------------------------------
ARM = PROJECT_ROOT / "generated" / "arm"
PIPELINE = "PrepareAndTrain"


@pytest.fixture(scope="module")
def pipeline_run(azurite, tmp_path_factory):
    """The deployed PrepareAndTrain, run once by the runtime service (which wires the emitter in from the
    spec: file transport under its home) on a small synthetic file; returns what the tests need."""
    saved = {name: value for name in OPENLINEAGE_ENV if (value := os.environ.pop(name, None))}
    home = tmp_path_factory.mktemp("lineage-home")
    event_grid = start_event_grid(azurite, home, runtime_port=free_port(), poll_seconds=0.3)
    settings, store, account_url = event_grid.settings, event_grid.store, event_grid.account_url
    base = f"http://127.0.0.1:{settings.runtime_port}/azureml"
    template, values = deployer.load_arm(ARM / "ARMTemplateForFactory.json", ARM / "parameters" / "local.json", {
        "PortoStorage_properties_typeProperties_serviceEndpoint": account_url,
        f"{PIPELINE}_properties_parameters_storage_account_url_defaultValue": account_url,
        f"{PIPELINE}_properties_parameters_training_endpoint_uri_defaultValue": f"{base}/endpoints/porto-training/jobs",
        f"{PIPELINE}_properties_parameters_azureml_management_uri_defaultValue": base,
        f"{PIPELINE}_properties_parameters_poll_interval_seconds_defaultValue": 1})
    deployer.apply(store, deployer.plan(store, settings, template, values))
    stop = threading.Event()
    service = threading.Thread(target=serve, args=(settings, stop), daemon=True)
    service.start()
    try:
        wait_for_http(f"http://127.0.0.1:{settings.runtime_port}/health")
        csv = home / "synthetic.csv"
        write_csv(generate(6000, 11), csv)
        data = csv.read_bytes()
        upload_bytes(f"{account_url}/input/drops/lineage.csv", data)
        run = _wait_for_run(store, "input/drops/lineage.csv")
    finally:
        stop.set()
        service.join(60)  # the service flushes and closes the emitter on its way out
        os.environ.update(saved)
    yield {"store": store, "settings": settings, "run": run, "data": data,
           "events": read_events(home / "openlineage" / "events.jsonl")}
    event_grid.proxy.stop()


def _wait_for_run(store, blob_path: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.connect() as db:
            row = db.execute("SELECT run_id FROM blob_events WHERE blob_path=?", [blob_path]).fetchone()
        if row and (run := store.run(row["run_id"]))["status"] in ("Succeeded", "Failed", "Cancelled"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"no finished run for {blob_path} after {timeout}s")


def test_a_pipeline_run_emits_start_and_complete_for_itself_and_every_activity(pipeline_run):
    run, store, events = pipeline_run["run"], pipeline_run["store"], pipeline_run["events"]
    assert run["status"] == "Succeeded", run["message"]
    for event in events:
        check_event(event)
    mine = [e for e in events if e["run"]["runId"] == run["run_id"]
            or e["run"]["facets"]["parent"]["root"]["run"]["runId"] == run["run_id"]]
    assert mine == events
    events = [e for e in events if e["job"]["namespace"].startswith("adf://")]  # the training job: tests below
    assert summary(events)[0] == (PIPELINE, "START") and summary(events)[-1] == (PIPELINE, "COMPLETE")
    records = store.activity_runs(run["run_id"])
    assert len(events) == 2 * (len(records) + 1)
    for record in records:
        own = [e for e in events if e["run"]["runId"] == record["activity_run_id"]]
        assert [e["eventType"] for e in own] == ["START", "COMPLETE"], record["name"]
        assert own[0]["job"]["name"] == f"{PIPELINE}.{record['name']}"
        assert events.index(own[0]) < events.index(own[1])
    starts = [e["run"]["runId"] for e in events if e["eventType"] == "START"][1:]
    assert starts == [r["activity_run_id"] for r in sorted(records, key=lambda r: r["start"])]


def test_the_prep_activity_reports_what_it_read_and_wrote_with_the_stored_sha256(pipeline_run):
    run, store, data = pipeline_run["run"], pipeline_run["store"], pipeline_run["data"]
    prep = next(r for r in store.activity_runs(run["run_id"]) if r["type"] == "DatabricksNotebook")
    complete = next(e for e in pipeline_run["events"]
                    if e["run"]["runId"] == prep["activity_run_id"] and e["eventType"] == "COMPLETE")
    manifest = json.loads(download_bytes(prep["output"]["runOutput"]["manifest_url"]))
    [source] = complete["inputs"]
    assert (source["namespace"], source["name"]) == ("wasbs://input@devstoreaccount1", "drops/lineage.csv")
    assert source["facets"]["contentHash"]["sha256"] == hashlib.sha256(data).hexdigest()
    outputs = {(o["namespace"], o["name"]): o for o in complete["outputs"]}
    contract = {c["name"]: c["type"] for c in load_spec().data["data_contract"]["columns"]}
    for side in ("train", "test"):
        stored = manifest["outputs"][side]
        out = outputs[blob_dataset_id(stored["url"])]
        blob = download_bytes(stored["url"])
        assert out["facets"]["contentHash"] == {**out["facets"]["contentHash"],
                                                "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}
        assert out["outputFacets"]["outputStatistics"]["rowCount"] == stored["rows"] > 0
        assert out["outputFacets"]["outputStatistics"]["size"] == len(blob)
        fields = out["facets"]["schema"]["fields"]
        assert [f["name"] for f in fields] == stored["columns"]
        assert all(f["type"] == contract[f["name"]] for f in fields)
    archived = outputs[blob_dataset_id(manifest["input"]["archived_url"])]
    assert archived["facets"]["contentHash"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert blob_dataset_id(prep["output"]["runOutput"]["manifest_url"]) in outputs


def test_the_pipeline_run_reports_the_delivered_file_the_splits_and_the_model_version(pipeline_run):
    run, store = pipeline_run["run"], pipeline_run["store"]
    complete = pipeline_run["events"][-1]
    assert [(i["namespace"], i["name"]) for i in complete["inputs"]] == [("wasbs://input@devstoreaccount1",
                                                                          "drops/lineage.csv")]
    names = {(o["namespace"], o["name"]) for o in complete["outputs"]}
    assert {("wasbs://training@devstoreaccount1", f"{run['run_id']}/train.parquet"),
            ("wasbs://testing@devstoreaccount1", f"{run['run_id']}/test.parquet")} <= names
    web = next(r for r in store.activity_runs(run["run_id"]) if r["name"] == "StartTrainingJob")
    job = store.job(web["output"]["name"])
    model = next(o for o in complete["outputs"] if o["namespace"].startswith("mlflow://"))
    assert model["name"] == f"{job['outputs']['model_name']}/{job['outputs']['model_version']}"
    assert model["facets"]["contentHash"]["sha256"] == job["outputs"]["model_sha256"]


# --- the training job, a job of its own --------------------------------------------------------------------
def _training_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["job"]["namespace"].startswith("azureml://")]


def _by_id(datasets: list[dict]) -> dict[tuple[str, str], dict]:
    return {(d["namespace"], d["name"]): d for d in datasets}


def test_the_training_job_reads_what_prep_wrote_and_writes_the_model_version(pipeline_run):
    run, store, events = pipeline_run["run"], pipeline_run["store"], pipeline_run["events"]
    records = {r["name"]: r for r in store.activity_runs(run["run_id"])}
    job = store.job(records["StartTrainingJob"]["output"]["name"])
    workspace = AzureMLStandIn(store, pipeline_run["settings"]).workspace_id()
    start, complete = _training_events(events)
    for event in (start, complete):
        check_event(event)
        assert (event["job"]["namespace"], event["job"]["name"]) == (
            f"azureml://{workspace.rsplit('/', 1)[-1]}", job["endpoint"])
        assert event["run"]["runId"] == run_uuid(job["name"])
        parent = event["run"]["facets"]["parent"]
        for link in (parent, parent["root"]):
            assert (link["run"]["runId"], link["job"]["namespace"], link["job"]["name"]) == (
                run["run_id"], f"adf://{run['factory']}", PIPELINE)
        assert "errorMessage" not in event["run"]["facets"]
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["facets"]["azuremlJob"] == {**start["run"]["facets"]["azuremlJob"], "jobName": job["name"],
                                                    "status": "Running", "endpoint": "porto-training",
                                                    "workspace": workspace}
    assert complete["run"]["facets"]["azuremlJob"] == {
        **complete["run"]["facets"]["azuremlJob"], "jobName": job["name"], "status": "Completed",
        "mlflowRunId": job["outputs"]["mlflow_run_id"], "decision": job["outputs"]["decision"]["outcome"]}
    # it runs inside StartTrainingJob .. WaitForTrainingJob, and ends before the pipeline run does
    starts = {e["job"]["name"]: i for i, e in enumerate(events) if e["eventType"] == "START"}
    assert starts[f"{PIPELINE}.StartTrainingJob"] < events.index(start) < events.index(complete) < len(events) - 1

    # inputs: the manifest, train and test exactly as the prep activity reported them as outputs
    prep = next(r for r in records.values() if r["type"] == "DatabricksNotebook")
    prep_complete = next(e for e in events if e["run"]["runId"] == prep["activity_run_id"]
                         and e["eventType"] == "COMPLETE")
    written = _by_id(prep_complete["outputs"])
    manifest_url = prep["output"]["runOutput"]["manifest_url"]
    manifest = json.loads(download_bytes(manifest_url))
    expected = [blob_dataset_id(url) for url in (manifest_url, manifest["outputs"]["train"]["url"],
                                                 manifest["outputs"]["test"]["url"])]
    for event in (start, complete):
        read = _by_id(event["inputs"])
        assert list(read) == expected
        for key, dataset in read.items():
            assert dataset["facets"] == written[key]["facets"]  # same contentHash (and schema): the graph connects
    assert read[expected[1]]["facets"]["contentHash"]["sha256"] == manifest["outputs"]["train"]["sha256"]
    assert [f["name"] for f in read[expected[2]]["facets"]["schema"]["fields"]] == manifest["outputs"]["test"]["columns"]

    # output: the registered model version, as the pipeline run's COMPLETE names it
    assert start["outputs"] == []
    [model] = complete["outputs"]
    assert model["namespace"].startswith("mlflow://")
    assert model["name"] == f"{job['outputs']['model_name']}/{job['outputs']['model_version']}"
    assert model["facets"]["contentHash"]["sha256"] == job["outputs"]["model_sha256"]
    assert model in events[-1]["outputs"]


def _invoke_and_wait(standin: AzureMLStandIn, request: dict, timeout: float = 300) -> dict:
    status, resource = standin.invoke("porto-training", request)
    assert status == 200, resource
    deadline = time.monotonic() + timeout
    while (job := standin.store.job(resource["name"]))["status"] not in ("Completed", "Failed"):
        assert time.monotonic() < deadline, f"training job {resource['name']} still {job['status']}"
        time.sleep(0.3)
    return job


def _training_emitter(store, settings, events_file: Path):
    spec = {**load_spec().data, "lineage": {"openlineage": {
        "namespace": "adf://{factory}", "transport": {"type": "file", "path": str(events_file)}}}}
    return attach(store, settings, spec, {})


def test_a_training_job_below_the_quality_gate_emits_fail_with_its_error(pipeline_run, tmp_path, clean_env):
    run, store, settings = pipeline_run["run"], pipeline_run["store"], pipeline_run["settings"]
    first = store.job(next(r for r in store.activity_runs(run["run_id"])
                           if r["name"] == "StartTrainingJob")["output"]["name"])
    config = tmp_path / "training-config.json"
    config.write_text(json.dumps({**json.loads(azureml_standin.TRAINING_CONFIG.read_text()), "min_auc": 1.0}))
    emitter = _training_emitter(store, settings, tmp_path / "events.jsonl")
    try:
        with mock.patch.object(azureml_standin, "TRAINING_CONFIG", config):
            job = _invoke_and_wait(AzureMLStandIn(store, settings, [emitter]), first["request"])
        assert emitter.flush(30)
    finally:
        emitter.close()
    assert job["status"] == "Failed" and "below the gate min_auc=1.0000" in job["error"]
    events = read_events(tmp_path / "events.jsonl")
    for event in events:
        check_event(event)
    assert summary(events) == [("porto-training", "START"), ("porto-training", "FAIL")]
    fail = events[1]
    assert fail["run"]["runId"] == events[0]["run"]["runId"] == run_uuid(job["name"]) != run_uuid(first["name"])
    assert fail["run"]["facets"]["errorMessage"]["message"] == job["error"]
    assert fail["run"]["facets"]["azuremlJob"]["status"] == "Failed"
    assert "mlflowRunId" not in fail["run"]["facets"]["azuremlJob"]
    assert fail["run"]["facets"]["parent"]["run"]["runId"] == run["run_id"]
    assert fail["outputs"] == [] and fail["inputs"] == events[0]["inputs"] != []  # it read them; it wrote nothing


class _Deaf:
    def job_started(self, job, workspace_id):
        raise RuntimeError("lineage is down")

    job_ended = job_started


def test_a_broken_manifest_still_emits_start_and_fail_and_a_failing_observer_never_fails_the_job(
        azurite, tmp_path, clean_env, caplog):
    settings, store = environment(tmp_path)
    deploy(store, {("pipeline", "P"): pipeline([set_var("First", "a")])})
    with store.transaction() as db:
        run_id = store.queue_run(db, FACTORY, "P", {}, invoked_by="Manual")
    ensure_containers(azurite, ["training"])
    manifest_url = f"{azurite}/training/{uuid.uuid4()}/manifest.json"
    upload_bytes(manifest_url, b"not a manifest")
    emitter = _training_emitter(store, settings, tmp_path / "events.jsonl")
    request = {"properties": {"InputData": {
        "manifest": {"JobInputType": "UriFile", "Uri": manifest_url},
        "pipeline_run_id": {"JobInputType": "Literal", "Value": run_id}}}}
    try:
        with caplog.at_level(logging.WARNING):
            job = _invoke_and_wait(AzureMLStandIn(store, settings, [_Deaf(), emitter]), request, timeout=120)
            assert emitter.flush(30)
    finally:
        emitter.close()
    assert job["status"] == "Failed" and "not valid JSON" in job["error"]  # its own error, not the observer's
    assert "job observer _Deaf failed on job_started; the job goes on" in caplog.text
    assert "the training job's inputs are left out" in caplog.text
    events = read_events(tmp_path / "events.jsonl")
    for event in events:
        check_event(event)
    assert summary(events) == [("porto-training", "START"), ("porto-training", "FAIL")]
    assert all(e["inputs"] == [] and e["outputs"] == [] for e in events)
    assert events[1]["run"]["facets"]["errorMessage"]["message"] == job["error"]
    parent = events[1]["run"]["facets"]["parent"]
    assert (parent["run"]["runId"], parent["job"]["name"], parent["root"]["job"]["name"]) == (run_id, "P", "P")
