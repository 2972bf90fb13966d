"""Lookup: read a DelimitedText or Json dataset (a file, a folder or a wildcard, through the source's
storeSettings as Copy reads them) and return `{"firstRow": {...}}` or `{"count": n, "value": [...]}`.

ADF's documented limits (the Lookup activity page): at most 5000 rows, the first 5000 returned silently when
there are more; at most 4 MB of output, the activity fails beyond. Delimited text has no types: every value is
a string, a field equal to the dataset's nullValue (default empty) is null. Json files are read in the two
patterns Copy detects by itself: setOfObjects (one object, JSON lines, concatenated objects) and
arrayOfObjects; each object is one row, returned whole (jsonPathDefinition is not supported by Lookup)."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from local_runtime.activities import delimited
from local_runtime.activities.datasets import Dataset, resolve
from local_runtime.activities.registry import flag, register
from local_runtime.activities.transfer import RUNTIME, _sources as source_files
from local_runtime.errors import ActivityError

MAX_ROWS = 5000                     # ADF returns the first 5000 rows of a larger result
MAX_OUTPUT_BYTES = 4 * 1024 * 1024  # ADF fails a Lookup whose output exceeds 4 MB

Row = dict[str, Any]


def _text(data: bytes, props: dict, where: str) -> str:
    encoding = str(props.get("encodingName") or "utf-8")
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except LookupError:
        raise ActivityError(f"{where}: encodingName {encoding!r} is not an encoding the local runtime knows "
                            "(use a name such as UTF-8, UTF-16, ISO-8859-1 or WINDOWS-1252)",
                            "UnsupportedEncoding") from None
    except UnicodeDecodeError as exc:
        raise ActivityError(f"{where}: the file is not valid {encoding} ({exc.reason} at byte {exc.start}); "
                            "set the dataset's encodingName to the file's encoding", "InvalidEncoding") from None


def delimited_rows(data: bytes, props: dict, source: dict, where: str) -> list[Row]:
    """Rows of one delimited file as {column: string or None}. skipLineCount (formatSettings) skips non-empty
    lines before the header; a row with more fields than the header (or, without one, than the first row)
    fails as in ADF, a shorter one gets nulls."""
    text = _text(data, props, where)  # decoded here for a clear error; delimited.read gets UTF-8 back
    _, lines = delimited.read(text.encode("utf-8"), {**props, "encodingName": "utf-8", "firstRowAsHeader": False})
    skip = int((source.get("formatSettings") or {}).get("skipLineCount") or 0)
    lines = lines[skip:]
    if not lines:
        return []
    if delimited.has_header(props):
        header, lines, first = lines[0], lines[1:], skip + 2
        for index, name in enumerate(header):
            if not name:
                raise ActivityError(f"{where}: The name of column index {index + 1} is empty. Make sure column "
                                    "name is properly specified in the header row.",
                                    "DelimitedTextColumnNameNotAllowNull")
    else:
        header, first = delimited.column_names(len(lines[0])), skip + 1
    null = props.get("nullValue", "")
    rows = []
    for number, fields in enumerate(lines, start=first):
        if len(fields) > len(header):
            raise ActivityError(f"Error found when processing 'Csv/Tsv Format Text' source '{where}' with row "
                                f"number {number}: found more columns than expected column count: {len(header)}. "
                                "Check the dataset's columnDelimiter, quoteChar and escapeChar.",
                                "DelimitedTextMoreColumnsThanDefined")
        values = [None if value == null else value for value in fields]
        rows.append(dict(zip(header, values + [None] * (len(header) - len(values)))))
    return rows


def _documents(text: str) -> Iterator[Any]:
    decoder, position = json.JSONDecoder(), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        document, position = decoder.raw_decode(text, position)
        yield document


def json_rows(data: bytes, props: dict, source: dict, where: str) -> list[Row]:
    """setOfObjects (one object, JSON lines, concatenated objects) or arrayOfObjects, detected as Copy does."""
    try:
        documents = list(_documents(_text(data, props, where)))
    except json.JSONDecodeError as exc:
        raise ActivityError(f"{where}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                            "JsonInvalidDataFormat") from None
    rows = [row for document in documents for row in (document if isinstance(document, list) else [document])]
    bad = next((row for row in rows if not isinstance(row, dict)), None)
    if bad is not None:
        raise ActivityError(f"{where}: Lookup reads JSON objects (one object, JSON lines, concatenated objects or "
                            f"an array of objects), found {json.dumps(bad)[:60]}", "JsonInvalidDataFormat")
    return rows


# dataset type -> (the Copy source type Lookup expects, reader of one file)
FORMATS: dict[str, tuple[str, Callable[[bytes, dict, dict, str], list[Row]]]] = {
    "DelimitedText": ("DelimitedTextSource", delimited_rows),
    "Json": ("JsonSource", json_rows),
}
COMPRESSION = {"DelimitedText": "compressionCodec", "Json": "compression"}


def _reader(ds: Dataset, source: dict) -> Callable[[bytes, dict, dict, str], list[Row]]:
    if ds.type not in FORMATS:
        raise ActivityError(f"Lookup dataset {ds.name} is {ds.type or 'untyped'}; Lookup reads "
                            f"{' and '.join(FORMATS)} datasets locally (ADF's Lookup cannot read Binary datasets)",
                            "UnsupportedDataset")
    expected, read = FORMATS[ds.type]
    if source.get("type") != expected:
        raise ActivityError(f"Lookup source type {source.get('type')!r} does not match dataset {ds.name} "
                            f"({ds.type}); set typeProperties.source.type to {expected!r}", "InvalidTemplate")
    if ds.properties.get(COMPRESSION[ds.type]):
        raise ActivityError(f"dataset {ds.name}: compressed files are not supported by the local Lookup",
                            "UnsupportedDataset")
    if (source.get("storeSettings") or {}).get("wildcardFolderPath"):
        raise ActivityError("Lookup source storeSettings.wildcardFolderPath is not supported locally; use the "
                            "dataset's folderPath with wildcardFileName", "UnsupportedDataset")
    return read


def _missing(ds: Dataset, path: str) -> ActivityError:
    return ActivityError(f"Failure happened on 'Source' side. ErrorCode=UserErrorSourceBlobNotExist, The required "
                         f"Blob is missing. ContainerName: {ds.account_url}/{ds.container}, path: {path}. "
                         f"(dataset {ds.name})", "UserErrorSourceBlobNotExist")


def read_rows(ds: Dataset, source: dict, limit: int) -> list[Row]:
    """The first `limit` rows of the dataset's files, in the order Copy reads them (blob name order)."""
    read = _reader(ds, source)
    store_settings = source.get("storeSettings") or {}
    wanted = ds.prefix + (store_settings.get("wildcardFileName") or ds.file or "")  # a folder ends with "/"
    try:
        files = source_files(ds, store_settings)
    except ResourceNotFoundError:
        raise _missing(ds, wanted) from None
    if not files:
        raise _missing(ds, wanted)
    rows: list[Row] = []
    for name, _ in files:
        try:
            data = ds.client.download_blob(name).readall()
        except ResourceNotFoundError:
            raise _missing(ds, name) from None
        rows.extend(read(data, ds.properties, source, f"{ds.container}/{name}"))
        if len(rows) >= limit:
            break
    return rows[:limit]


def result(rows: list[Row], first_row_only: bool) -> dict:
    """ADF's output shape; without rows, firstRowOnly gives no firstRow key at all."""
    if first_row_only:
        return {"firstRow": rows[0]} if rows else {}
    return {"count": len(rows), "value": rows}


@register("Lookup")
def lookup(activity: dict, props: dict, rc) -> Any:
    if not isinstance(props.get("dataset"), dict) or not isinstance(props.get("source"), dict):
        raise ActivityError("Lookup needs typeProperties.dataset (a DatasetReference) and typeProperties.source "
                            "(e.g. {\"type\": \"DelimitedTextSource\"})", "InvalidTemplate")
    first_row_only = flag(props.get("firstRowOnly"), True)
    ds = resolve(rc, props["dataset"])
    rows = read_rows(ds, props["source"], 1 if first_row_only else MAX_ROWS)
    output = {**result(rows, first_row_only), "effectiveIntegrationRuntime": RUNTIME}
    size = len(json.dumps(output, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_OUTPUT_BYTES:
        raise ActivityError(f"The size of lookup activity result exceeds the limitation {MAX_OUTPUT_BYTES} "
                            f"({size} bytes from dataset {ds.name}); narrow the lookup (fewer files or columns) or "
                            "split it: an outer pipeline iterating an inner one", "LookupResultTooLarge")
    return output
