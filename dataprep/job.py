"""The data-prepare job: download, check, archive, split, write, record. The only module that does I/O.

Order matters: nothing reaches training/testing/archive before the contract check passes, and the
manifest is written last and write-once, so its presence means the run's outputs are complete.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from azure.core.exceptions import ResourceNotFoundError

from dataprep.contract import check_csv
from dataprep.errors import ContractViolation, InputNotFound, ParameterError, RunConflict
from dataprep.layout import Containers, RunLayout, input_blob_url
from dataprep.manifest import blob_stats, build_manifest, canonical_json, code_info, positive_rate, table_stats
from dataprep.parquet import to_parquet_bytes
from dataprep.split import split_table
from storage.blobs import container_client, download_bytes, parse_blob_url, sha256_hex, upload_bytes, upload_once
from dataprep.columns import ColumnSpec

__all__ = ["Containers", "input_blob_url", "prepare", "widget_float", "widget_int"]

log = logging.getLogger(__name__)
STRATIFY_ON = "target"
OUTPUT_FORMAT = "parquet"


def prepare(input_url: str, *, pipeline_run_id: str, storage_account_url: str, containers: Containers,
            test_fraction: float = 0.2, split_seed: int, columns: Sequence[ColumnSpec] | None = None,
            now: Callable[[], datetime] | None = None, code: dict | None = None) -> dict:
    """Prepare one delivered CSV; returns the notebook exit value. Raises ContractViolation for a bad file.

    A retry with the same run id and the same bytes returns the stored run's result without writing.
    `columns`, `now` and `code` exist for tests; by default the contract TSV, the clock and git are used.
    """
    layout = RunLayout(storage_account_url, containers, pipeline_run_id, parse_blob_url(input_url).path.rsplit("/", 1)[-1])
    parameters = _parameters(test_fraction, split_seed)
    clock = _Stopwatch()
    data = _download_input(input_url)
    digest = sha256_hex(data)
    clock.lap("download")
    if (stored := _download_optional(layout.manifest)) is not None:
        return _replay(stored, layout, digest, parameters)

    try:
        table = check_csv(data, columns, source=layout.file_name)
    except ContractViolation as violation:
        _reject(layout, input_url, data, digest, violation, _timestamp(now))
        raise
    clock.lap("contract")

    archived_url = layout.archived_input(digest)
    if not _archive_once(archived_url, data, pipeline_run_id):
        log.info("input already archived at %s (re-delivery of the same bytes)", archived_url)
    clock.lap("archive")
    train, test = split_table(table, test_fraction=test_fraction, seed=split_seed, stratify_on=STRATIFY_ON)
    train_bytes, test_bytes = to_parquet_bytes(train), to_parquet_bytes(test)
    clock.lap("split")
    upload_bytes(layout.train, train_bytes)
    upload_bytes(layout.test, test_bytes)
    clock.lap("upload")

    manifest = build_manifest(
        pipeline_run_id=pipeline_run_id,
        created_at=_timestamp(now),
        input_={**blob_stats(input_url, data), "archived_url": archived_url, "rows": table.num_rows,
                "positive_rate": positive_rate(table, STRATIFY_ON), "columns": table.column_names},
        train={**blob_stats(layout.train, train_bytes), **table_stats(train, label=STRATIFY_ON)},
        test={**blob_stats(layout.test, test_bytes), **table_stats(test, label=STRATIFY_ON)},
        parameters=parameters,
        code=code if code is not None else code_info(),
    )
    body = canonical_json(manifest)
    if not upload_once(layout.manifest, body):
        # A concurrent attempt of this run finished first; its manifest is the record.
        return _replay(download_bytes(layout.manifest), layout, digest, parameters)
    clock.lap("manifest")
    log.info("prepared %s: %d rows -> %d train / %d test (%s)", input_url, table.num_rows, train.num_rows,
             test.num_rows, clock)
    return _result(layout, manifest, sha256_hex(body))


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


def _parameters(test_fraction: float, split_seed: int) -> dict:
    # Checked before any I/O so that a bad parameter leaves no trace in storage.
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ParameterError(f"test_fraction must be a number strictly between 0 and 1, got {test_fraction!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, int):
        raise ParameterError(f"split_seed must be an integer, got {split_seed!r}")
    return {"test_fraction": float(test_fraction), "split_seed": split_seed, "stratify_on": STRATIFY_ON,
            "output_format": OUTPUT_FORMAT}


def _download_input(url: str) -> bytes:
    try:
        return download_bytes(url)
    except ResourceNotFoundError:
        raise InputNotFound(f"input blob {url} does not exist; check that the trigger's folderPath/fileName "
                            "(input_folder_path, input_file_name) name an existing blob") from None


def _archive_once(url: str, data: bytes, pipeline_run_id: str) -> bool:
    """Write-once; False when the object exists. The existence probe saves re-sending ~100 MB on re-delivery,
    upload_once still settles a race between two runs archiving the same bytes."""
    address = parse_blob_url(url)
    if container_client(address.account_url, address.container).get_blob_client(address.path).exists():
        return False
    return upload_once(url, data, metadata={"pipeline_run_id": pipeline_run_id})


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


def _reject(layout: RunLayout, input_url: str, data: bytes, digest: str, violation: ContractViolation,
            rejected_at: str) -> None:
    # Overwrite, not write-once: a retried activity re-rejects the same bytes into the same place.
    upload_bytes(layout.rejected, data)
    reason = {
        "reason": str(violation),
        "problems": [problem.to_dict() for problem in violation.problems],
        "unreported_problems": violation.unreported,
        "input_url": input_url,
        "rejected_url": layout.rejected,
        "sha256": digest,
        "bytes": len(data),
        "pipeline_run_id": layout.pipeline_run_id,
        "rejected_at": rejected_at,
    }
    upload_bytes(layout.rejected_reason, canonical_json(reason))
    log.warning("rejected %s into %s: %s", input_url, layout.rejected, violation)


def _result(layout: RunLayout, manifest: dict, manifest_sha256: str) -> dict:
    outputs = manifest["outputs"]
    return {
        "manifest_url": layout.manifest,
        "manifest_sha256": manifest_sha256,
        "training_url": layout.training_folder,
        "testing_url": layout.testing_folder,
        "train_url": outputs["train"]["url"],
        "test_url": outputs["test"]["url"],
        "rows": {"input": manifest["input"]["rows"], "train": outputs["train"]["rows"],
                 "test": outputs["test"]["rows"]},
    }


def _timestamp(now: Callable[[], datetime] | None) -> str:
    moment = (now or (lambda: datetime.now(timezone.utc)))().astimezone(timezone.utc)
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
