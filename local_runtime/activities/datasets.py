"""Datasets and linked services of the deployed factory, resolved for one activity: the dataset's
`@dataset()` expressions are evaluated with the parameters the activity passes, the linked service gives the
storage account. Storage activities (GetMetadata, Validation, Copy, Delete) work on the result."""
from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.storage.blob import ContainerClient

from local_runtime.errors import ActivityError
from local_runtime.expressions import evaluate_value
from storage import container_client


def _connection_string_endpoint(props: dict) -> str | None:
    parts = dict(p.split("=", 1) for p in str(props.get("connectionString", "")).split(";") if "=" in p)
    return parts.get("BlobEndpoint")


def _blob_account_url(props: dict) -> str:
    endpoint = props.get("serviceEndpoint") or _connection_string_endpoint(props)
    if not isinstance(endpoint, str) or not endpoint:
        raise ActivityError("the AzureBlobStorage linked service needs a serviceEndpoint (locally, Azurite's "
                            "account URL such as http://127.0.0.1:10000/devstoreaccount1)", "LinkedServiceInvalid")
    return endpoint.rstrip("/")


# linked service type -> account URL from its (evaluated) typeProperties
LINKED_SERVICES: dict[str, Callable[[dict], str]] = {"AzureBlobStorage": _blob_account_url}
LOCATIONS = {"AzureBlobStorageLocation"}


@dataclass(frozen=True)
class Dataset:
    name: str
    type: str               # Binary, DelimitedText, ...
    properties: dict        # typeProperties, evaluated
    account_url: str
    container: str
    folder: str             # no leading or trailing slash; "" is the container itself
    file: str | None        # None for a folder; may hold * and ? wildcards

    @property
    def client(self) -> ContainerClient:
        return container_client(self.account_url, self.container)

    @property
    def prefix(self) -> str:
        return f"{self.folder}/" if self.folder else ""

    @property
    def blob_name(self) -> str:
        return self.prefix + (self.file or "")

    @property
    def is_wildcard(self) -> bool:
        return bool(self.file) and any(c in self.file for c in "*?")

    def describe(self) -> str:
        return f"{self.container}/{self.blob_name}".rstrip("/")

    def files(self, recursive: bool, pattern: str | None = None) -> list:
        """Blobs under the folder: directly in it, or anywhere below when recursive; a wildcard matches names."""
        found = []
        for blob in self.client.list_blobs(name_starts_with=self.prefix):
            relative = blob.name[len(self.prefix):]
            if not recursive and "/" in relative:
                continue
            if pattern and not fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern):
                continue
            found.append(blob)
        return found


def _parameters(declared: dict, given: dict, what: str) -> dict:
    values = {}
    for name, spec in (declared or {}).items():
        if name in given:
            values[name] = given[name]
        elif "defaultValue" in (spec or {}):
            values[name] = spec["defaultValue"]
        else:
            raise ActivityError(f"{what} parameter {name!r} has no default and the activity does not pass it",
                                "InvalidTemplate")
    return values


def _object(rc, folder: str, name: str) -> dict:
    body = rc.store.get_object(rc.factory, folder, name)
    if body is None:
        known = sorted(n for _, n in rc.store.objects(rc.factory, folder))
        raise ActivityError(f"{folder} {name!r} is not deployed in {rc.factory} "
                            f"({folder}s: {', '.join(known) or 'none'})", "NotFound")
    return body["properties"]


def _clean(path: Any) -> str:
    return str(path or "").strip("/")


def resolve(rc, reference: dict) -> Dataset:
    """A DatasetReference (`referenceName`, `parameters`, already evaluated in the pipeline) made concrete."""
    name = reference["referenceName"]
    props = _object(rc, "dataset", name)
    context = dataclasses.replace(rc.expressions, dataset_parameters=_parameters(
        props.get("parameters"), reference.get("parameters") or {}, f"dataset {name}"))
    type_properties = evaluate_value(props.get("typeProperties", {}), context)
    linked_ref = evaluate_value(props["linkedServiceName"], context)
    linked = _object(rc, "linkedService", linked_ref["referenceName"])
    to_account = LINKED_SERVICES.get(linked.get("type"))
    if to_account is None:
        raise ActivityError(f"dataset {name}: linked service type {linked.get('type')!r} is not supported locally "
                            f"(supported: {', '.join(sorted(LINKED_SERVICES))})", "UnsupportedLinkedService")
    ls_context = dataclasses.replace(context, linked_service_parameters=_parameters(
        linked.get("parameters"), linked_ref.get("parameters") or {}, f"linked service {linked_ref['referenceName']}"))
    account_url = to_account(evaluate_value(linked.get("typeProperties", {}), ls_context))
    location = type_properties.get("location") or {}
    if location.get("type") not in LOCATIONS or not location.get("container"):
        raise ActivityError(f"dataset {name}: only {', '.join(sorted(LOCATIONS))} locations with a container are "
                            f"supported locally, got {location or 'none'}", "UnsupportedDataset")
    return Dataset(name, props.get("type", ""), type_properties, account_url, _clean(location["container"]),
                   _clean(location.get("folderPath")), _clean(location.get("fileName")) or None)
