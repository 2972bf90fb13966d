"""The synthetic generator honours the column contract, is deterministic and carries a learnable signal."""
from __future__ import annotations

import dataclasses
import importlib
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from dataprep.columns import load_columns
from synthetic import generate, write_csv
from synthetic.__main__ import main

SPECS = load_columns()
ROWS = 100_000
# Not `synthetic.generate`: the package re-exports the function under that name.
GENERATE_MODULE = importlib.import_module("synthetic.generate")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate(ROWS, seed=7)


def test_contract_has_the_59_columns():
    assert len(SPECS) == 59
    assert [spec.name for spec in SPECS[:2]] == ["id", "target"]


def test_columns_and_dtypes_follow_the_contract(frame):
    assert list(frame.columns) == [spec.name for spec in SPECS]
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {spec.name: spec.dtype for spec in SPECS}


def test_csv_round_trips_header_and_dtypes(tmp_path):
    path = tmp_path / "train.csv"
    write_csv(generate(500, seed=1), path)
    text = path.read_bytes()
    assert text.split(b"\n", 1)[0].decode() == ",".join(spec.name for spec in SPECS)
    assert b"\r" not in text and b'"' not in text
    back = pd.read_csv(path)
    assert {name: str(dtype) for name, dtype in back.dtypes.items()} == {spec.name: spec.dtype for spec in SPECS}


def test_values_stay_in_range(frame):
    for spec in SPECS:
        column = frame[spec.name]
        assert spec.min <= column.min() and column.max() <= spec.max, spec.name


def test_value_shapes_by_kind(frame):
    for spec in SPECS:
        present = frame[spec.name][frame[spec.name] != -1].to_numpy()
        if spec.kind == "bin":
            assert set(np.unique(present)) <= {0, 1}, spec.name
        elif spec.kind == "continuous(step0.1)":
            np.testing.assert_allclose(present * 10, np.round(present * 10), atol=1e-9, err_msg=spec.name)
        elif spec.kind.startswith("continuous(sqrt of int"):
            np.testing.assert_allclose(present**2, np.round(present**2), atol=1e-4, err_msg=spec.name)
        if spec.dtype == "float64":
            np.testing.assert_array_equal(present, np.round(present, 6), err_msg=spec.name)


def test_means_are_close_to_the_contract(frame):
    for spec in SPECS[2:]:  # id and target are checked elsewhere
        column = frame[spec.name]
        tolerance = 0.01 * (spec.max - spec.min) + 5 * column.std() / math.sqrt(ROWS)
        assert abs(column.mean() - spec.mean) <= tolerance, spec.name


def test_missing_rates_are_close_to_the_contract(frame):
    for spec in SPECS:
        observed = (frame[spec.name] == -1).mean()
        if not spec.has_missing:
            assert observed == 0, spec.name
            continue
        # Five binomial standard errors, plus a few rows of slack for the near-zero rates.
        tolerance = 5 * math.sqrt(spec.missing_rate * (1 - spec.missing_rate) / ROWS) + 3 / ROWS
        assert abs(observed - spec.missing_rate) <= tolerance, spec.name


def test_positive_rate(frame):
    assert abs(frame["target"].mean() - 0.036448) <= 0.003


def test_ids_are_unique_and_increasing(frame):
    ids = frame["id"].to_numpy()
    assert (np.diff(ids) > 0).all()
    assert np.diff(ids).max() > 1  # random gaps, not a plain counter


def test_ids_stay_unique_beyond_the_contract_range(monkeypatch):
    specs = [dataclasses.replace(spec, max=spec.min + 9) if spec.kind == "id" else spec for spec in SPECS]
    monkeypatch.setattr(GENERATE_MODULE, "load_columns", lambda: specs)
    ids = generate(50, seed=0)["id"].to_numpy()
    assert ids.min() >= 1 and (np.diff(ids) > 0).all()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    paths = [tmp_path / name for name in ("a.csv", "b.csv", "c.csv")]
    for path, seed in zip(paths, (5, 5, 6)):
        write_csv(generate(3_000, seed), path)
    first, again, other = (path.read_bytes() for path in paths)
    assert first == again
    assert first != other


def test_planted_signal_is_learnable():
    data = generate(20_000, seed=11)
    features = data.drop(columns=["id", "target"])
    x_train, x_test, y_train, y_test = train_test_split(
        features, data["target"], test_size=0.3, stratify=data["target"], random_state=0
    )
    model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=15, random_state=0)
    auc = roc_auc_score(y_test, model.fit(x_train, y_train).predict_proba(x_test)[:, 1])
    print(f"synthetic test AUC: {auc:.3f}")
    assert auc > 0.6


def test_calc_columns_carry_no_signal(frame):
    calc = [spec.name for spec in SPECS if spec.name.startswith("ps_calc_")]
    for name in calc:
        auc = roc_auc_score(frame["target"], frame[name])
        assert abs(auc - 0.5) < 0.03, name


def test_cli_reports_what_it_wrote(tmp_path, capsys):
    out = tmp_path / "data" / "train.csv"
    main(["--rows", "1000", "--seed", "3", "--out", str(out)])
    line = capsys.readouterr().out.strip()
    assert line.startswith("wrote 1000 rows (") and str(out) in line and "sha256=" in line
    assert len(pd.read_csv(out)) == 1000
