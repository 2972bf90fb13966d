"""Apply an `arm-template-parameters-definition.json` to factory objects.

Leaf syntax `<action>:<name>:<type>`: action `=` keeps the current value as the default, `-` emits no default,
`|` marks a Key Vault secret (no default); an empty name means the property path, a name starting with `-`
shortens it to `<object>_<name>`; types string (default), securestring, int, bool, object, secureobject, array.
Under linkedServices and datasets the first key is an object *type* or `*`. `*` matches every key at one level.
A list `[rule, "a.b"]` iterates an array, naming each item by the value at path `a.b`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from generator.errors import ExportError
from generator.layout import FactoryObject

TYPES = {"string": "string", "securestring": "secureString", "int": "int", "bool": "bool",
         "object": "object", "secureobject": "secureObject", "array": "array"}

# ADF's default definition (used when a folder has no definition file), for the types this project emits.
DEFAULT_DEFINITION: dict = {
    "Microsoft.DataFactory/factories/pipelines": {},
    "Microsoft.DataFactory/factories/triggers": {
        "properties": {
            "pipelines": [{"parameters": {"*": "="}}, "pipelineReference.referenceName"],
            "pipeline": {"parameters": {"*": "="}},
            "typeProperties": {"scope": "="},
        }
    },
    "Microsoft.DataFactory/factories/linkedServices": {
        "*": {"properties": {"typeProperties": {
            "accountName": "=", "username": "=",
            "connectionString": "|:-connectionString:secureString", "secretAccessKey": "|",
        }}},
    },
    "Microsoft.DataFactory/factories/datasets": {
        "*": {"properties": {"typeProperties": {"folderPath": "=", "fileName": "="}}},
    },
}


@dataclass(frozen=True)
class TemplateParameter:
    name: str
    type: str            # ARM type: string, secureString, int, bool, object, secureObject, array
    default: Any         # None when the action emits no default
    has_default: bool
    object_name: str
    path: tuple[str, ...]  # JSON path inside the object body
    key_vault: bool = False

    @property
    def secure(self) -> bool:
        return self.type in ("secureString", "secureObject")


def parse_leaf(leaf: str, where: str) -> tuple[str, str, str]:
    parts = leaf.split(":")
    if len(parts) > 3 or parts[0] not in ("=", "-", "|"):
        raise ExportError(f"definition {where}: {leaf!r} is not `<action>:<name>:<type>` with action =, - or |")
    action, name, kind = (parts + ["", ""])[:3]
    kind = (kind or "string").lower()
    if kind not in TYPES:
        raise ExportError(f"definition {where}: type {kind!r} unknown; use one of {', '.join(TYPES)}")
    return action, name, TYPES[kind]


def _rules_for(obj: FactoryObject, definition: dict) -> dict:
    rules = definition.get(obj.resource_type, {})
    if obj.folder in ("linkedService", "dataset"):
        merged: dict = {}
        for key in ("*", obj.body.get("properties", {}).get("type", "")):
            _merge(merged, rules.get(key, {}))
        return merged
    return rules


def _merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _get_path(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def parameterize(obj: FactoryObject, definition: dict) -> tuple[dict, list[TemplateParameter]]:
    """Return the object body with parameterized values replaced by `[parameters('...')]`, and the parameters."""
    body = copy.deepcopy(obj.body)
    found: list[TemplateParameter] = []

    def leaf(container: Any, key: Any, rule: str, name_path: list[str], json_path: list[str]) -> None:
        action, name, kind = parse_leaf(rule, f"{obj.resource_type} {'.'.join(json_path)}")
        if name.startswith("-"):
            param = f"{obj.name}_{name[1:]}"
        elif name:
            param = f"{obj.name}_{name}"
        else:
            param = "_".join([obj.name, *name_path])
        current = container[key]
        keep = action == "="
        found.append(TemplateParameter(param, kind, current if keep else None, keep, obj.name,
                                       tuple(json_path), key_vault=action == "|"))
        container[key] = f"[parameters('{param}')]"

    def walk(rule: Any, node: Any, name_path: list[str], json_path: list[str]) -> None:
        if not isinstance(rule, dict) or not isinstance(node, dict):
            return
        for key, sub in rule.items():
            keys = sorted(node) if key == "*" else ([key] if key in node else [])
            for k in keys:
                apply(sub, node, k, name_path + [k], json_path + [k])

    def apply(rule: Any, container: dict, key: str, name_path: list[str], json_path: list[str]) -> None:
        value = container[key]
        if isinstance(rule, str):
            leaf(container, key, rule, name_path, json_path)
        elif isinstance(rule, list):
            if len(rule) != 2 or not isinstance(value, list):
                return
            item_rule, naming = rule
            for index, item in enumerate(value):
                label = _get_path(item, naming)
                item_name = str(label) if label is not None else str(index)
                # The array's own key is replaced by the item's name: <obj>_properties_<item>_parameters_<p>.
                walk(item_rule, item, name_path[:-1] + [item_name], json_path + [str(index)])
        else:
            walk(rule, value, name_path, json_path)

    walk(_rules_for(obj, definition), body, [], [])
    return body, found
