"""The lineage manifest: what went in, what came out, with which parameters and which code."""
from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MANIFEST_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/data_prepare.py"
PACKAGES = ("pandas", "numpy", "pyarrow")


def canonical_json(obj: object) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ids_sha256(ids: np.ndarray) -> str:
    """sha256 of the sorted ids as decimal strings joined by "\\n": compare id sets without shipping them."""
    text = "\n".join(np.sort(np.asarray(ids, dtype=np.int64)).astype(str).tolist())
    return hashlib.sha256(text.encode()).hexdigest()


def positive_rate(table: pa.Table, label: str = "target") -> float:
    return float(pc.mean(table.column(label)).as_py() or 0.0) if table.num_rows else 0.0


def table_stats(table: pa.Table, *, id_column: str = "id", label: str = "target") -> dict:
    return {"rows": table.num_rows, "positive_rate": positive_rate(table, label),
            "ids_sha256": ids_sha256(table.column(id_column).to_numpy())}


def blob_stats(url: str, data: bytes) -> dict:
    return {"url": url, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state() -> dict:
    """The checkout's commit and whether its work tree differs from it; "unknown"/None without git (a
    Databricks workspace import)."""
    commit = _git("rev-parse", "HEAD")
    # --no-optional-locks: a status query must not rewrite the index of the checkout it inspects.
    status = _git("--no-optional-locks", "status", "--porcelain")
    return {"git_commit": commit.strip() if commit else "unknown",
            "git_dirty": bool(status.strip()) if status is not None else None}


def package_versions(names: tuple[str, ...]) -> dict:
    return {name: _version(name) for name in names}


def code_info(notebook: str = NOTEBOOK) -> dict:
    """Which code produced the outputs."""
    path = REPO_ROOT / notebook
    return {
        "notebook": notebook,
        "notebook_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "unknown",
        **git_state(),
        "packages": package_versions(PACKAGES),
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_manifest(*, pipeline_run_id: str, created_at: str, input_: dict, train: dict, test: dict,
                   parameters: dict, code: dict, started_at: str | None = None, trigger: dict | None = None,
                   contract_url: str | None = None) -> dict:
    """Pure assembly; `input_`/`train`/`test` are blob_stats merged with table stats. `created_at` is when the
    prep finished (the manifest is its last write), `started_at` when it began."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "pipeline_run_id": pipeline_run_id,
        "started_at": started_at,
        "created_at": created_at,
        "trigger": trigger or {},
        "input": input_,
        "outputs": {"train": train, "test": test},
        "parameters": parameters,
        "contract_url": contract_url,
        "code": code,
    }
