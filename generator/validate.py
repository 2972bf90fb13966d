"""`make validate`: every check of a generated/ folder, as problems that name the file and the JSON path.

    problems = validate_generated(Path("generated"))
    print("\\n".join(format_problems(problems)))

Checked: each ADF object of `factory/` against the SDK models (sdk_check), the references, dependencies and
expressions between objects (validate_refs), and the ARM template(s) and parameters files of `arm/`
(validate_arm). Nothing is written and nothing raises for a broken input: everything becomes a Problem.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.layout import FOLDERS
from generator.problems import Problem, format_problems, located
from generator.sdk_check import sdk_findings
from generator.validate_arm import parameters_file_findings, template_findings
from generator.validate_refs import reference_findings
from generator.validate_retention import retention_findings

__all__ = ["Problem", "validate_generated", "format_problems"]

TEMPLATE = "ARMTemplateForFactory.json"
EXPORT_PARAMETERS = "ARMTemplateParametersForFactory.json"
LINKED_TEMPLATE_PREFIX, LINKED_PARAMETERS_PREFIX = "ArmTemplate_", "ArmTemplateParameters_"


class _Reader:
    """Reads JSON files under root and collects every problem in the order found; a file that cannot be
    read becomes a problem, not an exception."""

    def __init__(self, root: Path):
        self.root, self.problems = root, []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def load(self, path: Path) -> Any:
        if not path.is_file():
            why = "is a folder, expected a JSON file" if path.is_dir() else "file is missing; run `make generate`"
            self.problems.append(Problem(self.rel(path), "$", why))
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            where = f" at line {error.lineno}, column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
            message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            self.problems.append(Problem(self.rel(path), "$", f"not valid JSON: {message}{where}"))
            return None


def _factory_objects(reader: _Reader, factory: Path) -> list[tuple[str, str, dict]]:
    """(folder, relative file, body) of every object file whose shape lets the other checks run."""
    objects = []
    for folder in FOLDERS:
        for path in sorted((factory / folder).glob("*.json")):
            body = reader.load(path)
            if body is None:
                continue
            if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
                reader.problems.append(Problem(reader.rel(path), "$", 'expected {"name": ..., "properties": {...}}'))
            elif body.get("name") != path.stem:
                reader.problems.append(Problem(reader.rel(path), "name", (
                    f"object name {body.get('name')!r} differs from the file name; ADF requires them equal: "
                    f"rename the file or the object")))
            else:
                objects.append((folder, reader.rel(path), body))
    return objects


def _check_arm(reader: _Reader, arm: Path) -> None:
    problems = reader.problems
    # (template, parameters files checked against it)
    pairs = [(arm / TEMPLATE, [arm / EXPORT_PARAMETERS, *sorted((arm / "parameters").glob("*.json"))])]
    for linked in sorted((arm / "linkedTemplates").glob(f"{LINKED_TEMPLATE_PREFIX}*.json")):
        suffix = linked.name[len(LINKED_TEMPLATE_PREFIX):]
        parameters = linked.with_name(LINKED_PARAMETERS_PREFIX + suffix)
        pairs.append((linked, [parameters] if parameters.exists() else []))
    for template_path, parameter_paths in pairs:
        template = reader.load(template_path)
        if template is None:
            continue
        problems += located(reader.rel(template_path), list(template_findings(template)))
        if not isinstance(template, dict):
            continue
        for path in parameter_paths:
            values = reader.load(path)
            if values is not None:
                findings = parameters_file_findings(values, template, template_path.name)
                problems += located(reader.rel(path), list(findings))


def validate_generated(root: Path, protected_datasets: set[str] = frozenset()) -> list[Problem]:
    """Every problem of a generated/ folder (`factory/` git layout + `arm/` export); empty when valid.
    `protected_datasets` (the spec's archive) may not be deleted from or copied into by any pipeline."""
    reader = _Reader(Path(root))
    factory = reader.root / "factory"
    if not factory.is_dir():
        return [Problem("factory", "$", f"{factory} is not a folder; run `make generate`")]
    objects = _factory_objects(reader, factory)
    inventory: dict[str, dict[str, dict]] = {}
    for folder, _, body in objects:
        inventory.setdefault(folder, {})[body["name"]] = body
    for folder, file, body in objects:
        reader.problems += located(file, sdk_findings(folder, body) + reference_findings(folder, body, inventory)
                                   + retention_findings(folder, body, set(protected_datasets)))
    _check_arm(reader, reader.root / "arm")
    return reader.problems
