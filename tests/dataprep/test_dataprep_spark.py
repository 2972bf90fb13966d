"""The Spark path on a real local SparkSession: the same functions through mapInArrow give exactly the local
streaming pass's train/test membership, cleaning and stats; a file with bad rows gets the local pass's report.

One session for the module (Spark takes ~10 s to start); loopback only."""
from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataprep.errors import ContractViolation
from dataprep.spark import transform_lines
from dataprep.split import in_test, quota
from dataprep.stream import prepare_stream
from dataprep_builders import set_cell, to_csv, valid_frame

pyspark = pytest.importorskip("pyspark")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spark():
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # The Python workers import dataprep: they inherit the driver's environment in local mode.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("dataprep-test")
               .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "700")  # several batches per partition
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def both(spark, data: bytes, contract, tmp_path):
    from dataprep.spark import prepare_with_spark

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "input.csv"
    path.write_bytes(data)
    with open(path, "rb") as f:
        local = prepare_stream(f, contract, seed=11, test_fraction=0.2, out_dir=tmp_path / "local")
    on_spark = prepare_with_spark(spark, path, contract, seed=11, test_fraction=0.2, out_dir=tmp_path / "spark")
    return local, on_spark


def rows_by_id(path: Path) -> pa.Table:
    table = pq.read_table(path)
    return table.sort_by("id")


def test_spark_gives_exactly_the_local_split(spark, contract, columns, tmp_path):
    df = valid_frame(columns, 3000, seed=5)
    local, on_spark = both(spark, to_csv(df), replace(contract, split_method="quota"), tmp_path)
    assert on_spark.train == local.train and on_spark.test == local.test  # rows, positive rate, ids digest
    assert on_spark.sha256 == local.sha256 and on_spark.accepted == 3000
    for side in ("train_path", "test_path"):
        assert rows_by_id(getattr(on_spark, side)).equals(rows_by_id(getattr(local, side)))
    test = pq.read_table(on_spark.test_path).to_pandas()
    for label, count in df["target"].value_counts().items():  # split.method quota: exact per-class quotas
        assert (test["target"] == label).sum() == quota(count, 0.2)


def test_spark_gives_exactly_the_local_split_with_the_fixed_hash_cutoff(spark, contract, columns, tmp_path):
    df = valid_frame(columns, 2000, seed=8)
    local, on_spark = both(spark, to_csv(df), replace(contract, split_method="hash"), tmp_path)
    assert on_spark.test == local.test
    test_ids = set(pq.read_table(on_spark.test_path).column("id").to_pylist())
    assert test_ids == set(df["id"][in_test(df["id"].to_numpy(), 11, 0.2)])


def test_spark_applies_the_same_cleaning(spark, contract, columns, tmp_path):
    cleaned = replace(contract, drop_columns=("ps_calc_*",), missing_to_null=("ps_*_cat",))
    local, on_spark = both(spark, to_csv(valid_frame(columns, 1500, seed=6)), cleaned, tmp_path)
    assert on_spark.columns == local.columns == cleaned.output_names()
    assert rows_by_id(on_spark.train_path).equals(rows_by_id(local.train_path))


def test_a_file_with_bad_rows_gets_the_local_report_and_quarantine(spark, contract, columns, tmp_path):
    data = set_cell(to_csv(valid_frame(columns, 1000, seed=7)), 500, "ps_ind_01", "42")
    local, on_spark = both(spark, data, replace(contract, max_quarantined_share=0.01), tmp_path)
    assert on_spark.quarantined == local.quarantined == 1 and on_spark.test == local.test
    assert on_spark.quarantine_path.read_text() == local.quarantine_path.read_text()
    with pytest.raises(ContractViolation, match=r"line 502, column 'ps_ind_01': value 42 is outside"):
        both(spark, data, replace(contract, policy="reject"), tmp_path / "strict")


def test_transform_lines_marks_bad_and_ragged_rows(contract, columns):
    lines = to_csv(valid_frame(columns, 5)).decode().splitlines()[1:]
    lines[1] = lines[1].replace(",", ",x,", 1)
    batch = transform_lines(lines, contract, 0, {0: 2**63, 1: 2**63})
    assert batch.num_rows == 5 and batch.column("_bad").to_pylist() == [False, False, False, False, True]
