"""End to end on real Azurite: a dropped file triggers the deployed pipeline, which prepares the data,
trains on exactly it through the Azure ML stand-in and registers a model tagged with every hash; a broken
file fails the run, lands in the rejected area and writes nothing else; restarts neither re-run nor miss."""
from __future__ import annotations

import json
import time

import pytest
from mlflow import MlflowClient

from local_runtime.runs import start_run
from local_runtime.triggers import poll_once
from ops.deployed import manifest, training_job
from ops.integration import check_run
from storage import container_client, download_bytes, sha256_hex, upload_bytes
from synthetic import generate, write_csv

TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def csv_bytes(rows: int, seed: int, tmp_path) -> bytes:
    path = tmp_path / f"synthetic-{rows}-{seed}.csv"
    write_csv(generate(rows, seed), path)
    return path.read_bytes()


def drop(env, name: str, data: bytes) -> str:
    upload_bytes(f"{env.account_url}/input/{name}", data)
    return name


def wait_for_run_of(env, blob_name: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with env.store.connect() as db:
            row = db.execute("SELECT run_id FROM blob_events WHERE blob_path=? ORDER BY event_time DESC",
                             [f"input/{blob_name}"]).fetchone()
        if row:
            return row["run_id"]
        time.sleep(0.2)
    raise AssertionError(f"no run triggered for {blob_name}")


def wait_for_end(env, run_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = env.store.run(run_id)
        if run["status"] in TERMINAL:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still {env.store.run(run_id)['status']} after {timeout}s")


def blobs(env, container: str, prefix: str = "") -> list[str]:
    return [b.name for b in container_client(env.account_url, container).list_blobs(name_starts_with=prefix)]


@pytest.fixture(scope="module")
def good_run(local_env, tmp_path_factory):
    data = csv_bytes(12000, 7, tmp_path_factory.mktemp("data"))
    name = drop(local_env, "drops/good.csv", data)
    run_id = wait_for_run_of(local_env, name)
    return run_id, data, wait_for_end(local_env, run_id)


def test_a_dropped_file_triggers_one_run_that_succeeds(local_env, good_run):
    run_id, _, run = good_run
    assert run["status"] == "Succeeded", run["message"]
    assert run["invoked_by"] == "BlobEventsTrigger"
    assert run["parameters"] == {"folderPath": "input/drops", "fileName": "good.csv"}
    names = [a["name"] for a in local_env.store.activity_runs(run_id)]
    assert names[:3] == ["PrepareData", "StartTrainingJob", "WaitForTrainingJob"]
    assert names[-1] == "CheckTrainingOutcome" and "GetTrainingJob" in names


def test_outputs_are_the_split_of_exactly_the_input(local_env, good_run):
    run_id, data, _ = good_run
    man, _ = manifest(local_env.store, run_id)
    assert man["pipeline_run_id"] == run_id
    assert man["input"]["sha256"] == sha256_hex(data)
    assert download_bytes(man["input"]["archived_url"]) == data
    assert blobs(local_env, "training", run_id) == [f"{run_id}/train.parquet"]
    assert blobs(local_env, "testing", run_id) == [f"{run_id}/test.parquet"]
    failed = [(name, detail) for name, passed, detail in check_run(local_env.store, run_id) if not passed]
    assert failed == []


def test_the_registered_model_is_tagged_with_the_run_and_every_hash(local_env, good_run):
    run_id, data, _ = good_run
    man, man_bytes = manifest(local_env.store, run_id)
    job = training_job(local_env.store, run_id)
    assert job["status"] == "Completed"
    client = MlflowClient(local_env.settings.mlflow_tracking_uri, local_env.settings.mlflow_tracking_uri)
    version = client.get_model_version(job["outputs"]["model_name"], job["outputs"]["model_version"])
    assert version.tags["pipeline_run_id"] == run_id
    assert version.tags["manifest_sha256"] == sha256_hex(man_bytes)
    assert version.tags["input_sha256"] == sha256_hex(data)
    assert version.tags["train_sha256"] == sha256_hex(download_bytes(man["outputs"]["train"]["url"]))
    assert version.tags["test_sha256"] == sha256_hex(download_bytes(man["outputs"]["test"]["url"]))
    inputs = client.get_run(version.run_id).inputs.dataset_inputs
    digests = {i.dataset.name: i.dataset for i in inputs}
    assert sha256_hex(download_bytes(man["outputs"]["train"]["url"])) in json.dumps(
        [json.loads(d.profile) if d.profile else {} for d in digests.values()] + [t.value for i in inputs for t in i.tags])
    assert job["outputs"]["metrics"]["auc"] > 0.55


def test_the_triggered_run_leaves_a_lineage_record_that_proves(local_env, good_run, capsys):
    from lineage.cli import main as lineage

    run_id, data, _ = good_run
    outputs = training_job(local_env.store, run_id)["outputs"]
    args = ["--model", outputs["model_name"], "--version", str(outputs["model_version"]),
            "--tracking-uri", local_env.settings.mlflow_tracking_uri]
    assert lineage(["show", "--json", *args]) == 0
    record = json.loads(capsys.readouterr().out)["record"]
    assert record["pipeline_run_id"] == run_id and record["input"]["sha256"] == sha256_hex(data)
    # What the blob trigger delivered, as ADF's system variables and the blob's properties say.
    assert record["trigger"]["type"] == "BlobEventsTrigger" and record["trigger"]["name"]
    assert record["trigger"]["blob_path"] == "input/drops/good.csv" and record["trigger"]["etag"]
    assert outputs["lineage_record_sha256"] == sha256_hex(download_bytes(outputs["lineage_record_url"]))
    assert lineage(["prove", *args]) == 0, capsys.readouterr().out


def test_a_manual_run_with_parameters_is_the_smoke_path(local_env, good_run):
    run_id = start_run(local_env.store, "PrepareAndTrain", {"folderPath": "input/drops", "fileName": "good.csv"})
    run = wait_for_end(local_env, run_id)
    assert run["status"] == "Succeeded" and run["invoked_by"] == "Manual"
    # Same bytes: the archived input is the same content-addressed object.
    assert manifest(local_env.store, run_id)[0]["input"]["archived_url"] == \
        manifest(local_env.store, good_run[0])[0]["input"]["archived_url"]


def test_a_broken_file_fails_the_run_is_rejected_with_its_reason_and_writes_nothing_else(local_env, good_run, tmp_path):
    data = csv_bytes(300, 3, tmp_path)
    header, rest = data.split(b"\n", 1)
    broken = header.replace(b",ps_car_13", b"", 1) + b"\n" + rest  # one column name missing
    archive_before = set(blobs(local_env, "archive"))
    name = drop(local_env, "drops/broken.csv", broken)
    run_id = wait_for_run_of(local_env, name)
    run = wait_for_end(local_env, run_id)
    assert run["status"] == "Failed"
    assert "PrepareData" in run["message"] and "ps_car_13" in run["message"]
    activities = {a["name"]: a["status"] for a in local_env.store.activity_runs(run_id)}
    assert activities["PrepareData"] == "Failed" and activities["StartTrainingJob"] == "Skipped"
    rejected = blobs(local_env, "rejected", run_id)
    assert sorted(rejected) == [f"{run_id}/broken.csv", f"{run_id}/broken.csv.reason.json"]
    assert download_bytes(f"{local_env.account_url}/rejected/{run_id}/broken.csv") == broken
    reason = json.loads(download_bytes(f"{local_env.account_url}/rejected/{run_id}/broken.csv.reason.json"))
    assert "ps_car_13" in json.dumps(reason)
    assert blobs(local_env, "training", run_id) == [] and blobs(local_env, "testing", run_id) == []
    assert set(blobs(local_env, "archive")) == archive_before


def test_empty_and_non_csv_blobs_do_not_trigger(local_env, good_run):
    drop(local_env, "drops/empty.csv", b"")
    drop(local_env, "drops/notes.txt", b"hello")
    assert poll_once(local_env.store, local_env.settings) == []


def test_restart_neither_reruns_processed_blobs_nor_misses_new_ones(local_env, good_run, tmp_path):
    local_env.halt()
    processed_before = len(local_env.store.runs(1000))
    name = drop(local_env, "drops/while-down.csv", csv_bytes(10000, 11, tmp_path))
    local_env.start()
    run_id = wait_for_run_of(local_env, name)
    assert wait_for_end(local_env, run_id)["status"] == "Succeeded"
    time.sleep(1)  # several trigger polls
    runs = local_env.store.runs(1000)
    assert len(runs) == processed_before + 1
    with local_env.store.connect() as db:
        fired = db.execute("SELECT blob_path, COUNT(*) AS n FROM blob_events GROUP BY blob_path").fetchall()
    assert all(row["n"] == 1 for row in fired)


def test_a_new_version_of_the_same_blob_fires_again(local_env, good_run, tmp_path):
    name = drop(local_env, "drops/again.csv", csv_bytes(10000, 21, tmp_path))
    first = wait_for_run_of(local_env, name)
    wait_for_end(local_env, first)
    drop(local_env, "drops/again.csv", csv_bytes(10000, 22, tmp_path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and wait_for_run_of(local_env, name) == first:
        time.sleep(0.2)
    second = wait_for_run_of(local_env, name)
    assert second != first
    assert wait_for_end(local_env, second)["status"] == "Succeeded"


def test_smoke_and_integration_commands_against_the_environment(local_env, good_run, monkeypatch, capsys):
    from ops import integration, smoke

    monkeypatch.setattr(smoke, "load_settings", lambda: local_env.settings)
    monkeypatch.setattr(integration, "load_settings", lambda: local_env.settings)
    assert smoke.main(["--env", "local", "--timeout", "240"]) == 0
    out = capsys.readouterr().out
    assert "Queued" in out or "InProgress" in out
    assert "PrepareData" in out and "Succeeded" in out
    assert integration.main(["--env", "local"]) == 0
    assert "0 failed" in capsys.readouterr().out
    assert smoke.main(["--env", "local", "--timeout", "0.5"]) == 1  # gives up, names the state
    assert "gave up after" in capsys.readouterr().err


def test_a_model_below_the_quality_gate_fails_the_run_and_registers_nothing(local_env, good_run, tmp_path):
    import numpy as np

    frame = generate(20000, 5)  # big enough that chance alone stays well under the AUC floor
    frame["target"] = np.random.default_rng(0).permutation(frame["target"].to_numpy())  # no signal left
    path = tmp_path / "noise.csv"
    write_csv(frame, path)
    name = drop(local_env, "drops/noise.csv", path.read_bytes())
    run_id = wait_for_run_of(local_env, name)
    run = wait_for_end(local_env, run_id)
    assert run["status"] == "Failed"
    assert "Training job batchjob-" in run["message"] and "ended with status Failed" in run["message"]
    statuses = {a["name"]: a["status"] for a in local_env.store.activity_runs(run_id)}
    assert statuses["PrepareData"] == "Succeeded" and statuses["TrainingJobFailed"] == "Failed"
    assert "AUC" in training_job(local_env.store, run_id)["error"]
    client = MlflowClient(local_env.settings.mlflow_tracking_uri, local_env.settings.mlflow_tracking_uri)
    tagged = [v for v in client.search_model_versions("name='porto-seguro-safe-driver'")
              if v.tags.get("pipeline_run_id") == run_id]
    assert tagged == []
