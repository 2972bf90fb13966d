"""Streaming writers for the prepared outputs: Parquet (default) or CSV, one row group per written batch."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dataprep.parquet import WRITE_OPTIONS


class OutputWriter:
    """Append tables of one schema to `path`; close() is idempotent and always leaves a readable file."""

    def __init__(self, path: Path, output_format: str, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        if output_format == "parquet":
            options = {k: v for k, v in WRITE_OPTIONS.items() if k != "row_group_size"}
            self._writer = pq.ParquetWriter(str(path), schema, **options)
        else:
            self._writer = pacsv.CSVWriter(str(path), schema, write_options=pacsv.WriteOptions(
                quoting_style="none", quoting_header="none"))
        self._closed = False

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        if table.num_rows:
            if isinstance(table, pa.RecordBatch):
                table = pa.Table.from_batches([table])
            self._writer.write_table(table.cast(self.schema) if table.schema != self.schema else table)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
