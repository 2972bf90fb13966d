"""OpenLineage datasets and facets for what the pipeline reads and writes, as pure functions of the records the
runtime already keeps (the data-prep manifest, the training job's outputs). No I/O here: the emitter fetches,
these functions shape. The training job reads the blobs data prep wrote, so both describe them with the same
builder: same names, schema and contentHash on either side of the graph.

Naming follows the OpenLineage naming spec (spec/Naming.md): Azure Blob Storage is namespace
`wasbs://{container}@{account}.dfs.core.windows.net`, name = the blob path (the client's `naming.WASBS`). An
emulator account (Azurite on loopback) has no service host, so its namespace is `wasbs://{container}@{account}`.
Registered models are `mlflow://{tracking host}` / `{model}/{version}` (the naming spec has no entry for them).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import attr
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import DatasetFacet, RunFacet, output_statistics_output_dataset, schema_dataset
from openlineage.client.naming.dataset import WASBS

from storage.blobs import is_emulator, parse_blob_url

FACETS_DIR = Path(__file__).resolve().parent / "facets"
PRODUCER = "https://example.invalid/porto-adf/lineage/openlineage"
"""Who wrote the events and facets. A placeholder host like spec/factory.schema.json's $id: set it (and the
$id of lineage/facets/*.json) to where the repository is published."""


@cache
def facet_schema_url(name: str) -> str:
    """`_schemaURL` of a facet we define: the $id of its JSON Schema shipped in lineage/facets/, plus the pointer."""
    schema = json.loads((FACETS_DIR / f"{name}.json").read_text())
    return f"{schema['$id']}#/$defs/{name}"


@attr.define
class ContentHashDatasetFacet(DatasetFacet):
    """The sha256 (and size) of the dataset's exact bytes, as the manifest and the model registry record them."""
    sha256: str
    bytes: int | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return facet_schema_url("ContentHashDatasetFacet")


@attr.define
class AdfRunRunFacet(RunFacet):
    """The run as ADF knows it: its own run id (kept verbatim when it is not a UUID), status, activity type."""
    runId: str  # noqa: N815 (OpenLineage field names are camelCase)
    status: str
    activityType: str | None = attr.field(default=None)  # noqa: N815
    errorCode: str | None = attr.field(default=None)  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        return facet_schema_url("AdfRunRunFacet")


@attr.define
class AzureMLJobRunFacet(RunFacet):
    """The run as Azure ML knows it: the job's name (the runId is derived from it), endpoint, workspace, status and,
    once it completed, the MLflow run and the promotion decision it recorded."""
    jobName: str  # noqa: N815
    status: str
    endpoint: str | None = attr.field(default=None)
    workspace: str | None = attr.field(default=None)
    mlflowRunId: str | None = attr.field(default=None)  # noqa: N815
    decision: str | None = attr.field(default=None)
    decisionReason: str | None = attr.field(default=None)  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        return facet_schema_url("AzureMLJobRunFacet")


def azureml_job_facet(job: dict, workspace_id: str) -> AzureMLJobRunFacet:
    """The facet of a job record of the Azure ML stand-in (local_runtime/azureml_standin.py)."""
    outputs = job.get("outputs") or {}
    decision = outputs.get("decision") if isinstance(outputs.get("decision"), dict) else {}
    return AzureMLJobRunFacet(jobName=job["name"], status=job["status"], endpoint=job.get("endpoint"),
                              workspace=workspace_id, mlflowRunId=outputs.get("mlflow_run_id"),
                              decision=decision.get("outcome"), decisionReason=decision.get("reason"),
                              producer=PRODUCER)


def blob_dataset_id(url: str) -> tuple[str, str]:
    """(namespace, name) of a blob addressed by URL."""
    address = parse_blob_url(url)
    if is_emulator(address.account_url):
        account = address.account_url.rstrip("/").rsplit("/", 1)[-1]
        return f"wasbs://{address.container}@{account}", address.path
    account = (urlsplit(address.account_url).hostname or "").split(".", 1)[0]
    naming = WASBS(container=address.container, service_name=account, object_key=address.path)
    return naming.get_namespace(), naming.get_name()


def model_dataset_id(tracking_uri: str, model_name: str, version: str) -> tuple[str, str]:
    host = urlsplit(tracking_uri).netloc if tracking_uri.startswith(("http://", "https://")) else ""
    return f"mlflow://{host or 'local'}", f"{model_name}/{version}"


def _schema(columns: list[str], types: dict[str, str]) -> schema_dataset.SchemaDatasetFacet:
    fields = [schema_dataset.SchemaDatasetFacetFields(name=c, type=types.get(c, "unknown")) for c in columns]
    return schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)


def _hash(sha256: str, size: int | None) -> ContentHashDatasetFacet:
    return ContentHashDatasetFacet(sha256=sha256, bytes=size, producer=PRODUCER)


def _blob(url: str, sha256: str, size: int | None, columns: list[str] | None = None,
          types: dict[str, str] | None = None) -> tuple[str, str, dict]:
    """(namespace, name, dataset facets) of a blob: what a writer and a reader of it both report."""
    namespace, name = blob_dataset_id(url)
    facets: dict = {"contentHash": _hash(sha256, size)}
    if columns:
        facets["schema"] = _schema(columns, types or {})
    return namespace, name, facets


def _output(url: str, sha256: str, size: int | None, rows: int | None = None,
            columns: list[str] | None = None, types: dict[str, str] | None = None) -> OutputDataset:
    namespace, name, facets = _blob(url, sha256, size, columns, types)
    output_facets = {}
    if rows is not None:
        output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=rows, size=size, producer=PRODUCER)
    return OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)


def prep_datasets(manifest: dict, manifest_url: str, manifest_sha256: str, manifest_bytes: int,
                  types: dict[str, str]) -> tuple[list[InputDataset], list[OutputDataset]]:
    """What the data-prep activity read and wrote, from its manifest (dataprep/manifest.py).

    Input: the delivered blob. Outputs: train and test (schema, row count, size, sha256), the archived copy of
    the input (content-addressed, written by this activity unless the same bytes came before), the quarantine
    file when rows were set aside, and the manifest itself (what the training job reads)."""
    source = manifest["input"]
    namespace, name = blob_dataset_id(source["url"])
    inputs = [InputDataset(namespace=namespace, name=name, facets={
        "schema": _schema(source.get("columns") or [], types), "contentHash": _hash(source["sha256"], source.get("bytes"))})]
    outputs = [_output(side["url"], side["sha256"], side.get("bytes"), side.get("rows"), side.get("columns"), types)
               for side in (manifest["outputs"]["train"], manifest["outputs"]["test"])]
    if source.get("archived_url"):
        outputs.append(_output(source["archived_url"], source["sha256"], source.get("bytes"), source.get("rows"),
                               source.get("columns"), types))
    quarantine = source.get("quarantine")
    if quarantine:
        outputs.append(_output(quarantine["url"], quarantine["sha256"], quarantine.get("bytes"), quarantine.get("rows")))
    outputs.append(_output(manifest_url, manifest_sha256, manifest_bytes))
    return inputs, outputs


def training_inputs(manifest: dict, manifest_url: str, manifest_sha256: str, manifest_bytes: int,
                    types: dict[str, str]) -> list[InputDataset]:
    """What the training job reads: the manifest it is given, then the train and test blobs that manifest pins
    (described as prep_datasets describes them as outputs)."""
    blobs = [_blob(manifest_url, manifest_sha256, manifest_bytes)]
    blobs += [_blob(side["url"], side["sha256"], side.get("bytes"), side.get("columns"), types)
              for side in (manifest["outputs"]["train"], manifest["outputs"]["test"])]
    return [InputDataset(namespace=namespace, name=name, facets=facets) for namespace, name, facets in blobs]


def model_dataset(tracking_uri: str, outputs: dict) -> OutputDataset | None:
    """The registered model version a completed training job reports (training/pipeline.py's result)."""
    if not outputs or not outputs.get("model_name") or not outputs.get("model_version"):
        return None
    namespace, name = model_dataset_id(tracking_uri, outputs["model_name"], str(outputs["model_version"]))
    facets = {"contentHash": _hash(outputs["model_sha256"], None)} if outputs.get("model_sha256") else {}
    return OutputDataset(namespace=namespace, name=name, facets=facets)

