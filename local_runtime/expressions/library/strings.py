"""String functions: concat, substring, replace, guid, indexOf, lastIndexOf, startsWith, endsWith,
split, toLower, toUpper, trim. (length works on strings too; see :mod:`.collection`.)

As documented by Microsoft, indexOf, lastIndexOf, startsWith and endsWith ignore case; replace and
contains do not.
"""
from __future__ import annotations

import uuid

from ..errors import EvaluationError
from ..functions import function
from ..values import to_text


@function("concat", "values: any+")
def concat(*values):
    return "".join(to_text(value) for value in values)


@function("substring", "text: string", "startIndex: integer", "length: integer?")
def substring(text, start, length=None):
    if length is None:
        length = len(text) - start
    if start < 0 or length < 0 or start + length > len(text):
        raise EvaluationError(f"startIndex {start} and length {length} are out of range for a string of length "
                              f"{len(text)}: both must be >= 0 and startIndex + length <= {len(text)}")
    return text[start:start + length]


@function("replace", "text: string", "oldText: string", "newText: string")
def replace(text, old, new):
    if old == "":
        raise EvaluationError("oldText must not be empty")
    return text.replace(old, new)


_GUID_FORMATS = {
    "n": lambda g: g.hex,
    "d": str,
    "b": lambda g: "{" + str(g) + "}",
    "p": lambda g: "(" + str(g) + ")",
    "x": lambda g: (f"{{0x{g.fields[0]:08x},0x{g.fields[1]:04x},0x{g.fields[2]:04x},"
                    f"{{{','.join(f'0x{b:02x}' for b in g.bytes[8:])}}}}}"),
}


@function("guid", "format: string?", context=True)
def guid(context, fmt="D"):
    formatter = _GUID_FORMATS.get((fmt or "D").lower())
    if formatter is None:
        raise EvaluationError(f"'{fmt}' is not a GUID format: use N, D, B, P or X")
    value = context.new_guid()
    return formatter(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


@function("indexOf", "text: string", "searchText: string")
def index_of(text, search):
    return text.lower().find(search.lower())


@function("lastIndexOf", "text: string", "searchText: string")
def last_index_of(text, search):
    return text.lower().rfind(search.lower())


@function("startsWith", "text: string", "searchText: string")
def starts_with(text, search):
    return text.lower().startswith(search.lower())


@function("endsWith", "text: string", "searchText: string")
def ends_with(text, search):
    return text.lower().endswith(search.lower())


@function("split", "text: string", "delimiter: string")
def split(text, delimiter):
    return text.split(delimiter) if delimiter else [text]


@function("toLower", "text: string")
def to_lower(text):
    return text.lower()


@function("toUpper", "text: string")
def to_upper(text):
    return text.upper()


@function("trim", "text: string")
def trim(text):
    return text.strip()
