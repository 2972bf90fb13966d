"""Conversion functions: string, int, float, bool, json, array, createArray, coalesce, base64,
base64ToString (decodeBase64), dataUri, dataUriToString, encodeUriComponent (uriComponent),
decodeUriComponent (uriComponentToString).

URI encoding follows .NET ``Uri.EscapeDataString``: everything but ``A-Z a-z 0-9 - _ . ~`` is
percent-encoded as UTF-8, and ``+`` is not a space when decoding.
"""
from __future__ import annotations

import base64 as _b64
import binascii
import json as _json
import re
from urllib.parse import quote, unquote

from ..errors import EvaluationError
from ..functions import function
from ..values import to_text

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT = re.compile(r"\s*[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")


@function("string", "value: any")
def string(value):
    return to_text(value)


@function("int", "value: string|number")
def int_(value):
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise EvaluationError(f"{value!r} has a fractional part; int() takes whole numbers only "
                                  f"(div({value!r}, 1) truncates)")
        return int(value)
    if not _INTEGER.fullmatch(value):
        raise EvaluationError(f"'{value}' is not an integer (int() parses whole numbers; use float() for decimals)")
    return int(value)


@function("float", "value: string|number")
def float_(value):
    if not isinstance(value, str):
        return float(value)
    if not _FLOAT.fullmatch(value):
        raise EvaluationError(f"'{value}' is not a number")
    return float(value.replace(",", ""))


@function("bool", "value: boolean|number|string")
def bool_(value):
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded not in ("true", "false"):
            raise EvaluationError(f"'{value}' is not a boolean: expected 'true' or 'false'")
        return folded == "true"
    return bool(value)


@function("json", "value: string|array|object|null")
def json(value):
    if value is None:
        return {}
    if not isinstance(value, str):
        return value
    try:
        return _json.loads(value)
    except ValueError as error:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise EvaluationError(f"'{shown}' is not valid JSON: {error}") from None


@function("array", "value: any")
def array(value):
    return [value]


@function("createArray", "values: any+")
def create_array(*values):
    return list(values)


@function("coalesce", "values: any+")
def coalesce(*values):
    return next((value for value in values if value is not None), None)


@function("base64", "value: any")
def base64(value):
    return _b64.b64encode(to_text(value).encode("utf-8")).decode("ascii")


def _decode_base64(value: str) -> str:
    try:
        return _b64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise EvaluationError(f"'{value}' is not valid base64 text (of UTF-8 bytes)") from None


@function("base64ToString", "value: string", aliases=("decodeBase64",))
def base64_to_string(value):
    return _decode_base64(value)


@function("dataUri", "value: any")
def data_uri(value):
    return "data:text/plain;charset=utf-8;base64," + base64(value)


@function("dataUriToString", "value: string")
def data_uri_to_string(value):
    header, comma, data = value.partition(",")
    if not header.startswith("data:") or not comma:
        raise EvaluationError(f"'{value}' is not a data URI such as 'data:text/plain;charset=utf-8;base64,aGVsbG8='")
    return _decode_base64(data) if header.endswith(";base64") else unquote(data)


@function("encodeUriComponent", "value: any", aliases=("uriComponent",))
def encode_uri_component(value):
    return quote(to_text(value), safe="")


@function("decodeUriComponent", "value: string", aliases=("uriComponentToString",))
def decode_uri_component(value):
    return unquote(value)
