"""Copy (blob to blob through source and sink datasets) and Delete, against the storage the datasets name."""
from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from local_runtime.activities import delimited
from local_runtime.activities.datasets import Dataset, resolve
from local_runtime.activities.registry import flag, register
from local_runtime.errors import ActivityError

RUNTIME = "LocalRuntime"


@dataclass
class Batch:
    """What moves through a copy: bytes (Binary) or a header and rows (tabular formats)."""
    data: bytes = b""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] | None = None


def _read_binary(data: bytes, ds: Dataset) -> Batch:
    return Batch(data=data)


def _write_binary(batches: list[Batch], ds: Dataset) -> bytes:
    return b"".join(b.data for b in batches)


def _read_delimited(data: bytes, ds: Dataset) -> Batch:
    header, rows = delimited.read(data, ds.properties)
    return Batch(header=header, rows=rows)


def _write_delimited(batches: list[Batch], ds: Dataset) -> bytes:
    rows = [row for b in batches for row in b.rows]
    return delimited.write(batches[0].header if batches else [], rows, ds.properties)


# dataset type -> (reader, writer); Binary only pairs with Binary, as in ADF
FORMATS = {"Binary": (_read_binary, _write_binary), "DelimitedText": (_read_delimited, _write_delimited)}


def _format(ds: Dataset, role: str):
    if ds.type not in FORMATS:
        raise ActivityError(f"Copy {role} dataset {ds.name} is {ds.type}; supported locally: {', '.join(FORMATS)}",
                            "UnsupportedDataset")
    return FORMATS[ds.type]


def _one(references: list, role: str) -> dict:
    if not isinstance(references, list) or len(references) != 1:
        raise ActivityError(f"Copy needs exactly one {role} dataset reference in its '{role}'", "InvalidTemplate")
    return references[0]


def _sources(ds: Dataset, store_settings: dict) -> list[tuple[str, str]]:
    """(blob name, path relative to the dataset folder) of every source file."""
    pattern = store_settings.get("wildcardFileName") or (ds.file if ds.is_wildcard else None)
    if ds.file and not pattern:
        return [(ds.blob_name, ds.file)]
    recursive = flag(store_settings.get("recursive"), True)  # a Copy source reads folders recursively by default
    return [(b.name, b.name[len(ds.prefix):]) for b in ds.files(recursive, pattern)]


def _targets(sink: Dataset, sources: list[tuple[str, str]], behavior: str) -> dict[str, list[str]]:
    """Sink blob name -> the source blobs written into it."""
    if sink.file:
        if len(sources) > 1 and behavior != "MergeFiles":
            raise ActivityError(f"the sink dataset {sink.name} names one file ({sink.file}) but {len(sources)} source "
                                "files match; set the sink's copyBehavior to MergeFiles or point the sink at a folder",
                                "InvalidTemplate")
        return {sink.blob_name: [name for name, _ in sources]}
    if behavior == "MergeFiles":
        raise ActivityError("copyBehavior MergeFiles needs a file name in the sink dataset", "InvalidTemplate")
    flatten = behavior == "FlattenHierarchy"
    return {sink.prefix + (posixpath.basename(rel) if flatten else rel): [name] for name, rel in sources}


@register("Copy")
def copy(activity: dict, props: dict, rc) -> Any:
    from local_runtime.engine import Cancelled

    started = time.monotonic()
    source = resolve(rc, _one(rc.evaluate(activity.get("inputs")), "inputs"))
    sink = resolve(rc, _one(rc.evaluate(activity.get("outputs")), "outputs"))
    (read, _), (_, write) = _format(source, "source"), _format(sink, "sink")
    if (source.type == "Binary") != (sink.type == "Binary"):
        raise ActivityError(f"Binary datasets copy only to Binary datasets ({source.name} is {source.type}, "
                            f"{sink.name} is {sink.type})", "InvalidTemplate")
    source_settings = (props.get("source") or {}).get("storeSettings") or {}
    sink_settings = (props.get("sink") or {}).get("storeSettings") or {}
    sources = _sources(source, source_settings)
    targets = _targets(sink, sources, sink_settings.get("copyBehavior", "PreserveHierarchy"))
    try:
        sink.client.create_container()  # as ADF does for a missing sink container
    except ResourceExistsError:
        pass
    stats = {"dataRead": 0, "dataWritten": 0, "filesRead": 0, "filesWritten": 0, "rowsRead": 0}
    for target, names in targets.items():
        batches = []
        for name in names:
            if rc.cancelled.is_set():
                raise Cancelled()
            try:
                data = source.client.download_blob(name).readall()
            except ResourceNotFoundError:
                raise ActivityError(f"source file {source.container}/{name} (dataset {source.name}) does not exist",
                                    "PathNotFound") from None
            batches.append(read(data, source))
            stats["dataRead"] += len(data)
            stats["filesRead"] += 1
            stats["rowsRead"] += len(batches[-1].rows or [])
        payload = write(batches, sink)
        sink.client.get_blob_client(target).upload_blob(payload, overwrite=True)
        stats["dataWritten"] += len(payload)
        stats["filesWritten"] += 1
    if source.type == "Binary":
        del stats["rowsRead"]  # ADF reports rows only for tabular copies
    else:
        stats["rowsCopied"] = stats["rowsRead"]
    took = time.monotonic() - started
    return {**stats, "copyDuration": round(took), "throughput": round(stats["dataRead"] / 1024 / max(took, 1e-3), 3),
            "effectiveIntegrationRuntime": RUNTIME, "usedParallelCopies": 1}


@register("Delete")
def delete(activity: dict, props: dict, rc) -> Any:
    """A file, the files of a folder (recursive: and of its subfolders), or those matching a wildcard file
    name (the dataset's fileName or storeSettings.wildcardFileName). A named file that is missing fails."""
    from local_runtime.engine import Cancelled

    ds = resolve(rc, props["dataset"])
    store_settings = props.get("storeSettings") or {}
    recursive = flag(props.get("recursive", store_settings.get("recursive")), False)
    pattern = store_settings.get("wildcardFileName") or (ds.file if ds.is_wildcard else None)
    if ds.file and not pattern:
        names = [ds.blob_name]
    else:
        names = [b.name for b in ds.files(recursive, pattern)]
    for name in names:
        if rc.cancelled.is_set():
            raise Cancelled()
        try:
            ds.client.delete_blob(name)
        except ResourceNotFoundError:
            raise ActivityError(f"{ds.container}/{name} (dataset {ds.name}) does not exist", "PathNotFound") from None
    return {"datasetName": ds.name, "type": "AzureBlobStorageLocation", "container": ds.container,
            "folderPath": ds.folder, "fileName": ds.file, "recursive": recursive, "isWildcardUsed": bool(pattern),
            "filesDeleted": len(names), "effectiveIntegrationRuntime": RUNTIME}
