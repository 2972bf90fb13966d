"""Builders for small Porto Seguro CSVs: a valid frame from the TSV's ranges, and the broken variants."""
from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dataprep.columns import ColumnSpec


def valid_frame(columns: list[ColumnSpec], rows: int = 500, *, seed: int = 0, positives: float = 0.1) -> pd.DataFrame:
    """Every value inside the contract; ids unique, positive and shuffled; exactly round(rows*positives) positives."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for spec in columns:
        kind = spec.kind.partition("(")[0]
        if kind == "id":
            values = rng.choice(np.arange(1, rows * 20 + 1), size=rows, replace=False)
        elif kind == "label":
            values = np.zeros(rows, dtype=np.int64)
            values[rng.choice(rows, size=round(rows * positives), replace=False)] = 1
        elif spec.dtype == "int64":
            values = rng.integers(int(spec.min), int(spec.max) + 1, size=rows)
        else:
            values = np.floor(rng.uniform(max(spec.min, 0.0), spec.max, size=rows) * 1e4) / 1e4  # never above max
            if spec.min == -1:
                values[rng.random(rows) < 0.1] = -1.0
        data[spec.name] = values.astype(spec.dtype)
    return pd.DataFrame(data)


def to_csv(df: pd.DataFrame, **options) -> bytes:
    return df.to_csv(index=False, lineterminator="\n", **options).encode()


def set_cell(data: bytes, row: int, column: str, text: str) -> bytes:
    """Replace one cell; data row `row` (0-based) sits on line row + 2 of the file."""
    lines = data.split(b"\n")
    position = lines[0].split(b",").index(column.encode())
    fields = lines[row + 1].split(b",")
    fields[position] = text.encode()
    lines[row + 1] = b",".join(fields)
    return b"\n".join(lines)


def cell(data: bytes, row: int, column: str) -> str:
    lines = data.split(b"\n")
    return lines[row + 1].split(b",")[lines[0].split(b",").index(column.encode())].decode()


def _swap(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    names = list(df.columns)
    i, j = names.index(a), names.index(b)
    names[i], names[j] = names[j], names[i]
    return df[names]


def _latin1_on_line_4(df: pd.DataFrame) -> bytes:
    lines = to_csv(df).split(b"\n")
    lines[3] = b"\xe9" + lines[3]  # 'é' in Latin-1: not a UTF-8 sequence
    return b"\n".join(lines)


def _gzip(df: pd.DataFrame) -> bytes:
    return gzip.compress(to_csv(df), mtime=0)


def _zip(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train.csv", to_csv(df))
    return buffer.getvalue()


def _ragged_line_7(df: pd.DataFrame) -> bytes:
    lines = to_csv(df).split(b"\n")
    lines[6] += b",1"
    return b"\n".join(lines)


@dataclass(frozen=True)
class Broken:
    """A file that must be rejected and regexes its ContractViolation message must match (line, column, fix)."""

    name: str
    build: Callable[[pd.DataFrame], bytes]
    expect: tuple[str, ...]


BROKEN = [
    Broken("missing_column", lambda df: to_csv(df.drop(columns="ps_ind_03")),
           (r"line 1, column 'ps_ind_03': the header lacks this column", r"Fix: add the column")),
    Broken("extra_column", lambda df: to_csv(df.assign(extra=0)),
           (r"line 1, column 'extra': unexpected column at position 60", r"Fix: remove the column")),
    Broken("wrong_header_order", lambda df: to_csv(_swap(df, "ps_ind_01", "ps_ind_03")),
           (r"line 1, column 'ps_ind_03': the columns are out of order: position 3 holds 'ps_ind_03', "
            r"expected 'ps_ind_01'", r"Fix: reorder the columns")),
    Broken("semicolon_delimiter", lambda df: to_csv(df, sep=";"),
           (r"line 1: the header is separated by semicolons, not commas", r"Fix: export the file comma-separated")),
    Broken("gzip_compressed", _gzip,
           (r"line 1: the file is gzip-compressed .* declares compression 'none'", r"Fix: upload the uncompressed")),
    Broken("zip_compressed", _zip,
           (r"line 1: the file is zip-compressed", r"Fix: upload the uncompressed \.csv")),
    Broken("missing_target", lambda df: to_csv(df.drop(columns="target")),
           (r"column 'target': the header lacks this column .*the target is required in a training file",
            r"Fix: add the column")),
    Broken("not_utf8", _latin1_on_line_4,
           (r"line 4: byte 0xE9 is not valid UTF-8", r"Fix: save the file as UTF-8")),
    Broken("empty_file", lambda df: b"",
           (r"line 1: the file is empty", r"Fix: upload the CSV with its header line")),
    Broken("header_only", lambda df: to_csv(df.iloc[:0]),
           (r"line 2: the file has a header but no data rows", r"Fix: upload a file with at least one data row")),
    Broken("non_numeric_value", lambda df: set_cell(to_csv(df), 5, "ps_reg_01", "abc"),
           (r"line 7, column 'ps_reg_01': 'abc' is not a number", r"Fix: write a decimal number")),
    Broken("duplicate_id", lambda df: set_cell(to_csv(df), 9, "id", cell(to_csv(df), 2, "id")),
           (r"lines 4, 11, column 'id': ids are not unique", r"Fix: each row is one policy")),
    Broken("target_2", lambda df: set_cell(to_csv(df), 3, "target", "2"),
           (r"line 5, column 'target': value 2 is not one of the allowed values \[0, 1\]",
            r"Fix: write 1 for a claim and 0")),
    Broken("target_missing_code", lambda df: set_cell(to_csv(df), 3, "target", "-1"),
           (r"line 5, column 'target': target is required in a training file and never missing",)),
    Broken("category_not_in_set", lambda df: set_cell(to_csv(df), 4, "ps_ind_02_cat", "9"),
           (r"line 6, column 'ps_ind_02_cat': value 9 is not one of the allowed values \[0, 1, 2, 3, 4\]",
            r"Fix: use one of \[0, 1, 2, 3, 4\], or -1 where the value is missing")),
    Broken("ordinal_out_of_range", lambda df: set_cell(to_csv(df), 2, "ps_ind_01", "8"),
           (r"line 4, column 'ps_ind_01': value 8 is outside the allowed range \[0, 7\]",
            r"Fix: use a whole number from 0 to 7; this column is never missing")),
    Broken("ragged_row", _ragged_line_7,
           (r"line 7: the row does not have 59 fields", r"Fix: give every row exactly 59")),
]
# File-level cases reject the file whatever the row policy; the others are row-level (quarantinable).
FILE_LEVEL = {"missing_column", "extra_column", "wrong_header_order", "semicolon_delimiter", "gzip_compressed",
              "zip_compressed", "missing_target", "not_utf8", "empty_file", "header_only", "duplicate_id"}
