"""The check registry and the helpers the checks share."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.errors import Problem, line_of
from infra.hcl import Config, TfDir

CheckFn = Callable[[Config, dict], list[Problem]]


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: CheckFn


CHECKS: list[Check] = []


def check(name: str, description: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append(Check(name, description, fn))
        return fn
    return register


def run_checks(config: Config, spec_data: dict) -> list[Problem]:
    problems: list[Problem] = []
    for registered in CHECKS:
        problems.extend(registered.run(config, spec_data))
    return problems


# --- helpers -----------------------------------------------------------------------------------------------

MODULE_SOURCE = "../../modules/environment"


def make_problem(config: Config, file: Path | None, key: str, problem: str, fix: str, needle: str | None = None) -> Problem:
    file = file or config.root
    return Problem(config.rel(file), key, problem, fix, line_of(file, needle) if needle and file.is_file() else None)


def module_call(env: TfDir) -> dict[str, Any] | None:
    return env.labelled("module").get("environment")


def leaf_paths(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf argument (nested objects included), so a missing nested key shows."""
    if isinstance(value, dict) and value:
        found: set[str] = set()
        for key, sub in value.items():
            found |= leaf_paths(sub, f"{prefix}.{key}" if prefix else key)
        return found
    return {prefix}


def attribute(body: dict, path: str) -> Any:
    node: Any = body
    for part in path.split("."):
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def flatten(value: Any, path: str = ""):
    """(dotted path, scalar) for every scalar under value."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from flatten(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from flatten(sub, f"{path}[{index}]")
    else:
        yield path, value
