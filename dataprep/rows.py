"""Row-local contract checks and cleaning on Arrow record batches.

Everything here looks at one row at a time (vectorised over a batch), so the local streaming path and Spark's
`mapInArrow` run exactly these functions; only id uniqueness needs the whole file and lives in the callers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dataprep.contract_spec import Column, DataContract

ARROW_TYPES = {"int64": pa.int64(), "float64": pa.float64()}
# What a cell must look like to be parsed: Arrow's own int/float grammar, anchored.
_INT_TEXT = r"^-?[0-9]{1,18}$"
_FLOAT_TEXT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
INT_FIX = "write a whole number such as 0, 3 or -1 (missing values are coded as -1, never left empty)"
FLOAT_FIX = "write a decimal number with '.' as the decimal point, such as 0.7 (missing values are coded as -1)"


@dataclass(frozen=True)
class Finding:
    """Rows of a batch that break one rule of one column: `rows` are batch row indices."""

    rows: np.ndarray
    column: str
    rule: str  # type, range, values, missing, finite, id, label, field_count, duplicate_id
    what: str  # about the first of the rows
    fix: str
    cells: tuple[str, ...] | None = None  # the cells as written, when they did not parse

    def values(self, batch: pa.RecordBatch | pa.Table) -> list[str]:
        if self.cells is not None:
            return list(self.cells)
        if self.column not in batch.schema.names:
            return [""] * self.rows.size
        return [_text(v) for v in batch.column(self.column).take(pa.array(self.rows)).to_pylist()]


def arrow_schema(contract: DataContract, *, text: bool = False) -> pa.Schema:
    return pa.schema([(c.name, pa.string() if text else ARROW_TYPES[c.type]) for c in contract.columns])


def typed_from_text(batch: pa.RecordBatch, contract: DataContract) -> tuple[pa.RecordBatch, list[Finding]]:
    """Cells as text -> the contract's types; a cell that does not parse becomes null and a `type` finding."""
    arrays, findings = [], []
    for column in contract.columns:
        text = batch.column(column.name)
        is_int = column.type == "int64"
        parses = pc.fill_null(pc.match_substring_regex(text, _INT_TEXT if is_int else _FLOAT_TEXT), False)
        bad = _rows(pc.invert(parses))
        if bad.size:
            cell = text[int(bad[0])].as_py()
            what = "the value is empty" if not cell else f"'{cell}' is not {'an integer' if is_int else 'a number'}"
            cells = tuple(text.take(pa.array(bad)).to_pylist())
            findings.append(Finding(bad, column.name, "type", what, INT_FIX if is_int else FLOAT_FIX, cells))
        arrays.append(pc.cast(pc.if_else(parses, text, pa.scalar(None, pa.string())), ARROW_TYPES[column.type]))
    return _like(batch, arrays, arrow_schema(contract)), findings


def row_findings(batch: pa.RecordBatch, contract: DataContract) -> list[Finding]:
    """Every row-level rule of every column; nulls (cells already reported as unparsable) are skipped."""
    findings = []
    for column in contract.columns:
        findings += _column_findings(batch.column(column.name), column, contract)
    return findings


def bad_row_mask(num_rows: int, findings: list[Finding]) -> np.ndarray:
    mask = np.zeros(num_rows, dtype=bool)
    for finding in findings:
        mask[finding.rows] = True
    return mask


def clean(batch: pa.RecordBatch, contract: DataContract) -> pa.RecordBatch:
    """The spec's cleaning: missing code -> null in the declared columns, declared columns dropped."""
    nulled, names = set(contract.nulled()), contract.output_names()
    arrays = []
    for name in names:
        array = batch.column(name)
        if name in nulled:
            array = pc.if_else(pc.equal(array, contract.missing_code), pa.scalar(None, array.type), array)
        arrays.append(array)
    return _like(batch, arrays, output_schema(contract))


def output_schema(contract: DataContract) -> pa.Schema:
    return pa.schema([(c.name, ARROW_TYPES[c.type]) for c in contract.columns if c.name in contract.output_names()])


def _like(batch, arrays: list, schema: pa.Schema):
    """A Table in, a Table out (local path); a RecordBatch in, a RecordBatch out (Spark's mapInArrow)."""
    cls = pa.Table if isinstance(batch, pa.Table) else pa.RecordBatch
    return cls.from_arrays(arrays, schema=schema)


def _rows(mask) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _text(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _clearly_valid(values, column: Column, code: int) -> bool:
    """One min/max pass that proves the whole column valid, so the usual clean chunk skips the per-rule kernels.
    Only a decisive case returns True; anything else goes through the rules, which find and explain."""
    if values.null_count:
        return False
    bounds = pc.min_max(values).as_py()
    low, high = bounds["min"], bounds["max"]
    if low is None:
        return True
    if column.type == "float64" and (pc.any(pc.is_nan(values)).as_py() or not np.isfinite([low, high]).all()):
        return False
    if column.values is not None:
        allowed = sorted(column.values)
        if allowed != list(range(allowed[0], allowed[-1] + 1)):
            return False  # not a contiguous set: min/max prove nothing
        floor_, ceiling = allowed[0], allowed[-1]
    else:
        floor_ = column.min if column.min is not None else -np.inf
        ceiling = column.max if column.max is not None else np.inf
    if high > ceiling:
        return False
    if low >= floor_ and (code < floor_ or code > ceiling or column.missing or low > code):
        return True  # every value inside the allowed range (and the missing code, if in range, is allowed)
    # Integers: the missing code just below the allowed range, and allowed.
    return column.type == "int64" and column.missing and low == code and floor_ <= code + 1


def _column_findings(values: pa.Array, column: Column, contract: DataContract) -> list[Finding]:
    code = contract.missing_code
    if _clearly_valid(values, column, code):
        return []
    findings = []
    if column.type == "float64":
        bad = _rows(pc.invert(pc.is_finite(values)))
        if bad.size:
            findings.append(Finding(bad, column.name, "finite", f"value {values[int(bad[0])].as_py()} is not a finite "
                                    "number", f"write a decimal number; code missing values as {code}, never NaN or inf"))
            values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, values.type))
    missing = pc.equal(values, code)
    if not column.missing:
        bad = _rows(missing)
        if bad.size:
            what = ("target is required in a training file and never missing" if column.kind == "label"
                    else f"{code} (missing) is not allowed in this column")
            findings.append(Finding(bad, column.name, "missing", what, _fix(column, code)))
    present = pc.if_else(missing, pa.scalar(None, values.type), values)  # the missing code is not a value
    if column.values is not None:
        bad = _rows(pc.and_(pc.is_valid(present), pc.invert(pc.is_in(present, value_set=pa.array(column.values, values.type)))))
        if bad.size:
            findings.append(Finding(bad, column.name, "values", f"value {_text(present[int(bad[0])].as_py())} is not one of "
                                    f"the allowed values {list(column.values)}", _fix(column, code)))
    low, high = column.min, column.max
    if low is not None or high is not None:
        outside = pc.or_(pc.less(present, low) if low is not None else pa.scalar(False),
                         pc.greater(present, high) if high is not None else pa.scalar(False))
        bad = _rows(outside)
        if bad.size:
            shown = f"[{_bound(low)}, {_bound(high)}]"
            findings.append(Finding(bad, column.name, "range", f"value {_text(present[int(bad[0])].as_py())} is outside "
                                    f"the allowed range {shown}", _fix(column, code)))
    return findings


def _bound(value) -> str:
    return "..." if value is None else _text(float(value))


def _fix(column: Column, code: int) -> str:
    if column.kind == "label":
        return "write 1 for a claim and 0 for none; drop rows whose outcome is unknown"
    if column.kind == "id":
        return "give every row a positive policy id"
    allowed = (f"one of {list(column.values)}" if column.values is not None
               else f"a {'whole ' if column.type == 'int64' else ''}number from {_bound(column.min)} to {_bound(column.max)}")
    missing = f", or {code} where the value is missing" if column.missing else f"; this column is never missing, so {code} is not allowed"
    return f"use {allowed}{missing}"
