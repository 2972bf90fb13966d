"""`python -m infra validate`: the structural checks, then checkov; returns every problem found."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from infra import checkov as checkov_runner
from infra.checks import run_checks
from infra.errors import Problem
from infra.formatting import fmt_problems
from infra.hcl import PROJECT_ROOT, TERRAFORM_DIR, load_config

DEFAULT_SPEC = PROJECT_ROOT / "spec" / "factory.yaml"


@dataclass
class Report:
    files: int
    environments: list[str]
    problems: list[Problem]
    checkov_ran: bool


def validate(terraform_dir: Path = TERRAFORM_DIR, spec_path: Path = DEFAULT_SPEC, run_checkov: bool = True,
             checkov_bin: Path = checkov_runner.CHECKOV_BIN, skips_file: Path | None = None) -> Report:
    config, problems = load_config(terraform_dir)
    try:
        spec_data = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        spec_data = {}
        problems.append(Problem(str(spec_path), "<spec>", f"cannot be read: {exc}", "pass --spec spec/factory.yaml"))
    if not problems:  # checks assume every file parsed
        problems.extend(run_checks(config, spec_data))
    if not problems:  # layout last: on a broken structure it only adds noise
        problems.extend(fmt_problems(terraform_dir))
    ran = False
    if run_checkov and not problems:  # checkov on a broken structure only adds noise
        problems.extend(checkov_runner.run([env.path for _, env in sorted(config.environments.items())],
                                           checkov_bin, skips_file or terraform_dir / "checkov-skips.yaml"))
        ran = True
    files = len(list(terraform_dir.rglob("*.tf")))
    return Report(files, sorted(config.environments), problems, ran)
