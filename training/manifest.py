"""The data-prep lineage manifest: parse it and check bytes against the hashes it records (pure functions)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from training.errors import IntegrityError, ManifestError

SUPPORTED_MANIFEST_VERSIONS = (1,)
SPLITS = ("train", "test")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class OutputRef:
    """One data-prep output as the manifest describes it."""

    name: str
    url: str
    sha256: str
    rows: int
    positive_rate: float | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class Manifest:
    url: str
    sha256: str  # of the manifest bytes themselves
    raw: bytes
    pipeline_run_id: str
    input_sha256: str
    input_url: str
    train: OutputRef
    test: OutputRef
    parameters: dict[str, Any]
    code: dict[str, Any]

    @property
    def git_commit(self) -> str:
        return str(self.code.get("git_commit", ""))


def verify_sha256(what: str, data: bytes, expected: str) -> str:
    """Return the sha256 of ``data``; raise ``IntegrityError`` naming ``what`` when it is not ``expected``."""
    actual = sha256_hex(data)
    if actual != expected.lower():
        raise IntegrityError(
            f"{what}: sha256 mismatch, expected {expected.lower()} (from the manifest) but the blob hashes to "
            f"{actual}; the data changed after data-prep wrote the manifest - rerun data-prep instead of training "
            f"on unproven data"
        )
    return actual


def check_manifest_hash(url: str, data: bytes, expected: str | None) -> str:
    """The manifest's own hash; refuse it when the caller pinned a different one."""
    actual = sha256_hex(data)
    if expected is not None and actual != expected.strip().lower():
        raise ManifestError(
            f"manifest {url}: sha256 mismatch, expected {expected.strip().lower()} (given by the caller) but the "
            f"manifest hashes to {actual}; the manifest was rewritten or the wrong run was passed"
        )
    return actual


def _require(node: Any, path: str, kind: type | tuple[type, ...], url: str) -> Any:
    value: Any = node
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ManifestError(f"manifest {url}: missing required key {path!r}")
        value = value[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ManifestError(f"manifest {url}: key {path!r} should be {names}, found {type(value).__name__}")
    if isinstance(value, str) and not value:
        raise ManifestError(f"manifest {url}: key {path!r} is empty")
    return value


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value.lower())


def _output(doc: dict, name: str, url: str) -> OutputRef:
    prefix = f"outputs.{name}"
    sha = _require(doc, f"{prefix}.sha256", str, url)
    if not _is_sha256(sha):
        raise ManifestError(f"manifest {url}: {prefix}.sha256 is not a hex sha256: {sha!r}")
    node = doc["outputs"][name]
    rate = node.get("positive_rate")
    return OutputRef(
        name=name,
        url=_require(doc, f"{prefix}.url", str, url),
        sha256=sha.lower(),
        rows=_require(doc, f"{prefix}.rows", int, url),
        positive_rate=float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None,
        bytes=node.get("bytes") if isinstance(node.get("bytes"), int) else None,
    )


def parse_manifest(url: str, data: bytes) -> Manifest:
    """Parse and validate manifest bytes; every error names the manifest and the key."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"manifest {url}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"manifest {url}: expected a JSON object, found {type(doc).__name__}")
    version = _require(doc, "manifest_version", int, url)
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise ManifestError(
            f"manifest {url}: manifest_version {version} is not supported (supported: {SUPPORTED_MANIFEST_VERSIONS})"
        )
    input_sha = _require(doc, "input.sha256", str, url)
    if not _is_sha256(input_sha):
        raise ManifestError(f"manifest {url}: input.sha256 is not a hex sha256: {input_sha!r}")
    parameters = doc.get("parameters", {})
    code = doc.get("code", {})
    if not isinstance(parameters, dict) or not isinstance(code, dict):
        raise ManifestError(f"manifest {url}: 'parameters' and 'code' must be objects")
    return Manifest(
        url=url,
        sha256=sha256_hex(data),
        raw=data,
        pipeline_run_id=_require(doc, "pipeline_run_id", str, url),
        input_sha256=input_sha.lower(),
        input_url=str(doc["input"].get("archived_url") or doc["input"].get("url") or ""),
        train=_output(doc, "train", url),
        test=_output(doc, "test", url),
        parameters=parameters,
        code=code,
    )
