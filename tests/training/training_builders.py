"""Builders for the training tests: a compact Porto Seguro-shaped frame, its parquet bytes and a data-prep manifest."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from storage.blobs import sha256_hex

SPEC = Path(__file__).resolve().parents[2] / "spec" / "porto_seguro_columns.tsv"
REAL_ROWS = 595_212
ARCHIVE, PREPARED = "archive", "prepared"


def spec_columns() -> list[tuple[str, str, str, float, float, float, int]]:
    """(name, dtype, kind, min, max, mean, missing count) per column, in file order."""
    rows = []
    for line in SPEC.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, dtype, kind, lo, hi, mean, missing = line.split("\t")
        rows.append((name, dtype, kind, float(lo), float(hi), float(mean), int(missing)))
    return rows


def porto_frame(rows: int = 5000, *, seed: int = 7, signal: float = 1.0, positive_rate: float = 0.10) -> pd.DataFrame:
    """59 columns shaped like train.csv (-1 = missing); the label depends on three features times ``signal``."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for name, dtype, kind, lo, hi, mean, missing in spec_columns():
        if kind == "id":
            values = np.arange(rows, dtype="int64") * 3 + 7
        elif kind == "label":
            values = np.zeros(rows, dtype="int64")  # planted below
        elif kind == "bin":
            values = (rng.random(rows) < mean).astype("int64")
        elif kind in ("cat", "ordinal"):
            values = rng.integers(max(lo, 0), hi + 1, rows)
        elif "step0.1" in kind:
            values = rng.integers(0, round(hi * 10) + 1, rows) / 10
        else:
            values = rng.uniform(max(lo, 0.0), hi, rows)
        if missing and kind not in ("id", "label"):
            values = np.where(rng.random(rows) < max(missing / REAL_ROWS, 0.01), -1, values)
        data[name] = values.astype(dtype)
    frame = pd.DataFrame(data)
    z = lambda c: (frame[c] - frame[c].mean()) / frame[c].std()  # noqa: E731
    score = signal * (1.2 * z("ps_car_13") + 0.8 * z("ps_ind_03") + 0.9 * frame["ps_ind_17_bin"]
                      + 0.7 * (frame["ps_ind_05_cat"] > 0))
    lo, hi = -10.0, 10.0  # intercept giving the wanted positive rate, by bisection
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (1 / (1 + np.exp(-(score + mid)))).mean() < positive_rate else (lo, mid)
    frame["target"] = (rng.random(rows) < 1 / (1 + np.exp(-(score + lo)))).astype("int64")
    return frame


def split(frame: pd.DataFrame, test_fraction: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = train_test_split(frame, test_size=test_fraction, random_state=0, stratify=frame["target"])
    return train.reset_index(drop=True), test.reset_index(drop=True)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@dataclass(frozen=True)
class Published:
    manifest_url: str
    manifest_sha256: str
    manifest: dict
    train_url: str
    test_url: str


def manifest_for(run_id: str, account: str, train: pd.DataFrame, test: pd.DataFrame,
                 train_bytes: bytes, test_bytes: bytes) -> dict:
    def output(frame: pd.DataFrame, data: bytes, name: str) -> dict:
        return {"url": f"{account}/{PREPARED}/{run_id}/{name}.parquet", "sha256": sha256_hex(data),
                "bytes": len(data), "rows": len(frame), "positive_rate": float(frame["target"].mean()),
                "ids_sha256": sha256_hex(",".join(map(str, sorted(frame["id"]))).encode())}

    raw = f"synthetic input for {run_id}".encode()
    return {
        "manifest_version": 1, "pipeline_run_id": run_id, "created_at": "2026-01-01T00:00:00Z",
        "input": {"url": f"{account}/landing/train.csv", "archived_url": f"{account}/{ARCHIVE}/{run_id}/train.csv",
                  "sha256": sha256_hex(raw), "bytes": len(raw), "rows": len(train) + len(test),
                  "positive_rate": 0.1, "columns": list(train.columns)},
        "outputs": {"train": output(train, train_bytes, "train"), "test": output(test, test_bytes, "test")},
        "parameters": {"test_fraction": 0.2, "split_seed": 0, "stratify_on": "target", "output_format": "parquet"},
        "code": {"notebook": "notebooks/prepare_data.py", "notebook_sha256": "0" * 64,
                 "git_commit": "abc1234", "git_dirty": False, "packages": {"pandas": pd.__version__}},
    }
