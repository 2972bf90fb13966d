"""The DelimitedText format as ADF's datasets describe it: columnDelimiter (default ","), quoteChar ('"'),
escapeChar ("\\"; equal to quoteChar means doubled quotes), firstRowAsHeader (false), encodingName (UTF-8),
rowDelimiter (any line break on read, "\\r\\n" written by Copy). Headerless columns are named Prop_0, Prop_1..."""
from __future__ import annotations

import csv
import io


def _dialect(props: dict) -> dict:
    quote = props.get("quoteChar", '"')
    escape = props.get("escapeChar", "\\")
    options = {"delimiter": props.get("columnDelimiter", ",") or ",",
               "lineterminator": props.get("rowDelimiter") or "\r\n"}
    if not quote:
        return {**options, "quoting": csv.QUOTE_NONE, "escapechar": escape or None}
    if escape == quote or not escape:
        return {**options, "quotechar": quote, "doublequote": True}
    return {**options, "quotechar": quote, "escapechar": escape, "doublequote": False}


def _encoding(props: dict) -> str:
    return str(props.get("encodingName") or "utf-8")


def has_header(props: dict) -> bool:
    value = props.get("firstRowAsHeader", False)
    return value if isinstance(value, bool) else str(value).lower() == "true"


def column_names(count: int) -> list[str]:
    return [f"Prop_{i}" for i in range(count)]


def read(data: bytes, props: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows); without firstRowAsHeader the header is Prop_0..Prop_n-1."""
    text = data.decode(_encoding(props)).lstrip("\ufeff")
    dialect = _dialect(props)
    dialect.pop("lineterminator")  # the reader accepts every line break
    rows = [row for row in csv.reader(io.StringIO(text, newline=""), **dialect) if row]
    if has_header(props):
        return (rows[0] if rows else []), rows[1:]
    return column_names(max((len(r) for r in rows), default=0)), rows


def write(header: list[str], rows: list[list[str]], props: dict) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, **_dialect(props))
    if has_header(props):
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(_encoding(props))
