"""Arrow table <-> Parquet bytes with fixed writer options, so the same table always gives the same bytes."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

# Pinned rather than left to library defaults, which may change between pyarrow releases.
WRITE_OPTIONS = {"compression": "snappy", "version": "2.6", "row_group_size": 1 << 20, "write_statistics": True}


def to_parquet_bytes(table: pa.Table) -> bytes:
    """Parquet without a pandas index column (the table has none) and without per-write metadata.

    Chunks are merged first: page boundaries follow the chunk layout, which depends on how the CSV was read.
    """
    sink = pa.BufferOutputStream()
    pq.write_table(table.combine_chunks().replace_schema_metadata(None), sink, **WRITE_OPTIONS)
    return sink.getvalue().to_pybytes()


def from_parquet_bytes(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))
