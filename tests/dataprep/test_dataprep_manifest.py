"""Manifest helpers and the Parquet writer: canonical bytes, id digests, code identity."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from dataprep.manifest import canonical_json, code_info, ids_sha256, table_stats
from dataprep.parquet import from_parquet_bytes, to_parquet_bytes

ROOT = Path(__file__).resolve().parents[2]


def test_canonical_json_sorts_keys_without_spaces_and_keeps_unicode():
    assert canonical_json({"b": 1, "a": {"z": [1.5, None], "é": True}}) == '{"a":{"z":[1.5,null],"é":true},"b":1}'.encode()


def test_ids_sha256_hashes_sorted_decimal_ids_joined_by_newlines():
    assert ids_sha256(np.array([30, 4, 200])) == hashlib.sha256(b"4\n30\n200").hexdigest()


def test_table_stats():
    stats = table_stats(pa.table({"id": [3, 1, 2, 4], "target": [1, 0, 0, 0]}))
    assert stats == {"rows": 4, "positive_rate": 0.25, "ids_sha256": hashlib.sha256(b"1\n2\n3\n4").hexdigest()}


def test_code_info_names_the_notebook_its_hash_git_and_packages():
    info = code_info()
    assert info["notebook"] == "notebooks/data_prepare.py"
    assert info["notebook_sha256"] == hashlib.sha256((ROOT / "notebooks/data_prepare.py").read_bytes()).hexdigest()
    assert info["git_commit"] == "unknown" or len(info["git_commit"]) == 40
    assert info["git_dirty"] in (True, False, None)
    assert set(info["packages"]) == {"pandas", "numpy", "pyarrow"} and info["packages"]["pyarrow"] == pa.__version__


def test_parquet_bytes_are_deterministic_index_free_and_typed():
    data = pa.table({"id": np.arange(300_000, dtype=np.int64), "x": np.random.default_rng(0).random(300_000)})
    chunked = pa.concat_tables([data.slice(start, 999) for start in range(0, data.num_rows, 999)])
    assert to_parquet_bytes(data) == to_parquet_bytes(chunked)  # chunk layout must not leak into the bytes
    assert from_parquet_bytes(to_parquet_bytes(data)).equals(data)
    frame = pd.read_parquet(pa.BufferReader(to_parquet_bytes(data)))
    assert frame.shape == (300_000, 2) and list(frame.columns) == ["id", "x"] and [str(t) for t in frame.dtypes] == ["int64", "float64"]
