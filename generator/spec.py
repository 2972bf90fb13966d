"""Load the YAML spec, keeping line numbers, and validate it against its JSON Schema.

Every error names the file, the line, the dotted key and how to fix it. A key defined twice at the same
level is an error (PyYAML would silently keep the last one).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from generator.errors import SpecError, SpecErrors

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
DEFAULT_SPEC = SPEC_DIR / "factory.yaml"
SCHEMA_PATH = SPEC_DIR / "factory.schema.json"


@dataclass(frozen=True)
class Spec:
    path: Path
    data: dict[str, Any]

    @property
    def environments(self) -> dict[str, dict[str, Any]]:
        return self.data["environments"]

    @property
    def authoring_environment(self) -> str:
        return self.data["authoring_environment"]

    def environment(self, name: str) -> dict[str, Any]:
        if name not in self.environments:
            known = ", ".join(sorted(self.environments))
            raise SpecError(str(self.path), None, f"environments.{name}", f"no environment named {name!r}",
                            f"use one of: {known}, or add `{name}:` under `environments:` in the spec")
        return self.environments[name]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping key and value, and rejects duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping: dict = {}
    lines: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise SpecError(loader.name, key_node.start_mark.line + 1, str(key),
                            f"key defined twice (first on line {lines[key]})",
                            "keep one definition; environment values belong under `environments.<name>`")
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    loader.lines[id(mapping)] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(root: Any, path: list, lines_by_id: dict[int, dict]) -> int | None:
    """Line of the deepest key along `path` that exists."""
    node, line = root, None
    for part in path:
        if isinstance(node, dict) and part in node:
            line = lines_by_id.get(id(node), {}).get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
    return line


def _fix_for(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return f"add `{missing}:` here (see spec/factory.schema.json for its shape)"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        return f"remove or rename the key; allowed keys here: {allowed}"
    if error.validator == "type":
        return f"write a value of type {error.validator_value} here"
    if error.validator == "enum":
        return "use one of: " + ", ".join(map(str, error.validator_value))
    if error.validator == "pattern" and "description" in schema:
        return schema["description"]
    if "description" in schema:
        return schema["description"]
    return f"make it match the schema rule `{error.validator}: {json.dumps(error.validator_value)[:120]}`"


def _schema_errors(data: Any, file: str, lines_by_id: dict[int, dict]) -> list[SpecError]:
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        key = ".".join(map(str, path)) or "<root>"
        if error.validator == "additionalProperties":
            extra = error.message.split("'")[1]
            path, key = path + [extra], ".".join(map(str, path + [extra]))
        errors.append(SpecError(file, _line_of(data, path, lines_by_id), key, error.message, _fix_for(error)))
    return errors


def _semantic_errors(data: dict, file: str, lines_by_id: dict[int, dict]) -> list[SpecError]:
    """Cross-field rules JSON Schema cannot say."""
    errors = []

    def err(path: list, problem: str, fix: str) -> None:
        errors.append(SpecError(file, _line_of(data, path, lines_by_id), ".".join(map(str, path)), problem, fix))

    if data["authoring_environment"] not in data["environments"]:
        err(["authoring_environment"], f"{data['authoring_environment']!r} is not an environment",
            "name one of: " + ", ".join(sorted(data["environments"])))
    containers = data["storage"]["containers"]
    if data["trigger"]["container"] not in containers.values():
        err(["trigger", "container"], f"{data['trigger']['container']!r} is not one of storage.containers",
            f"use the input container ({containers['input']!r}) or add the container under storage.containers")
    if len(set(containers.values())) != len(containers):
        err(["storage", "containers"], "two roles share one container", "give each role its own container")
    names = [data["storage"]["linked_service"], *data["linked_services"].values()]
    if len(set(names)) != len(names):
        err(["linked_services"], "two linked services share one name", "give each linked service its own name")
    factory_names = [env["factory_name"] for env in data["environments"].values()]
    if len(set(factory_names)) != len(factory_names):
        err(["environments"], "two environments share one factory_name", "give each environment its own factory")
    return errors


def load_spec(path: str | Path = DEFAULT_SPEC) -> Spec:
    """Parse and validate the spec; raises SpecErrors listing every problem found."""
    path = Path(path)
    if not path.exists():
        raise SpecError(str(path), None, "<file>", "spec file not found", "pass --spec with the path to factory.yaml")
    text = path.read_text(encoding="utf-8")
    loader = _LineLoader(text)
    loader.name = str(path)
    loader.lines = {}
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise SpecErrors([SpecError(str(path), line, "<yaml>", str(exc.problem),
                                    "fix the YAML syntax at this line")]) from None
    except SpecError as exc:
        raise SpecErrors([exc]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise SpecErrors([SpecError(str(path), 1, "<root>", "the spec must be a mapping", "start from spec/factory.yaml")])
    errors = _schema_errors(data, str(path), loader.lines)
    if not errors:
        errors = _semantic_errors(data, str(path), loader.lines)
    if errors:
        raise SpecErrors(errors)
    return Spec(path=path, data=data)
