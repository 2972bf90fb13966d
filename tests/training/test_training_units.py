"""The pure parts: manifest checks, frame checks, gate direction, config, sqlite artifact location."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from training_builders import porto_frame, split

from storage.blobs import sha256_hex
from training import DataError, IntegrityError, ManifestError, QualityGateError, TrainingConfig
from training.evaluate import Metrics, check_gate, normalized_gini, passes_gate
from training.features import categorical_columns, check_same_features, feature_columns, split_xy, validate_frame
from training.manifest import check_manifest_hash, parse_manifest, verify_sha256
from training.register import artifact_location_for
from training.train import train_model

URL = "http://127.0.0.1:1/devstoreaccount1/archive/runs/r1/manifest.json"
SHA_A, SHA_B, SHA_C = (sha256_hex(x) for x in (b"a", b"b", b"c"))


def manifest_doc(**changes) -> dict:
    doc = {
        "manifest_version": 1, "pipeline_run_id": "r1", "created_at": "2026-01-01T00:00:00Z",
        "input": {"url": "u", "archived_url": "a", "sha256": SHA_A, "bytes": 1, "rows": 10},
        "outputs": {"train": {"url": "t", "sha256": SHA_B, "rows": 8, "positive_rate": 0.1},
                    "test": {"url": "s", "sha256": SHA_C, "rows": 2, "positive_rate": 0.5}},
        "parameters": {"split_seed": 0}, "code": {"git_commit": "abc"},
    }
    for path, value in changes.items():
        node, keys = doc, path.split("__")
        for key in keys[:-1]:
            node = node[key]
        if value is None:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return doc


def parse(doc: dict):
    return parse_manifest(URL, json.dumps(doc).encode())


def test_parse_manifest_reads_the_lineage():
    data = json.dumps(manifest_doc()).encode()
    m = parse_manifest(URL, data)
    assert (m.sha256, m.pipeline_run_id, m.input_sha256) == (sha256_hex(data), "r1", SHA_A)
    assert (m.train.url, m.train.sha256, m.train.rows, m.test.sha256) == ("t", SHA_B, 8, SHA_C)
    assert m.git_commit == "abc" and m.raw == data


@pytest.mark.parametrize(("changes", "message"), [
    ({"outputs__train__sha256": None}, "missing required key 'outputs.train.sha256'"),
    ({"outputs__test__sha256": "abc"}, "outputs.test.sha256 is not a hex sha256"),
    ({"outputs__train__rows": "8"}, "'outputs.train.rows' should be int, found str"),
    ({"manifest_version": 2}, "manifest_version 2 is not supported"),
    ({"pipeline_run_id": ""}, "'pipeline_run_id' is empty"),
    ({"input__sha256": None}, "missing required key 'input.sha256'"),
])
def test_parse_manifest_names_the_bad_key(changes, message):
    with pytest.raises(ManifestError, match=f"^manifest {re.escape(URL)}: .*{re.escape(message)}"):
        parse(manifest_doc(**changes))


def test_parse_manifest_refuses_non_json():
    with pytest.raises(ManifestError, match="not valid JSON"):
        parse_manifest(URL, b"\xff{")


def test_manifest_hash_pinning():
    assert check_manifest_hash(URL, b"x", None) == sha256_hex(b"x")
    assert check_manifest_hash(URL, b"x", sha256_hex(b"x").upper()) == sha256_hex(b"x")
    with pytest.raises(ManifestError, match=f"expected {SHA_A} .* hashes to {sha256_hex(b'x')}"):
        check_manifest_hash(URL, b"x", SHA_A)


def test_verify_sha256_names_blob_expected_and_actual():
    assert verify_sha256("train blob t", b"b", SHA_B) == SHA_B
    with pytest.raises(IntegrityError, match=f"^train blob t: sha256 mismatch, expected {SHA_A} .* {SHA_B};"):
        verify_sha256("train blob t", b"b", SHA_A)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return porto_frame(600, seed=3)


def test_features_exclude_id_and_target_and_mark_cat_columns(frame):
    names = feature_columns(frame)
    assert len(names) == 57 and "id" not in names and "target" not in names
    assert categorical_columns(names) == [c for c in names if c.endswith("_cat")] and len(categorical_columns(names)) == 14
    x, y = split_xy(frame)
    assert list(x.columns) == names and y.dtype == "int64"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda f: f.drop(columns=["target"]), r"missing column\(s\) \['target'\]"),
    (lambda f: f.assign(target=2), r"must be 0/1, found values \[2\]"),
    (lambda f: f.assign(target=0), "single class"),
    (lambda f: f.assign(ps_car_01_cat=f["ps_car_01_cat"] + 0.5), "categorical columns must hold integer codes"),
    (lambda f: f.assign(ps_reg_01="x"), r"not numeric: \['ps_reg_01'\]"),
])
def test_validate_frame_rejects_bad_shapes(frame, mutate, message):
    with pytest.raises(DataError, match=message):
        validate_frame(mutate(frame.copy()), name="train blob t")


def test_validate_frame_checks_the_manifest_row_count(frame):
    validate_frame(frame, name="t", expected_rows=len(frame))
    with pytest.raises(DataError, match=f"manifest says 5 rows, the file has {len(frame)}"):
        validate_frame(frame, name="t", expected_rows=5)


def test_train_and_test_features_must_match(frame):
    with pytest.raises(DataError, match=r"only in train \['ps_calc_20_bin'\]"):
        check_same_features(frame, frame.drop(columns=["ps_calc_20_bin"]))


def test_gate_higher_auc_is_better():
    assert passes_gate(0.70, 0.55) and passes_gate(0.55, 0.55)
    assert not passes_gate(0.50, 0.55)
    good = Metrics(auc=0.7, gini=0.4, logloss=0.3, best_iteration=10, test_rows=10, test_positive_rate=0.1)
    check_gate(good, 0.55)
    with pytest.raises(QualityGateError, match=r"test AUC 0\.7000 \(gini 0\.4000\) is below the gate min_auc=0\.8000"):
        check_gate(good, 0.8)


def test_normalized_gini():
    assert normalized_gini(0.5) == 0.0 and normalized_gini(1.0) == 1.0 and normalized_gini(0.64) == pytest.approx(0.28)


def test_config_defaults_and_validation():
    config = TrainingConfig()
    params = config.lightgbm_params()
    assert params == {"objective": "binary", "metric": "auc", "learning_rate": 0.05, "num_leaves": 31, "seed": 42,
                      "deterministic": True, "force_row_wise": True, "num_threads": 2, "verbose": -1}
    assert (config.num_boost_round, config.early_stopping_rounds, config.min_auc) == (400, 50, 0.55)
    with pytest.raises(ValueError, match="validation_fraction"):
        TrainingConfig(validation_fraction=1.0)
    with pytest.raises(AttributeError):
        config.seed = 1  # frozen


def test_training_ignores_the_test_split_and_is_repeatable(frame):
    x, y = split_xy(split(frame)[0])
    first, second = train_model(x, y, TrainingConfig()), train_model(x, y, TrainingConfig())
    assert first.model_sha256 == second.model_sha256 and first.best_iteration == second.best_iteration
    other_seed = train_model(x, y, TrainingConfig(seed=43))
    assert other_seed.model_sha256 != first.model_sha256


@pytest.mark.parametrize(("uri", "expected"), [
    ("sqlite:////srv/ml/mlflow.db", "file:///srv/ml/mlartifacts"),
    ("http://mlflow:5000", None),
    ("azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/x", None),
])
def test_artifact_location_beside_the_sqlite_file(uri, expected):
    assert artifact_location_for(uri) == expected


def test_artifact_location_for_a_relative_sqlite_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert artifact_location_for("sqlite:///runtime/mlflow.db") == (tmp_path / "runtime" / "mlartifacts").as_uri()
