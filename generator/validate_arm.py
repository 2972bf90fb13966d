"""Checks of the ARM export: every `[...]` expression parses and uses only declared parameters and variables;
every parameters file sets only declared parameters, and every parameter that has no default."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.problems import Finding, near, walk
from local_runtime.arm import Literal, calls, is_expression, parse
from local_runtime.errors import DeployError


def template_findings(template: Any) -> Iterator[Finding]:
    if not isinstance(template, dict):
        yield (), "an ARM template is a JSON object with parameters, variables and resources"
        return
    declared = {"parameters": template.get("parameters") or {}, "variables": template.get("variables") or {}}
    for path, value in walk(template):
        if not is_expression(value):
            continue
        try:
            tree = parse(value[1:-1])
        except DeployError as error:
            yield path, str(error)
            continue
        for call in calls(tree):
            kind = call.name.lower()
            if kind not in declared or len(call.args) != 1 or not isinstance(call.args[0], Literal):
                continue
            name = call.args[0].value
            if name not in declared[kind]:
                yield path, (f"{value} uses {kind}('{name}'), which the template does not declare"
                             f"{near(name, declared[kind], f'declared {kind}')}; declare it under {kind} or fix "
                             "the name")


def parameters_file_findings(parameters_file: Any, template: dict, template_name: str) -> Iterator[Finding]:
    values = parameters_file.get("parameters") if isinstance(parameters_file, dict) else None
    if not isinstance(values, dict):
        yield (), "a parameters file is a JSON object whose `parameters` maps names to {\"value\": ...}"
        return
    declared = template.get("parameters") or {}
    for name, entry in values.items():
        if name not in declared:
            yield ("parameters", name), (f"sets {name!r}, which {template_name} does not declare"
                                         f"{near(name, declared)}; remove it or regenerate both with `make generate`")
        elif not (isinstance(entry, dict) and ("value" in entry or "reference" in entry)):
            yield ("parameters", name), ('expected {"value": ...} or a Key Vault {"reference": ...}; '
                                         f"found {entry!r}")
    for name, spec in declared.items():
        if name not in values and "defaultValue" not in (spec or {}):
            yield ("parameters",), (f"does not set {name!r}, which {template_name} declares without a default; "
                                    "set it here or give it a defaultValue")
