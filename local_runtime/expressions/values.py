"""JSON values as the expression language sees them: type names, text conversion, JSON text.

Values are plain Python JSON values: None, bool, int, float, str, list, dict. Integers and floats stay
distinct (``bool`` is checked before ``int`` everywhere, since it is a subclass).

Text conversion follows the .NET runtime behind ADF (a ``JValue`` turned into a string): booleans
become ``True``/``False``, null becomes the empty string, floats use the shortest round-trip form
without a trailing ``.0`` (``3.0`` -> ``3``, ``1e20`` -> ``1E+20``); objects and arrays become JSON text.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

_ARTICLE_TYPE = {"null": "null", "boolean": "a boolean", "integer": "an integer", "float": "a float",
                 "string": "a string", "array": "an array", "object": "an object"}


def type_name(value: Any) -> str:
    """The expression-language type of a value: null, boolean, integer, float, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe(value: Any, limit: int = 40) -> str:
    """``a string ('abc')``: the type with an article and a short rendering, for error messages."""
    kind = type_name(value)
    article = _ARTICLE_TYPE.get(kind, kind)
    if value is None:
        return article
    shown = "'" + value.replace("'", "''") + "'" if isinstance(value, str) else json_text(value)
    if len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    return f"{article} ({shown})"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_double(value: float) -> str:
    """.NET ``double.ToString()`` (shortest round-trip): 3.0 -> '3', 1e20 -> '1E+20', 1e-05 -> '1E-05'."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    prefix = "-" if sign else ""
    if digits == (0,):
        return prefix + "0"
    scientific = exponent + len(digits) - 1
    text = "".join(map(str, digits))
    if scientific >= 15 or scientific < -4:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}E{'+' if scientific >= 0 else '-'}{abs(scientific):02d}"
    if exponent >= 0:
        return prefix + text + "0" * exponent
    point = len(text) + exponent
    if point > 0:
        return f"{prefix}{text[:point]}.{text[point:]}"
    return f"{prefix}0.{'0' * -point}{text}"


def json_text(value: Any) -> str:
    """Compact JSON text of a value (objects and arrays in interpolations, string(), concat())."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)


def to_text(value: Any) -> str:
    """The string a value turns into in ``@{...}``, ``string()``, ``concat()`` and ``join()``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_double(value)
    return json_text(value)


def parse_json_container(text: str) -> Any:
    """The object or array a JSON string holds, or None when it holds something else.

    ADF lets expressions select properties of activity outputs that are JSON *text*, such as a
    Databricks ``runOutput`` written with ``dbutils.notebook.exit(json.dumps(...))``.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return None
    return parsed if isinstance(parsed, (dict, list)) else None


def find_key(mapping: dict, name: str) -> tuple[bool, Any]:
    """Look a name up exactly, then case-insensitively (when exactly one key matches)."""
    if name in mapping:
        return True, mapping[name]
    folded = name.casefold()
    matches = [key for key in mapping if isinstance(key, str) and key.casefold() == folded]
    if len(matches) == 1:
        return True, mapping[matches[0]]
    return False, None
