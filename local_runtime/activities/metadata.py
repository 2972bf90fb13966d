"""GetMetadata and Validation against the storage a dataset points at (Azurite locally)."""
from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from local_runtime.activities import delimited
from local_runtime.activities.datasets import Dataset, resolve
from local_runtime.activities.registry import flag, register
from local_runtime.errors import ActivityError
from local_runtime.timespan import parse_timespan

HEAD_BYTES = 1 << 20  # structure/columnCount read the first MiB, enough for a header row
VALIDATION_TIMEOUT = "0.12:00:00"  # the Validation activity page: 12 hours unless `timeout` says otherwise


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


class Item:
    """The file or folder a dataset names, looked up once; `None` from `find` when it does not exist."""

    def __init__(self, ds: Dataset, kind: str, blob=None, children: list | None = None, container=None):
        self.ds, self.kind, self.blob, self.children, self.container = ds, kind, blob, children, container

    @classmethod
    def find(cls, ds: Dataset) -> Item | None:
        if ds.is_wildcard:
            raise ActivityError(f"dataset {ds.name}: wildcards ({ds.file}) are not supported by GetMetadata and "
                                "Validation; point the dataset at a file or a folder", "UnsupportedDataset")
        try:
            if ds.file:
                return cls(ds, "File", blob=ds.client.get_blob_client(ds.blob_name).get_blob_properties())
            container = ds.client.get_container_properties()
        except ResourceNotFoundError:
            return None
        children = list(ds.client.walk_blobs(name_starts_with=ds.prefix, delimiter="/"))
        if ds.folder and not children:
            return None  # a virtual folder exists only while something is in it
        return cls(ds, "Folder", children=children, container=container)

    def child_items(self) -> list[dict]:
        """Name order, as Azure lists blobs (Azurite lists the folders first)."""
        return sorted(({"name": c.name[len(self.ds.prefix):].rstrip("/"),
                        "type": "Folder" if c.name.endswith("/") else "File"} for c in self.children),
                      key=lambda child: child["name"])

    def head(self) -> tuple[list[str], list[list[str]]]:
        data = self.ds.client.download_blob(self.ds.blob_name, offset=0,
                                            length=min(self.blob.size, HEAD_BYTES) or None).readall()
        if self.blob.size > HEAD_BYTES:
            data = data[: data.rfind(b"\n") + 1] or data  # only whole rows
        return delimited.read(data, self.ds.properties)


def _file_only(read: Callable[[Item], Any]) -> Callable[[Item], Any]:
    def field(item: Item) -> Any:
        if item.kind != "File":
            raise ActivityError(f"this field applies to files; {item.ds.describe()} is a folder", "InvalidField")
        return read(item)
    return field


def _structure(item: Item) -> list[dict]:
    if item.ds.type != "DelimitedText":
        raise ActivityError(f"structure/columnCount are read from DelimitedText datasets locally, not "
                            f"{item.ds.type}", "InvalidField")
    header, _ = item.head()
    return [{"name": name, "type": "String"} for name in header]


def _folder_children(item: Item) -> list[dict]:
    if item.kind != "Folder":
        raise ActivityError(f"childItems applies to folders; {item.ds.describe()} is a file", "InvalidField")
    return item.child_items()


# fieldList entry -> reader; ADF's metadata options for Azure Blob storage
FIELDS: dict[str, Callable[[Item], Any]] = {
    "exists": lambda item: True,
    "itemName": lambda item: (item.ds.file if item.kind == "File" else
                              (item.ds.folder.rsplit("/", 1)[-1] if item.ds.folder else item.ds.container)),
    "itemType": lambda item: item.kind,
    "size": _file_only(lambda item: item.blob.size),
    "created": lambda item: _time(item.blob.creation_time) if item.blob else None,
    # for blob storage lastModified applies to blobs and containers, not to virtual folders
    "lastModified": lambda item: _time(item.blob.last_modified if item.blob else
                                       (None if item.ds.folder else item.container.last_modified)),
    "contentMD5": _file_only(lambda item: base64.b64encode(item.blob.content_settings.content_md5).decode()
                             if item.blob.content_settings.content_md5 else None),
    "childItems": _folder_children,
    "structure": _file_only(_structure),
    "columnCount": _file_only(lambda item: len(_structure(item))),
}


@register("GetMetadata")
def get_metadata(activity: dict, props: dict, rc) -> Any:
    """Without `exists` in fieldList a missing item fails the activity; with it, the output is exists: false."""
    fields = props.get("fieldList") or []
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise ActivityError(f"fieldList {unknown} not supported; supported: {', '.join(FIELDS)}", "InvalidField")
    ds = resolve(rc, props["dataset"])
    item = Item.find(ds)
    if item is None:
        if "exists" in fields:
            return {"exists": False}
        raise ActivityError(f"{ds.describe()} does not exist (dataset {ds.name}); add 'exists' to fieldList to "
                            "test for it instead of failing", "PathNotFound")
    return {field: FIELDS[field](item) for field in fields}


def _validated(ds: Dataset, minimum: int, child_items: bool | None) -> dict | None:
    item = Item.find(ds)
    if item is None:
        return None
    if item.kind == "File":
        return {"exists": True, "size": item.blob.size} if item.blob.size >= minimum else None
    if child_items is not None and bool(item.children) != child_items:
        return None
    return {"exists": True, "childItems": len(item.children)}


@register("Validation")
def validation(activity: dict, props: dict, rc) -> Any:
    """Block until the dataset's file (at least minimumSize bytes) or folder (with or without childItems)
    exists, checking every `sleep` seconds (default 10), failing at `timeout`."""
    from local_runtime.engine import Cancelled

    ds = resolve(rc, props["dataset"])
    timeout = parse_timespan(props.get("timeout") or VALIDATION_TIMEOUT)
    sleep = float(props.get("sleep", 10))
    minimum = int(props.get("minimumSize", 0) or 0)
    child_items = props.get("childItems")
    child_items = None if child_items is None else flag(child_items)
    deadline = time.monotonic() + timeout
    while True:
        result = _validated(ds, minimum, child_items)
        if result is not None:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if ds.file:
                wanted = f"exist with at least {minimum} bytes" if minimum else "exist"
            else:
                wanted = {None: "exist", True: "exist with child items", False: "exist empty"}[child_items]
            raise ActivityError(f"Validation timed out after {timeout:.0f}s: {ds.describe()} (dataset {ds.name}) did "
                                f"not {wanted}", "ValidationTimedOut")
        if rc.cancelled.wait(min(sleep, remaining)):
            raise Cancelled()
