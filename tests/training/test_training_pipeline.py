"""End to end against real Azurite and a real MLflow sqlite store: lineage in, registered model out."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from training_builders import parquet_bytes, porto_frame, split

from storage.blobs import sha256_hex, upload_bytes
from training import IntegrityError, ManifestError, QualityGateError, TrainingConfig, run

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL = "porto-test"
LINEAGE_KEYS = ("pipeline_run_id", "manifest_sha256", "input_sha256", "train_sha256", "test_sha256")


@pytest.fixture(scope="module")
def frames():
    return split(porto_frame(5000, seed=7))


@pytest.fixture(scope="module")
def published(publish, frames):
    return publish(*frames)


@pytest.fixture(scope="module")
def trained(published, store) -> dict:
    return run(published.manifest_url, tracking_uri=store, model_name=MODEL,
               expected_manifest_sha256=published.manifest_sha256)


def expected_lineage(published) -> dict[str, str]:
    m = published.manifest
    return {"pipeline_run_id": m["pipeline_run_id"], "manifest_sha256": published.manifest_sha256,
            "input_sha256": m["input"]["sha256"], "train_sha256": m["outputs"]["train"]["sha256"],
            "test_sha256": m["outputs"]["test"]["sha256"]}


def versions_of(client: MlflowClient, name: str) -> list:
    return client.search_model_versions(f"name = '{name}'")


def test_result_shape(trained):
    assert trained["registered"] is True and trained["model_name"] == MODEL and trained["model_version"] == "1"
    assert set(trained["metrics"]) >= {"auc", "gini", "logloss", "best_iteration"}
    assert len(trained["model_sha256"]) == 64


def test_model_version_tags_equal_the_manifest_hashes(trained, published, client):
    version = client.get_model_version(MODEL, trained["model_version"])
    tags = version.tags
    for key, value in expected_lineage(published).items():
        assert tags[key] == value, key
    assert tags["model_sha256"] == trained["model_sha256"]
    assert tags["mlflow_run_id"] == trained["mlflow_run_id"]
    assert version.run_id == trained["mlflow_run_id"]


def test_run_tags_params_and_metrics(trained, published, client):
    run_ = client.get_run(trained["mlflow_run_id"])
    assert run_.info.status == "FINISHED"
    for key, value in expected_lineage(published).items():
        assert run_.data.tags[key] == value, key
    assert run_.data.tags["manifest_url"] == published.manifest_url
    assert run_.data.tags["git_commit"] == "abc1234"
    assert run_.data.tags["quality_gate"] == "passed"
    params = run_.data.params
    assert params["learning_rate"] == "0.05" and params["num_leaves"] == "31" and params["seed"] == "42"
    assert params["dataprep.split_seed"] == "0" and params["dataprep.stratify_on"] == "target"
    metrics = trained["metrics"]
    assert metrics["auc"] > 0.6
    assert metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1, abs=1e-12)
    assert 0 < metrics["logloss"] < 0.69  # better than a coin; the base-rate model is ~0.33
    assert 1 <= metrics["best_iteration"] <= TrainingConfig().num_boost_round
    for key in ("auc", "gini", "logloss", "best_iteration"):
        assert run_.data.metrics[key] == pytest.approx(metrics[key]), key


def test_dataset_inputs_carry_the_full_sha256(trained, published, client):
    inputs = client.get_run(trained["mlflow_run_id"]).inputs.dataset_inputs
    by_name = {i.dataset.name: i for i in inputs}
    assert set(by_name) == {"train", "test"}
    for name, context in (("train", "training"), ("test", "testing")):
        entry, out = by_name[name], published.manifest["outputs"][name]
        tags = {t.key: t.value for t in entry.tags}
        # MLflow caps digests at 36 characters: the digest is the sha256 prefix, the full hash is alongside.
        assert entry.dataset.digest == out["sha256"][:36]
        assert tags["sha256"] == out["sha256"]
        assert json.loads(entry.dataset.profile)["sha256"] == out["sha256"]
        assert tags["mlflow.data.context"] == context
        assert json.loads(entry.dataset.source)["url"] == out["url"]


def test_logged_artifacts_hash_to_the_recorded_values(trained, published, client, tmp_path):
    run_id = trained["mlflow_run_id"]
    manifest = Path(client.download_artifacts(run_id, "lineage/manifest.json", str(tmp_path)))
    assert sha256_hex(manifest.read_bytes()) == published.manifest_sha256
    model_dir = Path(mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(MODEL, trained["model_version"]),
        dst_path=str(tmp_path / "model"),
    ))
    model_file = next(model_dir.rglob("model.lgb"))
    assert hashlib.sha256(model_file.read_bytes()).hexdigest() == trained["model_sha256"]


def test_registered_model_scores_raw_rows(trained, frames, store):
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{trained['model_version']}")
    test = frames[1]
    scores = model.predict(test.drop(columns=["id", "target"]).head(20))
    assert len(scores) == 20 and ((scores > 0) & (scores < 1)).all()


def test_training_is_deterministic(trained, published, store):
    again = run(published.manifest_url, tracking_uri=store, model_name=MODEL)
    assert again["model_sha256"] == trained["model_sha256"]
    assert again["metrics"] == trained["metrics"]
    assert int(again["model_version"]) > int(trained["model_version"])  # a new version, same bytes


def test_tampered_train_blob_is_refused_and_nothing_recorded(publish, frames, store, client):
    train, test = frames
    published = publish(train, test)
    forged = train.copy()
    forged.loc[forged.index[:25], "target"] = 1 - forged.loc[forged.index[:25], "target"]
    forged_bytes = parquet_bytes(forged)
    upload_bytes(published.train_url, forged_bytes)
    expected = published.manifest["outputs"]["train"]["sha256"]
    with pytest.raises(IntegrityError, match=f"train blob {published.train_url}.*expected {expected}.*"
                                             f"{sha256_hex(forged_bytes)}"):
        run(published.manifest_url, tracking_uri=store, model_name="porto-tampered")
    assert versions_of(client, "porto-tampered") == []
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        f"tags.pipeline_run_id = '{published.manifest['pipeline_run_id']}'",
    )
    assert runs == []


def test_manifest_hash_mismatch_is_refused(published, store, client):
    wrong = sha256_hex(b"another manifest")
    with pytest.raises(ManifestError, match=f"expected {wrong}.*hashes to {published.manifest_sha256}"):
        run(published.manifest_url, tracking_uri=store, model_name="porto-wrong-manifest",
            expected_manifest_sha256=wrong)
    assert versions_of(client, "porto-wrong-manifest") == []


def test_auc_below_the_gate_is_not_registered(published, store, client):
    with pytest.raises(QualityGateError, match=r"test AUC 0\.\d+ .* below the gate min_auc=0\.9900"):
        run(published.manifest_url, tracking_uri=store, model_name="porto-gated",
            config=TrainingConfig(min_auc=0.99), experiment="porto-gate")
    assert versions_of(client, "porto-gated") == []
    (failed,) = client.search_runs([client.get_experiment_by_name("porto-gate").experiment_id])
    assert failed.info.status == "FAILED"
    assert failed.data.tags["quality_gate"] == "failed"
    assert "auc" in failed.data.metrics and "model_sha256" not in failed.data.tags


def test_signal_free_data_fails_the_default_gate(publish, store, client):
    published = publish(*split(porto_frame(3000, seed=11, signal=0.0)))
    with pytest.raises(QualityGateError, match="below the gate min_auc=0.5500"):
        run(published.manifest_url, tracking_uri=store, model_name="porto-noise", experiment="porto-noise")
    assert versions_of(client, "porto-noise") == []


def test_sqlite_experiment_keeps_artifacts_beside_the_database(trained, store, client):
    experiment = client.get_experiment_by_name("porto-seguro-training")
    folder = Path(store.removeprefix("sqlite:///")).parent
    assert experiment.artifact_location == (folder / "mlartifacts").as_uri()


def cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "training", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_prints_the_result_json_last(trained, published, store):
    done = cli("--manifest-url", published.manifest_url, "--manifest-sha256", published.manifest_sha256,
               "--model-name", MODEL, env_extra={"MLFLOW_TRACKING_URI": store})
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()  # LightGBM's and MLflow's chatter went to stderr
    result = json.loads(line)
    assert result["registered"] is True
    assert result["model_sha256"] == trained["model_sha256"]  # same bytes in a fresh process
    assert "training: verified train" in done.stderr


def test_cli_failure_is_one_line_and_non_zero(published, store):
    done = cli("--manifest-url", published.manifest_url, "--manifest-sha256", "0" * 64, "--tracking-uri", store)
    assert done.returncode == 1
    assert done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("training failed: manifest ") and "expected " + "0" * 64 in last


def test_cli_reads_the_config_file(published, store, tmp_path):
    config = json.loads((PROJECT_ROOT / "generated" / "azureml" / "training-config.json").read_text())
    config.update(model_name="porto-cli-config", num_boost_round=3, promotion_alias="cli-champion")
    path = tmp_path / "training-config.json"
    path.write_text(json.dumps(config))
    done = cli("--manifest-url", published.manifest_url, "--config", str(path), "--tracking-uri", store)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["model_name"] == "porto-cli-config" and result["metrics"]["best_iteration"] <= 3
    assert result["promoted"] is True and result["decision"]["alias"] == "cli-champion"


def test_cli_bad_config_is_one_line_and_non_zero(published, store, tmp_path):
    path = tmp_path / "training-config.json"
    path.write_text(json.dumps({"learning_rate": 0.1}))
    done = cli("--manifest-url", published.manifest_url, "--config", str(path), "--tracking-uri", store)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == (
        f"training failed: {path}: unknown key(s) ['learning_rate']; known keys: ['early_stopping_rounds', "
        "'experiment', 'lightgbm', 'min_auc', 'model_name', 'num_boost_round', 'num_threads', 'promotion_alias', "
        "'promotion_margin', 'seed', 'validation_fraction']")


def test_no_version_is_promoted_without_its_lineage_record(published, store, client, monkeypatch):
    from lineage.chain import Chain
    from training import TrainingError

    def refuse(self, record):
        raise PermissionError("403 AuthorizationPermissionMismatch")

    monkeypatch.setattr(Chain, "append", refuse)
    with pytest.raises(TrainingError, match=r"registered but its lineage record could not be written .*403"):
        run(published.manifest_url, tracking_uri=store, model_name="porto-unrecorded", experiment="porto-unrecorded")
    (version,) = versions_of(client, "porto-unrecorded")
    assert version.aliases == [] and "lineage_record_sha256" not in version.tags
