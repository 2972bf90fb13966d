"""Blob clients for Azurite and Azure Storage, addressed by plain blob URLs."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


@dataclass(frozen=True)
class BlobAddress:
    account_url: str
    container: str
    path: str

    @property
    def url(self) -> str:
        return f"{self.account_url}/{self.container}/{self.path}"


def is_emulator(account_url: str) -> bool:
    return urlsplit(account_url).hostname in {h.strip("[]") for h in _LOOPBACK_HOSTS}


def parse_blob_url(url: str) -> BlobAddress:
    """Split a blob URL into account URL, container and blob path.

    Emulator URLs carry the account name as the first path segment (``/devstoreaccount1/...``).
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    base = f"{parts.scheme}://{parts.netloc}"
    if is_emulator(url):
        if len(segments) < 2:
            raise ValueError(f"blob URL {url!r} needs /<account>/<container>[/<path>]")
        base, segments = f"{base}/{segments[0]}", segments[1:]
    if not segments:
        raise ValueError(f"blob URL {url!r} names no container")
    return BlobAddress(base, segments[0], "/".join(segments[1:]))


@cache
def service_client(account_url: str) -> BlobServiceClient:
    """A client for the account; Azurite uses its documented development account, Azure uses Entra ID."""
    account_url = account_url.rstrip("/")
    if is_emulator(account_url):
        # The SDK knows Azurite's well-known development credentials; borrow them instead of copying the key.
        dev = BlobServiceClient.from_connection_string("UseDevelopmentStorage=true").credential
        credential = {"account_name": dev.account_name, "account_key": dev.account_key}
        return BlobServiceClient(account_url=account_url, credential=credential)
    from azure.identity import DefaultAzureCredential

    return BlobServiceClient(account_url=account_url, credential=DefaultAzureCredential())


def container_client(account_url: str, container: str) -> ContainerClient:
    return service_client(account_url).get_container_client(container)


def ensure_containers(account_url: str, names: list[str]) -> None:
    client = service_client(account_url)
    for name in names:
        try:
            client.create_container(name)
        except ResourceExistsError:
            pass


def download_bytes(url: str) -> bytes:
    address = parse_blob_url(url)
    return container_client(address.account_url, address.container).download_blob(address.path).readall()


def upload_bytes(url: str, data: bytes, *, overwrite: bool = True, metadata: dict | None = None) -> None:
    address = parse_blob_url(url)
    blob = container_client(address.account_url, address.container).get_blob_client(address.path)
    blob.upload_blob(data, overwrite=overwrite, metadata=metadata)


def upload_once(url: str, data: bytes, *, metadata: dict | None = None) -> bool:
    """Write-once upload: returns False when the blob exists already (content-addressed writes reuse it)."""
    try:
        upload_bytes(url, data, overwrite=False, metadata=metadata)
        return True
    except ResourceExistsError:
        return False


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
