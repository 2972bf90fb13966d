"""The same preparation on Spark: the row-local functions of dataprep.rows and dataprep.split applied to
batches of lines with `mapInArrow`, so train/test membership is exactly the local streaming path's.

Spark reads the file as text lines; each Arrow batch of lines is parsed with the same pyarrow options as a
local chunk (dataprep.stream._parse), checked, cleaned and given its side by `in_test`. A clean file is
written by Spark and then streamed by the driver into the single train/test files the manifest pins. A file
with any bad row or repeated id goes through the local pass instead, which knows line numbers for the report
and writes the quarantine file (Spark's text reader does not keep line numbers).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dataprep.contract import check_head
from dataprep.contract_spec import DataContract
from dataprep.outputs import OutputWriter
from dataprep.rows import bad_row_mask, clean, output_schema, row_findings, typed_from_text
from dataprep.split import in_test_by_class
from dataprep.stream import Prepared, Side, _parse, file_cutoffs, prepare_stream

HEAD_BYTES = 1 << 20
SIDE, BAD = "_test", "_bad"


def transform_lines(lines: list[str], contract: DataContract, seed: int, cutoffs: dict) -> pa.RecordBatch:
    """Data lines (no header) -> cleaned rows plus `_test` (side) and `_bad` (breaks a row rule). A row with the
    wrong field count comes out as one all-null `_bad` row, so the caller can count it."""
    chunk = "\n".join(lines).encode("utf-8")
    table, ragged = _parse(chunk, contract, typed=True)
    findings = []
    if table is None:
        text, ragged = _parse(chunk, contract, typed=False)
        table, findings = typed_from_text(text, contract)
    findings += row_findings(table, contract)
    bad = bad_row_mask(table.num_rows, findings)
    ids = np.nan_to_num(table.column(contract.id_column).to_numpy(zero_copy_only=False)).astype(np.int64)
    labels = np.nan_to_num(table.column(contract.target_column).to_numpy(zero_copy_only=False)).astype(np.int64)
    side = in_test_by_class(ids, labels, seed, cutoffs)
    cleaned = clean(table, contract)
    out = cleaned.append_column(SIDE, pa.array(side)).append_column(BAD, pa.array(bad))
    if ragged:
        nulls = {name: pa.nulls(len(ragged), t) for name, t in zip(out.schema.names, out.schema.types)}
        nulls[SIDE], nulls[BAD] = pa.array([False] * len(ragged)), pa.array([True] * len(ragged))
        out = pa.concat_tables([out, pa.table(nulls, schema=out.schema)])
    return out.combine_chunks().to_batches()[0] if out.num_rows else pa.RecordBatch.from_pylist([], schema=out.schema)


def _spark_uri(path: Path) -> str:
    text = str(path.resolve())
    # Databricks: files under the /dbfs FUSE mount are dbfs:/ paths for the executors.
    return "dbfs:" + text[len("/dbfs"):] if text.startswith("/dbfs/") else "file://" + text


def prepare_with_spark(spark, local_input: Path, contract: DataContract, *, seed: int, test_fraction: float,
                       out_dir: Path, source_name: str = "input") -> Prepared:
    """Same contract as dataprep.stream.prepare_stream; `local_input` must be readable by the executors
    (local mode, or a path under /dbfs on Databricks)."""
    from pyspark.sql import functions as F

    with open(local_input, "rb") as f:
        head = f.read(HEAD_BYTES)
    offset, _ = check_head(head, contract, source=source_name)  # file-level checks: compression, header, ...
    header = head[:offset].decode("utf-8-sig").rstrip("\r\n")
    with open(local_input, "rb") as f:  # per-class cutoffs: computed once on the driver, shipped to the tasks
        cutoffs = file_cutoffs(f, contract, seed=seed, test_fraction=test_fraction)
    schema = output_schema(contract).append(pa.field(SIDE, pa.bool_())).append(pa.field(BAD, pa.bool_()))

    def apply(batches):
        for batch in batches:
            values = batch.column(0).to_pylist()
            if values:
                yield transform_lines(values, contract, seed, cutoffs)

    lines = spark.read.text(_spark_uri(local_input)).withColumnRenamed("value", "line")
    lines = lines.filter((F.trim("line") != "") & (F.col("line") != header))
    # The text reader keeps '\r' of CRLF files: strip it like pyarrow does.
    lines = lines.select(F.regexp_replace("line", "\r$", "").alias("line"))
    spark_dir = out_dir / "_spark"
    result = lines.mapInArrow(apply, _spark_schema(schema))
    result.write.mode("overwrite").partitionBy(SIDE).parquet(_spark_uri(spark_dir))
    bad = spark.read.parquet(_spark_uri(spark_dir)).filter(F.col(BAD)).limit(1).count()
    duplicated = (spark.read.parquet(_spark_uri(spark_dir)).groupBy(contract.id_column).count()
                  .filter(F.col("count") > 1).limit(1).count())
    if bad or duplicated or not spark.read.parquet(_spark_uri(spark_dir)).limit(1).count():
        shutil.rmtree(spark_dir, ignore_errors=True)
        with open(local_input, "rb") as source:  # exact line numbers, the quarantine file, the same split
            return prepare_stream(source, contract, seed=seed, test_fraction=test_fraction, out_dir=out_dir,
                                  source_name=source_name)
    try:
        return _collect(spark_dir, local_input, contract, out_dir)
    finally:
        shutil.rmtree(spark_dir, ignore_errors=True)


def _spark_schema(schema: pa.Schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _collect(spark_dir: Path, local_input: Path, contract: DataContract, out_dir: Path) -> Prepared:
    """Stream Spark's part files into the two single output files, in a fixed part order."""
    from dataprep.job import file_sha256

    schema = output_schema(contract)
    sides: dict[str, tuple[Side, list[np.ndarray]]] = {}
    paths = {}
    for side, flag in (("train", "false"), ("test", "true")):
        path = out_dir / f"{side}.{contract.output_format}"
        paths[side] = path
        writer = OutputWriter(path, contract.output_format, schema)
        stats, ids = Side(), []
        for part in sorted((spark_dir / f"{SIDE}={flag}").glob("*.parquet")):
            for batch in pq.ParquetFile(part).iter_batches(columns=schema.names):
                table = pa.Table.from_batches([batch]).cast(schema)
                writer.write(table)
                stats.rows += table.num_rows
                stats.positives += int(np.sum(table.column(contract.target_column).to_numpy()))
                ids.append(table.column(contract.id_column).to_numpy())
        writer.close()
        sides[side] = (stats, ids)
    train, test = ({**s.as_dict(np.concatenate(i) if i else np.empty(0, np.int64))} for s, i in
                   (sides["train"], sides["test"]))
    accepted = train["rows"] + test["rows"]
    positives = sides["train"][0].positives + sides["test"][0].positives
    return Prepared(sha256=file_sha256(local_input), bytes=local_input.stat().st_size, rows=accepted,
                    accepted=accepted, quarantined=0, columns=contract.output_names(), train=train, test=test,
                    train_path=paths["train"], test_path=paths["test"], quarantine_path=None,
                    input_positive_rate=positives / accepted if accepted else 0.0)
