"""Run checkov (its own virtualenv, offline) on each environment and hold it to terraform/checkov-skips.yaml.

Each environment root is scanned on its own so checkov resolves that environment's variable values
(dev's LRS and prod's GZRS give different results). A failure passes only when a skip names its check
(and, if the skip says so, its environment and resource) with a reason; a skip that matches nothing is an
error too, so the file stays true.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.errors import Problem
from infra.hcl import PROJECT_ROOT

CHECKOV_VERSION = "3.2.533"
CHECKOV_BIN = PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS_FILE = PROJECT_ROOT / "terraform" / "checkov-skips.yaml"
INSTALL_HINT = (f"python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov=={CHECKOV_VERSION} "
                "(`make infra-validate` does it)")
_CHECK_ID = re.compile(r"CKV2?_[A-Z0-9]+_\d+")


@dataclass(frozen=True)
class Failure:
    environment: str
    check_id: str
    check_name: str
    resource: str        # address inside the module, e.g. azurerm_storage_account.data
    file: str
    line: int | None


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    environments: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None

    def matches(self, failure: Failure) -> bool:
        return (failure.check_id == self.check_id
                and (self.environments is None or failure.environment in self.environments)
                and (self.resources is None or failure.resource in self.resources))


def load_skips(path: Path = SKIPS_FILE) -> tuple[list[Skip], list[Problem]]:
    problems: list[Problem] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return [], [Problem(str(path), "<file>", f"cannot be read: {exc}", "restore terraform/checkov-skips.yaml")]
    skips = []
    for index, entry in enumerate(data.get("skips") or []):
        key = f"skips[{index}]"
        if not isinstance(entry, dict):
            problems.append(Problem(str(path), key, "is not a mapping", "write `- id: ...` and `reason: ...`"))
            continue
        check_id, reason = str(entry.get("id", "")), str(entry.get("reason", "") or "").strip()
        if not _CHECK_ID.fullmatch(check_id):
            problems.append(Problem(str(path), key, f"id {check_id!r} is not a checkov check id",
                                    "use the id checkov prints, e.g. CKV_AZURE_59"))
            continue
        if len(reason) < 20:
            problems.append(Problem(str(path), f"{key} ({check_id})", "has no real reason",
                                    "say why the check does not apply or what replaces it"))
        envs, resources = entry.get("environments"), entry.get("resources")
        skips.append(Skip(check_id, reason, tuple(envs) if envs else None, tuple(resources) if resources else None))
    return skips, problems


def _failures(report: dict | list, environment_dir: Path) -> tuple[list[Failure], int, int]:
    """(failures, parsing errors, resources scanned) of one checkov JSON report."""
    reports = report if isinstance(report, list) else [report]
    failures, parsing_errors, resources = [], 0, 0
    for part in reports:
        if part.get("check_type") not in (None, "terraform"):
            continue
        parsing_errors += int(part.get("summary", {}).get("parsing_errors", 0))
        resources += int(part.get("summary", {}).get("resource_count", 0))
        for item in part.get("results", {}).get("failed_checks", []):
            resource = re.sub(r"^(module\.[^.]+\.)+", "", item.get("resource", ""))
            lines = item.get("file_line_range") or [None]
            file = (environment_dir / item.get("file_path", "").lstrip("/")).resolve()
            try:
                shown = str(file.relative_to(PROJECT_ROOT))
            except ValueError:
                shown = str(file)
            failures.append(Failure(environment_dir.name, item["check_id"], item.get("check_name", ""), resource,
                                    shown, lines[0]))
    return failures, parsing_errors, resources


def scan(environment_dir: Path, checkov: Path = CHECKOV_BIN) -> tuple[list[Failure], int, int]:
    """Run checkov on one environment root; offline (no policy download, no guideline mapping)."""
    environment_dir = environment_dir.resolve()
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    proc = subprocess.run(
        [str(checkov), "--directory", str(environment_dir), "--framework", "terraform", "--skip-download",
         "--quiet", "--compact", "--output", "json"],
        capture_output=True, text=True, timeout=600, env=env, cwd=environment_dir)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return _failures(json.loads(proc.stdout or "{}"), environment_dir)


def evaluate(failures: list[Failure], skips: list[Skip], skips_file: Path = SKIPS_FILE) -> list[Problem]:
    """Failures no skip covers, and skips no failure uses."""
    problems = []
    used: set[int] = set()
    for failure in failures:
        matching = [i for i, skip in enumerate(skips) if skip.matches(failure)]
        used.update(matching)
        if not matching:
            problems.append(Problem(failure.file, f"{failure.resource} {failure.check_id} ({failure.environment})",
                                    f"checkov: {failure.check_name}",
                                    f"fix the resource, or add `- id: {failure.check_id}` with a reason to "
                                    f"{skips_file.name} (scope it with environments:/resources: if it only "
                                    "applies there)", failure.line))
    for index, skip in enumerate(skips):
        if index not in used:
            problems.append(Problem(str(skips_file), f"skips[{index}] ({skip.check_id})",
                                    "matches no failed check any more", "delete the entry"))
    return problems


def run(environment_dirs: list[Path], checkov: Path = CHECKOV_BIN, skips_file: Path = SKIPS_FILE) -> list[Problem]:
    if not checkov.exists():
        return [Problem(str(checkov), "<checkov>", "checkov is not installed", INSTALL_HINT)]
    skips, problems = load_skips(skips_file)
    with ThreadPoolExecutor(max_workers=max(1, len(environment_dirs))) as pool:
        results = list(pool.map(lambda d: scan(d, checkov), environment_dirs))
    failures = []
    for env_dir, (found, parsing_errors, resources) in zip(environment_dirs, results):
        failures.extend(found)
        if not resources:  # an empty scan passes every check: never let that look like success
            problems.append(Problem(str(env_dir), "<checkov>", "checkov found no resources to scan",
                                    "check the directory holds the environment's main.tf and its module source"))
        if parsing_errors:
            problems.append(Problem(str(env_dir), "<checkov>", f"checkov could not parse {parsing_errors} file(s)",
                                    f"run {checkov} -d {env_dir} --framework terraform to see which"))
    return problems + evaluate(failures, skips, skips_file)
