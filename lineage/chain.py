"""The record chain: write-once blobs `<archive>/lineage/records/<sequence>.json`, each naming its predecessor's
sha256, plus a write-once index `<archive>/lineage/runs/<pipeline run id>.json` pointing at a run's record.

Appending is optimistic: read the head, write sequence head+1 with If-None-Match: *; if another run won that
sequence number, read the new head and try again. Nothing is ever overwritten or deleted, so a changed record
breaks the hash its successor (or the model version's tag) holds. In Azure the archive container also carries
an immutability policy (terraform), so not even the storage owner can rewrite it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError

from lineage.record import record_bytes
from storage.blobs import container_client, download_bytes, parse_blob_url, upload_once

RECORDS = "lineage/records/"
RUNS = "lineage/runs/"
SEQUENCE_DIGITS = 10
MAX_APPEND_ATTEMPTS = 50


class ChainError(Exception):
    """The chain cannot be read or appended to."""


@dataclass(frozen=True)
class Link:
    sequence: int
    url: str
    sha256: str
    data: bytes


def archive_root(manifest_url: str) -> str:
    """`<account>/<archive container>` from a data-prep manifest URL `<account>/<archive>/runs/<id>/manifest.json`."""
    root, sep, _ = manifest_url.rpartition("/runs/")
    if not sep:
        raise ChainError(f"{manifest_url} is not a data-prep manifest URL (<archive>/runs/<run id>/manifest.json)")
    return root


class Chain:
    def __init__(self, archive_url: str):
        self.archive_url = archive_url.rstrip("/")
        address = parse_blob_url(self.archive_url + "/x")
        self._container = container_client(address.account_url, address.container)

    def record_url(self, sequence: int) -> str:
        return f"{self.archive_url}/{RECORDS}{sequence:0{SEQUENCE_DIGITS}d}.json"

    def run_index_url(self, pipeline_run_id: str) -> str:
        return f"{self.archive_url}/{RUNS}{pipeline_run_id}.json"

    def sequences(self) -> list[int]:
        names = (blob.name for blob in self._container.list_blobs(name_starts_with=RECORDS))
        return sorted(int(name[len(RECORDS):-len(".json")]) for name in names
                      if name.endswith(".json") and name[len(RECORDS):-len(".json")].isdigit())

    def link(self, sequence: int) -> Link:
        url = self.record_url(sequence)
        try:
            data = download_bytes(url)
        except ResourceNotFoundError:
            raise ChainError(f"lineage record #{sequence} ({url}) is missing") from None
        return Link(sequence, url, hashlib.sha256(data).hexdigest(), data)

    def head(self) -> Link | None:
        sequences = self.sequences()
        return self.link(sequences[-1]) if sequences else None

    def links(self) -> list[Link]:
        return [self.link(sequence) for sequence in self.sequences()]

    def append(self, record: dict) -> Link:
        """Add `record` (without sequence/previous) at the head; returns where it landed."""
        for _ in range(MAX_APPEND_ATTEMPTS):
            head = self.head()
            sequence = head.sequence + 1 if head else 1
            chained = {**record, "sequence": sequence, "previous_record_sha256": head.sha256 if head else None}
            data = record_bytes(chained)
            url = self.record_url(sequence)
            if upload_once(url, data, metadata={"pipeline_run_id": str(record.get("pipeline_run_id", ""))}):
                link = Link(sequence, url, hashlib.sha256(data).hexdigest(), data)
                self._index(record.get("pipeline_run_id"), link)
                return link
        raise ChainError(f"could not append to the lineage chain at {self.archive_url} after "
                         f"{MAX_APPEND_ATTEMPTS} attempts (too many concurrent writers?); rerun the training job")

    def _index(self, pipeline_run_id: str | None, link: Link) -> None:
        if pipeline_run_id:
            upload_once(self.run_index_url(pipeline_run_id), json.dumps(
                {"sequence": link.sequence, "url": link.url, "sha256": link.sha256}, sort_keys=True).encode())

    def for_run(self, pipeline_run_id: str) -> dict | None:
        try:
            return json.loads(download_bytes(self.run_index_url(pipeline_run_id)))
        except ResourceNotFoundError:
            return None
