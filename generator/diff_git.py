"""generated/ at a git ref versus the work tree, as one semantic Diff: factory objects, per-environment parameter
values and the ARM template's declared parameters. Git is only read (rev-parse, ls-tree, show)."""
from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from generator.diff import ABSENT, Diff, ParameterChange, diff_objects, json_equal
from generator.errors import GeneratorError
from generator.layout import FOLDERS

GENERATED = "generated"
TEMPLATE = "arm/ARMTemplateForFactory.json"

Files = dict[str, str]  # path under generated/ ("factory/pipeline/P.json") -> text


def _wanted(path: str) -> bool:
    parts = PurePosixPath(path).parts
    if path.endswith(".json") and len(parts) == 3:
        return (parts[0] == "factory" and parts[1] in FOLDERS) or parts[:2] == ("arm", "parameters")
    return path == TEMPLATE


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except FileNotFoundError:
        raise GeneratorError("git is not installed; diff reads generated/ at a git ref with it") from None


def files_at_ref(ref: str, root: Path) -> Files:
    """The generated/ files at `ref`, for the repository holding `root` (paths relative to root)."""
    if _git(root, "rev-parse", "--git-dir").returncode:
        raise GeneratorError(f"{root} is not inside a git repository; diff compares generated/ at a git ref with "
                             "the work tree")
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode:
        raise GeneratorError(f"BASE={ref} is not a git ref in {root}; try HEAD~1 or a branch name")
    listing = _git(root, "ls-tree", "-r", "-z", "--name-only", ref, "--", GENERATED)
    if listing.returncode:
        raise GeneratorError(f"git ls-tree {ref} failed: {listing.stderr.strip()}")
    files = {}
    for path in filter(None, listing.stdout.split("\0")):
        rel = path[len(GENERATED) + 1:]
        if _wanted(rel):
            shown = _git(root, "show", f"{ref}:./{path}")  # ./ = relative to root, like ls-tree's output
            if shown.returncode:
                raise GeneratorError(f"git show {ref}:{path} failed: {shown.stderr.strip()}")
            files[rel] = shown.stdout
    return files


def files_in_work_tree(root: Path) -> Files:
    base = Path(root) / GENERATED
    return {rel: (base / rel).read_text(encoding="utf-8")
            for rel in sorted(p.relative_to(base).as_posix() for p in base.rglob("*.json")) if _wanted(rel)}


def _load(files: Files, rel: str, where: str) -> Any:
    try:
        return json.loads(files[rel])
    except ValueError as exc:
        raise GeneratorError(f"{where}: generated/{rel} is not valid JSON ({exc}); run `make generate`") from None


def diff_files(old: Files, new: Files, old_name: str = "base", new_name: str = "work tree") -> Diff:
    """Pure: the Diff between two sets of generated/ files."""
    def objects(files: Files, where: str) -> dict:
        return {tuple(PurePosixPath(rel).with_suffix("").parts[1:]): _load(files, rel, where)
                for rel in files if rel.startswith("factory/")}

    def env_values(files: Files, where: str) -> dict[str, dict]:
        return {PurePosixPath(rel).stem: {name: entry.get("value", entry) if isinstance(entry, dict) else entry
                                          for name, entry in _load(files, rel, where).get("parameters", {}).items()}
                for rel in files if rel.startswith("arm/parameters/")}

    changes = []
    old_envs, new_envs = env_values(old, old_name), env_values(new, new_name)
    for env in sorted({*old_envs, *new_envs}):
        before, after = old_envs.get(env, {}), new_envs.get(env, {})
        pairs = ((name, before.get(name, ABSENT), after.get(name, ABSENT)) for name in sorted({*before, *after}))
        changes += [ParameterChange(f"env {env}", name, a, b) for name, a, b in pairs if not json_equal(a, b)]
    declared = [(_load(files, TEMPLATE, where).get("parameters", {}) if TEMPLATE in files else {})
                for files, where in ((old, old_name), (new, new_name))]
    changes += [ParameterChange("template", name, declared[0].get(name, ABSENT), declared[1].get(name, ABSENT))
                for name in sorted({*declared[0], *declared[1]}) if (name in declared[0]) != (name in declared[1])]
    return replace(diff_objects(objects(old, old_name), objects(new, new_name)), parameters=tuple(changes))


def diff_generated(base_ref: str, root: Path) -> Diff:
    """generated/ at `base_ref` versus the work tree; `root` is the project folder that holds generated/."""
    root = Path(root)
    return diff_files(files_at_ref(base_ref, root), files_in_work_tree(root), base_ref, "work tree")
