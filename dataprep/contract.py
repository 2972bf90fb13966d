"""Check a CSV's bytes against the 59-column Porto Seguro contract and return it as a typed Arrow table.

The happy path is one typed pyarrow.csv read plus vectorised checks. Only when something is wrong do we pay
for a per-line scan, to turn row indices into line numbers a person can open the file at.
"""
from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dataprep.errors import ContractViolation, Problem
from dataprep.columns import MISSING, ColumnSpec, load_columns

MAX_PROBLEMS = 20  # per file: enough to fix a batch at once, short enough to read in an ADF error
EXAMPLE_LINES = 5  # line numbers shown per problem
BOM = b"\xef\xbb\xbf"  # tolerated: Excel's "CSV UTF-8" writes it and it is still UTF-8
ARROW_TYPES = {"int64": pa.int64(), "float64": pa.float64()}
# What a cell must look like to be parsed; used only to locate cells that pyarrow refused.
_INT_TEXT = r"^-?[0-9]{1,18}$"
_FLOAT_TEXT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_NON_BLANK = re.compile(rb"\S")


def check_csv(data: bytes, columns: Sequence[ColumnSpec] | None = None, *, source: str = "input") -> pa.Table:
    """The file as a table with the contract's names and int64/float64 types, or ContractViolation."""
    columns = list(columns) if columns is not None else load_columns()
    names = [c.name for c in columns]
    if not data.strip():
        _fail(source, [Problem("the file is empty" if not data else "the file holds only whitespace",
                               "upload the CSV with its header line and at least one data row", lines=(1,))])
    if (problem := _utf8_problem(data)) is not None:
        _fail(source, [problem])
    start = len(BOM) if data.startswith(BOM) else 0
    end = data.find(b"\n", start)
    if problems := _header_problems(data[start: end if end >= 0 else len(data)].decode("utf-8"), names):
        _fail(source, problems)

    if end < 0 or not _NON_BLANK.search(data, end + 1):
        # Decided here rather than by pyarrow: a parallel read of an empty body can hang (apache/arrow#38676).
        _fail(source, [NO_ROWS])
    body = pa.py_buffer(data).slice(start)  # zero-copy
    table, ragged_rows, _ = _read(body, columns, typed=True)
    if table is None or ragged_rows:
        # Some cell did not parse or some row has the wrong width: re-read as text to say where.
        _fail(source, _cell_problems(data, start, columns))
    if table.num_rows == 0:
        _fail(source, [NO_ROWS])
    if problems := _value_problems(table, columns, _LazyLines(data, start, len(names))):
        _fail(source, problems)
    return table.combine_chunks()


def _fail(source: str, problems: list[Problem]) -> None:
    # Listed in file order, so the reader can walk down the file once.
    problems = sorted(problems, key=lambda p: p.lines[0] if p.lines else 0)
    raise ContractViolation(source, problems[:MAX_PROBLEMS], unreported=max(0, len(problems) - MAX_PROBLEMS))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _utf8_problem(data: bytes) -> Problem | None:
    if data.isascii():  # the common case, and far cheaper than decoding
        return None
    bad: list[tuple[int, int]] = []  # (offset, byte)
    start = 0
    while len(bad) < EXAMPLE_LINES:
        try:
            data[start:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            bad.append((start + exc.start, data[start + exc.start]))
            start += exc.end
    if not bad:
        return None
    lines = tuple(dict.fromkeys(_line_of(data, offset) for offset, _ in bad))
    return Problem(f"byte 0x{bad[0][1]:02X} is not valid UTF-8 (the file is in another encoding, e.g. Latin-1)",
                   "save the file as UTF-8 (Excel: 'CSV UTF-8'); the contract's values are plain ASCII numbers",
                   lines=lines, count=len(lines))


def _header_problems(header: str, names: list[str]) -> list[Problem]:
    text = header.rstrip("\r")
    fields = next(csv.reader([text]), [])
    if len(fields) == 1:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in text:
                return [Problem(f"the header is separated by {label}, not commas",
                                "export the file comma-separated (delimiter ','), with '.' as the decimal point",
                                lines=(1,))]
    if not set(fields) & set(names):
        return [Problem(f"the first line is not the header: none of its {len(fields)} fields is a contract column",
                        f"make the first line the header: {','.join(names[:4])},... (spec/porto_seguro_columns.tsv)",
                        lines=(1,))]
    problems = []
    for position, name in enumerate(names):
        if name not in fields:
            after = f", after '{names[position - 1]}'" if position else ""
            problems.append(Problem(f"the header lacks this column (expected at position {position + 1}{after})",
                                    "add the column; the header must be exactly the contract's 59 names, in order",
                                    column=name, lines=(1,)))
    for position, field in enumerate(fields):
        if field not in names:
            close = difflib.get_close_matches(field, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(f"unexpected column at position {position + 1}{hint}",
                                    "remove the column or rename it to the contract's name (exact case, no spaces)",
                                    column=field, lines=(1,)))
    for name in dict.fromkeys(f for f in fields if fields.count(f) > 1 and f in names):
        positions = [str(i + 1) for i, f in enumerate(fields) if f == name]
        problems.append(Problem(f"the column appears {len(positions)} times (positions {', '.join(positions)})",
                                "keep exactly one copy of the column", column=name, lines=(1,)))
    if not problems and fields != names:
        wrong = [i for i, (f, n) in enumerate(zip(fields, names)) if f != n]
        shown = "; ".join(f"position {i + 1} holds '{fields[i]}', expected '{names[i]}'" for i in wrong[:3])
        problems.append(Problem(f"the columns are out of order: {shown}",
                                f"reorder the columns as in the contract: {', '.join(names[:4])}, ... "
                                "(spec/porto_seguro_columns.tsv)", column=fields[wrong[0]], lines=(1,)))
    return problems


def _read(body: pa.Buffer, columns: Sequence[ColumnSpec], *, typed: bool) -> tuple[pa.Table | None, int, str]:
    """(table or None, rows skipped for a wrong field count, pyarrow's error when it refused the file)."""
    skipped = 0

    def skip(_row) -> str:
        nonlocal skipped
        skipped += 1
        return "skip"

    types = {c.name: ARROW_TYPES[c.dtype] if typed else pa.string() for c in columns}
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=list(types), block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=",", invalid_row_handler=skip),
            # No null markers: missing values are coded -1, so an empty cell or "NA" is an error.
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        return None, skipped, str(exc)
    return table, skipped, ""


class _LazyLines:
    """Row indices -> line numbers (header = line 1), scanning the file only when a problem needs them.

    pyarrow skips blank lines and rows of the wrong width, so a row's line is not simply its index + 2.
    """

    def __init__(self, data: bytes, start: int, width: int) -> None:
        self._data, self._start, self._width = data, start, width
        self._row_lines: list[int] | None = None
        self._ragged: list[int] = []

    def _scan(self) -> list[int]:
        if self._row_lines is None:
            self._row_lines = []
            for number, raw in enumerate(self._data[self._start:].split(b"\n")[1:], start=2):
                line = raw.rstrip(b"\r")
                if line:
                    (self._row_lines if line.count(b",") + 1 == self._width else self._ragged).append(number)
        return self._row_lines

    def ragged(self) -> list[int]:
        self._scan()
        return self._ragged

    def __call__(self, rows: np.ndarray) -> tuple[int, ...]:
        lines = self._scan()
        # A quoted comma would make our count disagree with pyarrow's; then assume no blank lines.
        return tuple(lines[r] if r < len(lines) else int(r) + 2 for r in rows)


def _cell_problems(data: bytes, start: int, columns: Sequence[ColumnSpec]) -> list[Problem]:
    """Slow path: read every cell as text, report unparsable cells and wrong-width rows, then the rest."""
    lines = _LazyLines(data, start, len(columns))
    problems = []
    if ragged := lines.ragged():
        problems.append(Problem(f"the row does not have {len(columns)} fields",
                                f"give every row exactly {len(columns)} comma-separated values "
                                "(look for stray or missing commas)",
                                lines=tuple(ragged[:EXAMPLE_LINES]), count=len(ragged)))
    text, _, error = _read(pa.py_buffer(data).slice(start), columns, typed=False)
    if text is None:
        return problems + [Problem(f"the file is not readable as CSV ({error})",
                                   "export a plain comma-separated file without quotes around values")]
    typed = {}
    for spec, column in zip(columns, text.columns):
        is_int = spec.dtype == "int64"
        parses = pc.match_substring_regex(column, _INT_TEXT if is_int else _FLOAT_TEXT)
        bad = _rows(pc.invert(parses))
        if bad.size:
            cell = column[int(bad[0])].as_py()
            what = "the value is empty" if cell == "" else f"'{cell}' is not {'an integer' if is_int else 'a number'}"
            problems.append(_at(what, _INT_FIX if is_int else _FLOAT_FIX, spec.name, bad, lines))
        # Unparsable cells become nulls so the value checks still run on every other cell.
        typed[spec.name] = pc.cast(pc.if_else(parses, column, pa.scalar(None, pa.string())), ARROW_TYPES[spec.dtype])
    table = pa.table(typed)
    if table.num_rows == 0 and not ragged:
        problems.append(NO_ROWS)
    problems += _value_problems(table, columns, lines)
    if not problems:  # pyarrow refused something our patterns accept: pass its words on
        problems.append(Problem(f"a value could not be read ({error})", _FLOAT_FIX))
    return problems


NO_ROWS = Problem("the file has a header but no data rows", "upload a file with at least one data row after the header",
                  lines=(2,))
_INT_FIX = "write a whole number such as 0, 3 or -1 (missing values are coded as -1, never left empty)"
_FLOAT_FIX = "write a decimal number with '.' as the decimal point, such as 0.7 (missing values are coded as -1)"

# A check takes one column's values (nulls = already reported cells) and returns (what, fix, bad rows).
Finding = tuple[str, str, np.ndarray]
Check = Callable[[pa.ChunkedArray, ColumnSpec], list[Finding]]


def _value_problems(table: pa.Table, columns: Sequence[ColumnSpec],
                    line_for: Callable[[np.ndarray], tuple[int, ...]]) -> list[Problem]:
    problems = []
    for spec in columns:
        check = CHECKS[spec.kind.partition("(")[0]]
        for what, fix, rows in check(table.column(spec.name), spec):
            problems.append(_at(what, fix, spec.name, rows, line_for))
    return problems


def _at(what: str, fix: str, column: str, rows: np.ndarray, line_for) -> Problem:
    return Problem(what, fix, column=column, lines=line_for(rows[:EXAMPLE_LINES]), count=int(rows.size))


def _rows(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_id(values: pa.ChunkedArray, spec: ColumnSpec) -> list[Finding]:
    findings = []
    bad = _rows(pc.less_equal(values, 0))
    if bad.size:
        findings.append((f"id must be a positive integer, found {values[int(bad[0])].as_py()}",
                         "give every row a positive policy id", bad))
    ids = values.to_numpy(zero_copy_only=False)
    present = np.flatnonzero(~np.isnan(ids)) if ids.dtype.kind == "f" else np.arange(ids.size)
    order = present[np.argsort(ids[present], kind="stable")]
    ordered = ids[order]
    same = ordered[1:] == ordered[:-1]
    if same.any():
        repeated = np.unique(ordered[1:][same])
        dup_rows = np.unique(np.concatenate([order[1:][same], order[:-1][same]]))  # sorted by row
        findings.append((f"ids are not unique: {repeated.size} id value(s) repeat, e.g. id {_number(repeated[0])}",
                         "each row is one policy: drop the repeated rows or correct their ids", dup_rows))
    return findings


def _check_label(values: pa.ChunkedArray, spec: ColumnSpec) -> list[Finding]:
    bad = _rows(pc.and_(pc.not_equal(values, 0), pc.not_equal(values, 1)))
    if not bad.size:
        return []
    return [(f"target must be 0 or 1, found {values[int(bad[0])].as_py()}",
             "write 1 for a claim and 0 for none; target is never missing, so -1 is not allowed", bad)]


def _check_range(values: pa.ChunkedArray, spec: ColumnSpec) -> list[Finding]:
    low, high = int(spec.min), int(spec.max)
    bad = _rows(pc.or_(pc.less(values, low), pc.greater(values, high)))
    if not bad.size:
        return []
    found = values[int(bad[0])].as_py()
    if low == MISSING:
        fix = f"use an integer from 0 to {high}, or -1 where the value is missing"
    else:
        fix = f"use an integer from {low} to {high}; this column is never missing, so -1 is not allowed"
    what = ("-1 (missing) is not allowed in this column" if found == MISSING and low != MISSING
            else f"value {found} is outside the allowed range [{low}, {high}]")
    return [(what, fix, bad)]


def _check_finite(values: pa.ChunkedArray, spec: ColumnSpec) -> list[Finding]:
    bad = _rows(pc.invert(pc.is_finite(values)))
    if not bad.size:
        return []
    return [(f"value {values[int(bad[0])].as_py()} is not a finite number",
             "write a decimal number; code missing values as -1, never NaN, inf or empty", bad)]


# Keyed by the TSV's kind (without its hint, e.g. "continuous(step0.1)" -> "continuous").
CHECKS: dict[str, Check] = {
    "id": _check_id,
    "label": _check_label,
    "bin": _check_range,
    "cat": _check_range,
    "ordinal": _check_range,
    "continuous": _check_finite,
}
