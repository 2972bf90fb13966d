"""`make smoke ENV=qa` and `make integration-test ENV=qa` at the HTTP boundary: the ADF run API through
azure-mgmt-datafactory against the loopback fake; the data checks are the ones `make integration-test
ENV=local` runs (ops.integration.check_manifest)."""
from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from azure_deploy.azureml import build_pipeline_component, endpoint_inputs, stage_code, training_release
from azure_deploy.factory import FactoryOps
from azure_deploy.runs import smoke
from azure_deploy.source import load_source
from ops import integration
from ops.smoke import azure_smoke

FACTORY = "adf-porto-qa"
PARAMS = {"folderPath": "input", "fileName": "porto.csv"}


def run_smoke(fake, target, credential, capsys, timeout=60):
    code = azure_smoke("qa", dict(PARAMS), timeout, credential=credential, endpoints=target.endpoints,
                       poll_seconds=0, sleep=lambda s: None)
    return code, capsys.readouterr().out


def test_smoke_polls_through_queued_and_in_progress_to_succeeded(fake, target, credential, capsys):
    fake.add_factory(FACTORY)
    fake.run_activities = [{"activityName": "PrepareData", "activityType": "DatabricksNotebook",
                            "status": "Succeeded", "durationInMs": 61000, "activityRunId": "a1"}]
    code, out = run_smoke(fake, target, credential, capsys)
    assert code == 0
    assert [line.split()[-1] for line in out.splitlines() if line.strip().endswith(("Queued", "InProgress",
                                                                                     "Succeeded"))][:3] == \
        ["Queued", "InProgress", "Succeeded"]
    assert "PrepareData" in out and "61.0s" in out
    create = next(r for r in fake.requests if r.path.endswith("/pipelines/PrepareAndTrain/createRun"))
    assert create.json() == PARAMS
    polls = [r for r in fake.requests if "/pipelineruns/" in r.path and r.method == "GET"]
    assert len(polls) == 4  # Queued, InProgress, InProgress, Succeeded
    assert any(r.path.endswith("/queryActivityruns") for r in fake.requests)


def test_smoke_fails_on_a_failed_run_and_prints_the_activity_error(fake, target, credential, capsys):
    fake.add_factory(FACTORY)
    fake.run_script = ["Queued", "InProgress", "Failed"]
    fake.run_message = "Operation on target PrepareData failed"
    fake.run_activities = [{"activityName": "PrepareData", "activityType": "DatabricksNotebook", "status": "Failed",
                            "durationInMs": 5000, "activityRunId": "a1",
                            "error": {"errorCode": "3204", "message": "Notebook not found: /Shared/porto-seguro/x",
                                      "failureType": "UserError"}}]
    code, out = run_smoke(fake, target, credential, capsys)
    assert code == 1
    assert "error 3204: Notebook not found: /Shared/porto-seguro/x" in out
    assert "ended Failed: Operation on target PrepareData failed" in out


def test_smoke_gives_up_after_the_timeout(fake, target, credential, capsys):
    fake.add_factory(FACTORY)
    fake.run_script = ["Queued", "InProgress"]  # never ends
    clock = iter(range(0, 10_000, 50))  # 50 s per poll
    code = smoke(FactoryOps(target, credential), "PrepareAndTrain", PARAMS, timeout=120, poll_seconds=0,
                 sleep=lambda s: None, clock=lambda: next(clock))
    out = capsys.readouterr().out
    assert code == 1 and "gave up after 120s" in out and "still InProgress" in out


# --- integration-test ENV=qa ------------------------------------------------------------------------------------------
def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepared_run(rows: int = 4000, seed: int = 7) -> tuple[dict, dict[str, bytes]]:
    """A manifest and the blobs it names, split the way data prep splits (each row alone, 20% test)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, rows + 1)
    table = pa.table({"id": ids, "target": (rng.random(rows) < 0.1).astype(np.int64),
                      "ps_ind_01": rng.integers(0, 8, rows)})
    test_mask = rng.random(rows) < 0.2
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    blobs = {"https://stportoqa.blob.core.windows.net/archive/inputs/sha256/x.csv": sink.getvalue()}
    outputs = {}
    for side, mask in (("train", ~test_mask), ("test", test_mask)):
        buf = io.BytesIO()
        pq.write_table(table.filter(pa.array(mask)), buf)
        url = f"https://stportoqa.blob.core.windows.net/{side}ing/run-1/{side}.parquet"
        blobs[url] = buf.getvalue()
        outputs[side] = {"url": url, "sha256": sha(buf.getvalue()), "rows": int(mask.sum()),
                         "columns": table.column_names}
    manifest = {"input": {"archived_url": next(iter(blobs)), "sha256": sha(sink.getvalue())}, "outputs": outputs,
                "parameters": {"test_fraction": 0.2}}
    return manifest, blobs


def test_integration_checks_the_latest_successful_run_in_azure(fake, target, credential, capsys):
    fake.add_factory(FACTORY)
    manifest, blobs = prepared_run()
    manifest_url = "https://stportoqa.blob.core.windows.net/archive/runs/run-1/manifest.json"
    blobs[manifest_url] = json.dumps(manifest).encode()
    fake.run_activities = [{"activityName": "PrepareData", "activityType": "DatabricksNotebook", "status": "Succeeded",
                            "activityRunId": "a1", "output": {"runOutput": {"manifest_url": manifest_url}}}]
    fake.runs.clear()
    azure_smoke("qa", dict(PARAMS), 60, credential=credential, endpoints=target.endpoints, poll_seconds=0,
                sleep=lambda s: None)
    capsys.readouterr()
    code = integration.azure_main("qa", None, credential=credential, endpoints=target.endpoints,
                                  fetch=blobs.__getitem__)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 failed" in out and "PASS  rows add up" in out
    assert any(r.path.endswith("/queryPipelineRuns") for r in fake.requests)


def test_integration_fails_when_a_blob_does_not_match_its_manifest_hash(fake, target, credential, capsys):
    fake.add_factory(FACTORY)
    manifest, blobs = prepared_run()
    manifest["outputs"]["test"]["sha256"] = "0" * 64
    url = "https://stportoqa.blob.core.windows.net/archive/runs/run-1/manifest.json"
    blobs[url] = json.dumps(manifest).encode()
    fake.run_activities = []  # no activity output: the archive's runs/<run id>/manifest.json is used
    azure_smoke("qa", dict(PARAMS), 60, credential=credential, endpoints=target.endpoints, poll_seconds=0,
                sleep=lambda s: None)
    run_id = next(iter(fake.runs))
    blobs[f"https://stportoqa.blob.core.windows.net/archive/runs/{run_id}/manifest.json"] = blobs.pop(url)
    capsys.readouterr()
    code = integration.azure_main("qa", run_id, credential=credential, endpoints=target.endpoints,
                                  fetch=blobs.__getitem__)
    out = capsys.readouterr().out
    assert code == 1 and "FAIL  test sha256 matches manifest" in out


# --- the names the factory calls are the names published -------------------------------------------------------------
def test_the_published_component_takes_exactly_what_the_web_activity_posts(target, tmp_path):
    pipeline = load_source(target).objects[("pipeline", "PrepareAndTrain")]
    release = training_release(target, pipeline)
    component = build_pipeline_component(release, stage_code(tmp_path))
    assert sorted(component.inputs) == sorted(endpoint_inputs(pipeline)) == ["manifest", "manifest_sha256",
                                                                             "pipeline_run_id"]
    assert component.inputs["manifest"].type == "uri_file"
    assert release.endpoint == "porto-training-qa"  # https://porto-training-qa.westeurope.inference.ml.azure.com/jobs
    assert (tmp_path / "training" / "__main__.py").exists() and (tmp_path / "training-config.json").exists()
