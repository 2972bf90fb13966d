"""Blob storage access shared by the notebook, the training pipeline and the local runtime.

One address form everywhere: a blob URL, ``<account url>/<container>/<path>``. Locally the account URL is
Azurite's (``http://127.0.0.1:<port>/devstoreaccount1``); in Azure it is ``https://<account>.blob.core.windows.net``.
"""
from storage.blobs import (
    BlobAddress,
    container_client,
    download_bytes,
    ensure_containers,
    parse_blob_url,
    service_client,
    sha256_hex,
    upload_bytes,
    upload_once,
)

__all__ = [
    "BlobAddress",
    "container_client",
    "download_bytes",
    "ensure_containers",
    "parse_blob_url",
    "service_client",
    "sha256_hex",
    "upload_bytes",
    "upload_once",
]
