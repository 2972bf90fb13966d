"""`make train` / `make evaluate`: local development on a CSV, with data-prep's contract check and split."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import mlflow.lightgbm
import pyarrow.csv as pacsv
import pytest

from dataprep.split import split_table
from synthetic import generate, write_csv
from training import DataError, TrainingConfig
from training.dev import evaluate_csv, pipeline_split_parameters, split_csv, train_csv

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FAST = TrainingConfig(num_boost_round=30)


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dev") / "sample.csv"
    write_csv(generate(3000, 4), path)
    return path


@pytest.fixture(scope="module")
def trained(csv, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("models") / "dev-model"
    return train_csv(csv, FAST, test_fraction=0.2, seed=7, out=out)


def test_the_split_is_data_preps(csv):
    frames = split_csv(csv, test_fraction=0.2, seed=7)
    train, test = split_table(pacsv.read_csv(csv), test_fraction=0.2, seed=7)
    assert frames.train["id"].tolist() == train.column("id").to_pylist()
    assert frames.test["id"].tolist() == test.column("id").to_pylist()


def test_the_split_defaults_are_the_pipelines():
    from generator.spec import load_spec

    prepare = load_spec().data["pipeline"]["prepare"]
    assert pipeline_split_parameters() == (float(prepare["test_fraction"]), int(prepare["split_seed"]))
    assert pipeline_split_parameters(Path("/nonexistent/factory.yaml")) == (0.2, 0)


def test_train_reports_test_metrics_and_saves_a_model(trained):
    m = trained["metrics"]
    assert m["auc"] > 0.55 and m["gini"] == pytest.approx(2 * m["auc"] - 1)
    assert m["test_rows"] + trained["train_rows"] == 3000 and 450 < m["test_rows"] < 750
    assert Path(trained["model_dir"], "MLmodel").is_file()


def test_evaluate_the_saved_model_on_the_test_rows_gives_the_same_auc(trained, csv):
    result = evaluate_csv(trained["model_dir"], csv, rows="test", test_fraction=0.2, seed=7, tracking_uri=None)
    assert result["auc"] == pytest.approx(trained["metrics"]["auc"], abs=1e-12)
    assert result["row_count"] == trained["metrics"]["test_rows"]
    every = evaluate_csv(trained["model_dir"], csv, rows="all", test_fraction=0.2, seed=7, tracking_uri=None)
    assert every["row_count"] == 3000


def test_evaluate_a_registered_alias(trained, csv, tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    version = mlflow.register_model(f"file://{trained['model_dir']}", "dev-eval")
    mlflow.MlflowClient(store, store).set_registered_model_alias("dev-eval", "production", version.version)
    result = evaluate_csv("models:/dev-eval@production", csv, rows="test", test_fraction=0.2, seed=7,
                          tracking_uri=store)
    assert result["auc"] == pytest.approx(trained["metrics"]["auc"], abs=1e-12)


def test_a_csv_that_cannot_be_read_or_has_no_label_is_refused_with_the_file(tmp_path, csv):
    header, rest = csv.read_bytes().split(b"\n", 1)
    ragged = tmp_path / "ragged.csv"
    ragged.write_bytes(header.replace(b",ps_car_13", b"", 1) + b"\n" + rest)
    with pytest.raises(DataError, match=rf"^{ragged}: cannot read or split the CSV .*columns"):
        split_csv(ragged, test_fraction=0.2, seed=7)
    unlabeled = tmp_path / "unlabeled.csv"
    write_csv(generate(200, 1).drop(columns=["target"]), unlabeled)
    with pytest.raises(DataError, match=r"missing column\(s\) \['target'\]"):
        split_csv(unlabeled, test_fraction=0.2, seed=7)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "training.dev", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


def test_cli_train_then_evaluate(csv, tmp_path):
    out = tmp_path / "model"
    done = cli("train", "--csv", str(csv), "--out", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "test AUC" in done.stderr and "normalized Gini" in done.stderr
    assert result["model_dir"] == str(out)
    done = cli("evaluate", "--model-uri", str(out), "--csv", str(csv))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["auc"] == pytest.approx(result["metrics"]["auc"], abs=1e-12)
    assert f"AUC {result['metrics']['auc']:.4f}, normalized Gini" in done.stderr


def test_cli_failure_is_one_line(tmp_path):
    done = cli("evaluate", "--model-uri", "models:/nope@production", "--csv", str(tmp_path / "missing.csv"))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].startswith(f"evaluate failed: {tmp_path / 'missing.csv'}: cannot read")
