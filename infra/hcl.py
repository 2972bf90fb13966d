"""Load terraform/ with python-hcl2 into plain dicts: the environment module and each environment root."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from infra.errors import Problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = PROJECT_ROOT / "terraform"
MODULE = Path("modules") / "environment"
ENVIRONMENTS = Path("environments")
EXPECTED_ENVIRONMENTS = ("dev", "qa", "prod")

# Literal strings come back unquoted; expressions and templates keep their ${...}.
_OPTIONS = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False, preserve_heredocs=False,
                                     strip_string_quotes=True)


@dataclass
class TfDir:
    """Every block of every .tf file in one directory, merged; `files` maps block address to its file."""
    path: Path
    blocks: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def resources(self) -> dict[str, dict[str, Any]]:
        """`<type>.<name>` -> arguments."""
        found = {}
        for block in self.blocks.get("resource", []):
            for rtype, by_name in block.items():
                for name, body in by_name.items():
                    found[f"{rtype}.{name}"] = body
        return found

    def labelled(self, kind: str) -> dict[str, dict[str, Any]]:
        """Blocks with one label (variable, output, module, provider) -> their bodies."""
        found: dict[str, dict[str, Any]] = {}
        for block in self.blocks.get(kind, []):
            found.update(block)
        return found

    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for block in self.blocks.get("locals", []):
            merged.update(block)
        return merged


@dataclass
class Config:
    root: Path
    module: TfDir
    environments: dict[str, TfDir]
    tests: dict[Path, dict] = field(default_factory=dict)   # terraform/tests/*.tftest.hcl

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)


def parse_file(file: Path, problems: list[Problem]) -> dict | None:
    try:
        with file.open(encoding="utf-8") as handle:
            return hcl2.load(handle, serialization_options=_OPTIONS)
    except Exception as exc:  # python-hcl2 raises lark errors of several types
        problems.append(Problem(str(file), "<hcl>", f"does not parse: {str(exc).splitlines()[0]}",
                                "fix the HCL syntax (terraform fmt shows the place)"))
        return None


def load_dir(path: Path, problems: list[Problem]) -> TfDir:
    tf_dir = TfDir(path)
    for file in sorted(path.glob("*.tf")):
        data = parse_file(file, problems)
        if data is None:
            continue
        for kind, blocks in data.items():
            tf_dir.blocks.setdefault(kind, []).extend(blocks)
            for block in blocks:
                if isinstance(block, dict):
                    for label, body in block.items():
                        tf_dir.files[f"{kind}.{label}"] = file
                        if kind in ("resource", "data") and isinstance(body, dict):
                            for name in body:
                                tf_dir.files[f"{label}.{name}"] = file
    return tf_dir


def load_config(root: Path = TERRAFORM_DIR) -> tuple[Config, list[Problem]]:
    """Parse the module and every directory under environments/; parse errors come back as problems."""
    problems: list[Problem] = []
    module_dir = root / MODULE
    if not module_dir.is_dir():
        problems.append(Problem(str(module_dir), "<dir>", "the environment module is missing",
                                f"create {MODULE}/ with terraform.tf, variables.tf, locals.tf, main.*.tf, outputs.tf"))
    module = load_dir(module_dir, problems)
    environments = {}
    env_root = root / ENVIRONMENTS
    for env_dir in sorted(p for p in env_root.glob("*") if p.is_dir()):
        environments[env_dir.name] = load_dir(env_dir, problems)
    tests = {file: data for file in sorted((root / "tests").glob("*.tftest.hcl"))
             if (data := parse_file(file, problems)) is not None}
    return Config(root, module, environments, tests), problems
