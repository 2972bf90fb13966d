"""Retention: archived inputs, contracts, manifests and lineage records are evidence, so no pipeline may delete
from or copy into the archive dataset (data prep writes it write-once; Terraform adds a WORM policy in Azure)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.problems import Finding
from generator.validate_refs import _scopes


def _datasets(activity: dict) -> Iterator[tuple[tuple, str, str]]:
    """(path inside the activity, dataset name, what the activity does to it) for destructive uses."""
    props = activity.get("typeProperties") or {}
    if activity.get("type") == "Delete" and isinstance(props.get("dataset"), dict):
        yield ("typeProperties", "dataset"), props["dataset"].get("referenceName"), "deletes from"
    if activity.get("type") == "Copy":
        for index, output in enumerate(activity.get("outputs") or []):
            if isinstance(output, dict):
                yield ("outputs", index), output.get("referenceName"), "copies into (and may overwrite)"


def retention_findings(folder: str, body: dict, protected: set[str]) -> list[Finding]:
    if folder != "pipeline" or not protected:
        return []
    findings = []
    for activities, path in _scopes((body.get("properties") or {}).get("activities"), ("properties", "activities")):
        for index, activity in enumerate(activities):
            if not isinstance(activity, dict):
                continue
            for inner, dataset, verb in _datasets(activity):
                if dataset in protected:
                    findings.append((path + (index, *inner), (
                        f"activity {activity.get('name')!r} {verb} dataset {dataset!r}, the archive of inputs and "
                        "lineage records, which the pipeline must never change or delete (retention); point it at "
                        "another dataset")))
    return findings


def protected_datasets(spec_data: dict[str, Any]) -> set[str]:
    archive = (spec_data.get("datasets") or {}).get("archive")
    return {archive} if archive else set()
