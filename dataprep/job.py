"""The data-prepare job: download, check + clean + split (one streaming pass), archive, upload, record.

The only module that talks to storage. Order matters: the input is spooled to a local file (bounded memory),
the streaming pass writes the outputs to local staging files, and only when the whole file has passed does
anything reach archive/training/testing; the manifest is written last and write-once, so its presence means
the run's outputs are complete. A rejected file leaves its exact bytes and a reason in the rejected area.
"""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from dataprep.contract_spec import DataContract, load_contract
from dataprep.errors import ContractViolation, InputNotFound, ParameterError, RunConflict
from dataprep.layout import Containers, RunLayout, input_blob_url
from dataprep.manifest import build_manifest, canonical_json, code_info
from dataprep.stream import Prepared, prepare_stream
from storage.blobs import container_client, download_bytes, parse_blob_url, sha256_hex, upload_bytes, upload_once

__all__ = ["Containers", "input_blob_url", "prepare", "widget_contract", "widget_float", "widget_int"]

log = logging.getLogger(__name__)


def prepare(input_url: str, *, pipeline_run_id: str, storage_account_url: str, containers: Containers,
            test_fraction: float = 0.2, split_seed: int, contract: DataContract | None = None,
            now: Callable[[], datetime] | None = None, code: dict | None = None, spark=None,
            work_dir: str | None = None, trigger: dict | None = None) -> dict:
    """Prepare one delivered CSV; returns the notebook exit value. Raises ContractViolation for a bad file.

    A retry with the same run id and the same bytes returns the stored run's result without writing.
    `contract` defaults to the spec's; `spark` (a SparkSession) runs the transformation on Spark instead of
    the local streaming pass, with the same functions and the same split. `trigger` (name, type, time) is
    recorded in the manifest for the lineage record.
    """
    contract = contract if contract is not None else load_contract()
    layout = RunLayout(storage_account_url, containers, pipeline_run_id,
                       parse_blob_url(input_url).path.rsplit("/", 1)[-1], contract.output_format)
    parameters = _parameters(test_fraction, split_seed, contract)
    clock, started_at = _Stopwatch(), _timestamp(now)
    with tempfile.TemporaryDirectory(prefix="dataprep-", dir=work_dir) as tmp:
        local_input = Path(tmp) / "input.csv"
        delivered = _download_input(input_url, local_input)
        clock.lap("download")
        if (stored := _download_optional(layout.manifest)) is not None:
            return _replay(stored, layout, file_sha256(local_input), parameters)
        try:
            prepared = _transform(local_input, Path(tmp) / "out", contract, split_seed, test_fraction,
                                  layout.file_name, spark)
        except ContractViolation as violation:
            _reject(layout, input_url, local_input, violation, _timestamp(now))
            raise
        clock.lap("prepare")

        archived_url = layout.archived_input(prepared.sha256)
        if not _archive_once(archived_url, local_input, pipeline_run_id):
            log.info("input already archived at %s (re-delivery of the same bytes)", archived_url)
        contract_url = layout.archived_contract(contract.sha256)
        upload_once(contract_url, contract.to_json().encode())  # content-addressed: the recorded rules, reusable
        outputs = {side: {**_upload(url, path), **stats} for side, url, path, stats in (
            ("train", layout.train, prepared.train_path, prepared.train),
            ("test", layout.test, prepared.test_path, prepared.test))}
        quarantine = None
        if prepared.quarantine_path is not None:
            quarantine = {**_upload(layout.quarantine, prepared.quarantine_path), "rows": prepared.quarantined}
        clock.lap("upload")

    manifest = build_manifest(
        pipeline_run_id=pipeline_run_id,
        created_at=_timestamp(now),
        started_at=started_at,
        trigger={**(trigger or {}), **delivered},
        input_={"url": input_url, "sha256": prepared.sha256, "bytes": prepared.bytes, "archived_url": archived_url,
                "rows": prepared.rows, "rows_accepted": prepared.accepted, "rows_quarantined": prepared.quarantined,
                "positive_rate": prepared.input_positive_rate, "columns": contract.names, "quarantine": quarantine,
                "schema_sha256": contract.schema_sha256},
        train={**outputs["train"], "columns": prepared.columns},
        test={**outputs["test"], "columns": prepared.columns},
        parameters=parameters,
        contract_url=contract_url,
        code=code if code is not None else code_info(),
    )
    body = canonical_json(manifest)
    if not upload_once(layout.manifest, body):
        # A concurrent attempt of this run finished first; its manifest is the record.
        return _replay(download_bytes(layout.manifest), layout, prepared.sha256, parameters)
    clock.lap("manifest")
    log.info("prepared %s: %d rows, %d accepted, %d quarantined -> %d train / %d test (%s)", input_url,
             prepared.rows, prepared.accepted, prepared.quarantined, prepared.train["rows"], prepared.test["rows"], clock)
    return _result(layout, manifest, sha256_hex(body))


def _transform(local_input: Path, out_dir: Path, contract: DataContract, seed: int, test_fraction: float,
               source_name: str, spark) -> Prepared:
    if spark is not None:
        from dataprep.spark import prepare_with_spark  # only where Spark exists

        return prepare_with_spark(spark, local_input, contract, seed=seed, test_fraction=test_fraction,
                                  out_dir=out_dir, source_name=source_name)
    with open(local_input, "rb") as source:
        return prepare_stream(source, contract, seed=seed, test_fraction=test_fraction, out_dir=out_dir,
                              source_name=source_name)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def _upload(url: str, path: Path) -> dict:
    with open(path, "rb") as f:
        upload_bytes(url, f)
    return {"url": url, "sha256": file_sha256(path), "bytes": path.stat().st_size}


def widget_contract(text: str) -> DataContract:
    return DataContract.from_json(text)


def widget_float(name: str, text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ParameterError(f"widget {name!r} must be a number, got {text!r}") from None


def widget_int(name: str, text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ParameterError(f"widget {name!r} must be an integer, got {text!r}") from None


def _parameters(test_fraction: float, split_seed: int, contract: DataContract) -> dict:
    # Checked before any I/O so that a bad parameter leaves no trace in storage.
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ParameterError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, int):
        raise ParameterError(f"split_seed must be an integer, got {split_seed!r}")
    return {"test_fraction": float(test_fraction), "split_seed": split_seed, "stratify_on": contract.target_column,
            "split_rule": "keyed_hash(seed, id) < cutoff[target]", "split_method": contract.split_method,
            "output_format": contract.output_format, "contract": contract.name, "contract_sha256": contract.sha256,
            "row_policy": contract.policy}


def _download_input(url: str, path: Path) -> dict:
    """Stream the blob to `path`; returns which version of it was read (path, etag, version id, last modified)."""
    address = parse_blob_url(url)
    try:
        with open(path, "wb") as f:  # streamed to disk: the file never has to fit in memory
            download = container_client(address.account_url, address.container).download_blob(address.path)
            download.readinto(f)
    except ResourceNotFoundError:
        raise InputNotFound(f"input blob {url} does not exist; check that the trigger's folderPath/fileName "
                            "(input_folder_path, input_file_name) name an existing blob") from None
    props = download.properties
    return {"blob_path": f"{address.container}/{address.path}", "etag": (props.etag or "").strip('"'),
            "version_id": getattr(props, "version_id", None),
            "last_modified": props.last_modified.astimezone(UTC).isoformat().replace("+00:00", "Z")
            if props.last_modified else None}


def _archive_once(url: str, path: Path, pipeline_run_id: str) -> bool:
    """Write-once; False when the object exists. The existence probe saves re-sending ~100 MB on re-delivery,
    the conditional upload still settles a race between two runs archiving the same bytes."""
    address = parse_blob_url(url)
    if container_client(address.account_url, address.container).get_blob_client(address.path).exists():
        return False
    try:
        with open(path, "rb") as f:
            upload_bytes(url, f, overwrite=False, metadata={"pipeline_run_id": pipeline_run_id})
        return True
    except ResourceExistsError:
        return False


def _download_optional(url: str) -> bytes | None:
    try:
        return download_bytes(url)
    except ResourceNotFoundError:
        return None


def _replay(stored: bytes, layout: RunLayout, digest: str, parameters: dict) -> dict:
    manifest = json.loads(stored)
    if manifest["input"]["sha256"] != digest or manifest["parameters"] != parameters:
        raise RunConflict(
            f"pipeline run {layout.pipeline_run_id} already completed (manifest {layout.manifest}) for input "
            f"sha256 {manifest['input']['sha256']} with parameters {manifest['parameters']}; this attempt has "
            f"sha256 {digest} with {parameters}. Start a new pipeline run instead of re-using the run id.")
    log.info("run %s already complete; returning its manifest", layout.pipeline_run_id)
    return _result(layout, manifest, sha256_hex(stored))


def _reject(layout: RunLayout, input_url: str, local_input: Path, violation: ContractViolation,
            rejected_at: str) -> None:
    # Overwrite, not write-once: a retried activity re-rejects the same bytes into the same place.
    with open(local_input, "rb") as f:
        upload_bytes(layout.rejected, f)
    reason = {
        "reason": str(violation),
        "problems": [problem.to_dict() for problem in violation.problems],
        "unreported_problems": violation.unreported,
        "input_url": input_url,
        "rejected_url": layout.rejected,
        "sha256": file_sha256(local_input),
        "bytes": local_input.stat().st_size,
        "pipeline_run_id": layout.pipeline_run_id,
        "rejected_at": rejected_at,
    }
    upload_bytes(layout.rejected_reason, canonical_json(reason))
    log.warning("rejected %s into %s: %s", input_url, layout.rejected, violation)


def _result(layout: RunLayout, manifest: dict, manifest_sha256: str) -> dict:
    outputs, source = manifest["outputs"], manifest["input"]
    return {
        "manifest_url": layout.manifest,
        "manifest_sha256": manifest_sha256,
        "training_url": layout.training_folder,
        "testing_url": layout.testing_folder,
        "train_url": outputs["train"]["url"],
        "test_url": outputs["test"]["url"],
        "quarantine_url": (source.get("quarantine") or {}).get("url"),
        "rows": {"input": source["rows"], "accepted": source.get("rows_accepted", source["rows"]),
                 "quarantined": source.get("rows_quarantined", 0), "train": outputs["train"]["rows"],
                 "test": outputs["test"]["rows"]},
    }


def _timestamp(now: Callable[[], datetime] | None) -> str:
    moment = (now or (lambda: datetime.now(UTC)))().astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Stopwatch:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.last = now - self.last, now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.laps.items())
