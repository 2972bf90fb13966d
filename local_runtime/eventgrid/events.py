"""Which Blob REST calls raise a storage event, and the event itself in Event Grid's blob event schema
(learn.microsoft.com, "Azure Blob Storage as an Event Grid source"). Pure: no I/O.

BlobCreated is raised by Put Blob, Put Block List and Copy Blob (also Put Blob From URL) once the blob is
committed; BlobDeleted by Delete Blob. Put Block, Append Block, Put Page, metadata/properties/tier calls and
container operations raise nothing, as in Azure.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
BLOB_DELETED = "Microsoft.Storage.BlobDeleted"
SUBJECT_PREFIX = "/blobServices/default/containers"
# Event Grid's topic is the storage account's ARM id. Azurite has no subscription or resource group, so the
# stand-in names fixed ones; triggers match events on the account name, as the local deploy maps scopes.
TOPIC = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/azurite/providers/" \
        "Microsoft.Storage/storageAccounts/{account}"


@dataclass(frozen=True)
class BlobOperation:
    """A blob write or delete that raises an event when it succeeds."""
    api: str            # PutBlob, PutBlockList, CopyBlob, PutBlobFromUrl, DeleteBlob
    account: str
    container: str
    blob: str           # the blob name, decoded

    @property
    def event_type(self) -> str:
        return BLOB_DELETED if self.api == "DeleteBlob" else BLOB_CREATED

    @property
    def subject(self) -> str:
        return f"{SUBJECT_PREFIX}/{self.container}/blobs/{self.blob}"


def classify(method: str, target: str, headers: Mapping[str, str]) -> BlobOperation | None:
    """The event-raising operation a request is (path-style URL, as Azurite serves), or None.
    `headers` must look names up case-insensitively (http.client's message does)."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    segments = parts.path.lstrip("/").split("/", 2)
    if len(segments) < 3 or not all(segments) or "restype" in query:
        return None  # service, account or container level
    comp = query.get("comp", [None])[0]
    operation = None
    if method == "PUT" and comp is None:
        if headers.get("x-ms-copy-source"):
            operation = "PutBlobFromUrl" if headers.get("x-ms-blob-type") else "CopyBlob"
        else:
            operation = "PutBlob"
    elif method == "PUT" and comp == "blocklist":
        operation = "PutBlockList"
    elif method == "DELETE" and comp is None and not {"snapshot", "versionid"} & set(query):
        operation = "DeleteBlob"
    if operation is None:
        return None
    return BlobOperation(operation, unquote(segments[0]), unquote(segments[1]), unquote(segments[2]))


def blob_event(op: BlobOperation, *, host: str, event_time: str, etag: str | None, content_type: str | None,
               content_length: int | None, blob_type: str | None, request_id: str | None = None,
               client_request_id: str | None = None, event_id: str | None = None) -> dict:
    """The event as Event Grid delivers it. `data.sequencer` is left empty: the event log assigns it, so
    that string comparison orders the events of one blob. BlobDeleted carries no eTag or contentLength."""
    data = {"api": op.api, "clientRequestId": client_request_id, "requestId": request_id, "eTag": etag,
            "contentType": content_type, "contentLength": content_length, "blobType": blob_type,
            "url": f"http://{host}/{op.account}/{op.container}/{quote(op.blob)}", "sequencer": None}
    if op.event_type == BLOB_DELETED:
        del data["eTag"], data["contentLength"]
    return {"topic": TOPIC.format(account=op.account), "subject": op.subject, "eventType": op.event_type,
            "eventTime": event_time, "id": event_id or str(uuid.uuid4()), "data": data,
            "dataVersion": "", "metadataVersion": "1"}


@dataclass(frozen=True)
class EventBlob:
    """Where an event points: account, container and blob name, parsed back from topic and subject."""
    account: str
    container: str
    name: str

    @property
    def folder_path(self) -> str:
        """`@triggerBody().folderPath`: `<container>/<folder>`, without `/blobs/`."""
        folder = self.name.rpartition("/")[0]
        return f"{self.container}/{folder}" if folder else self.container

    @property
    def file_name(self) -> str:
        return self.name.rpartition("/")[2]

    @property
    def trigger_path(self) -> str:
        """The path ADF's blobPathBeginsWith / blobPathEndsWith filter: `/<container>/blobs/<name>`."""
        return f"/{self.container}/blobs/{self.name}"


def event_blob(event: dict) -> EventBlob:
    account = event["topic"].rstrip("/").rsplit("/", 1)[-1]
    rest = event["subject"][len(SUBJECT_PREFIX) + 1:]
    container, _, name = rest.partition("/blobs/")
    return EventBlob(account, container, name)
