"""Write `terraform output -json` into the spec's `environments.<env>`: plan the changes, then apply them.

The spec keeps its comments and layout: the new values replace only the text of the scalars they change
(positions from PyYAML's composer), and the edited spec must pass `generator.spec.load_spec` before it is
written.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.errors import OutputsError


@dataclass(frozen=True)
class SpecField:
    output: str          # Terraform output name (modules/environment/outputs.tf)
    spec_key: str        # dotted path under environments.<env>


# What the generator needs from Terraform. databricks.cluster_id and azure_ml.management_uri are not here:
# the azurerm provider creates no clusters, and the management URI is the cloud's, not the environment's.
SPEC_FIELDS: tuple[SpecField, ...] = (
    SpecField("data_factory_name", "factory_name"),
    SpecField("storage_account_id", "storage.account_id"),
    SpecField("storage_blob_endpoint", "storage.blob_endpoint"),
    SpecField("databricks_workspace_url", "databricks.domain"),
    SpecField("databricks_workspace_id", "databricks.workspace_resource_id"),
    SpecField("subscription_id", "azure_ml.subscription_id"),
    SpecField("resource_group_name", "azure_ml.resource_group"),
    SpecField("machine_learning_workspace_name", "azure_ml.workspace"),
    SpecField("training_endpoint_uri", "azure_ml.training_endpoint_uri"),
    SpecField("training_compute_name", "azure_ml.training_compute"),
)


@dataclass(frozen=True)
class Change:
    key: str             # full dotted path in the spec
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.key}: {self.old!r} -> {self.new!r}"


def read_outputs(text: str, source: str) -> dict[str, Any]:
    """`terraform output -json` text -> {output name: value}."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputsError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})\n"
                           "  fix: pass the file written by `terraform output -json > outputs.json`") from None
    if not isinstance(data, dict):
        raise OutputsError(f"{source}: expected a JSON object of outputs, found {type(data).__name__}\n"
                           "  fix: pass the file written by `terraform output -json`")
    values, malformed = {}, []
    for name, entry in data.items():
        if isinstance(entry, dict) and "value" in entry:
            values[name] = entry["value"]
        else:
            malformed.append(name)
    if malformed:
        raise OutputsError(f"{source}: output(s) {', '.join(sorted(malformed))} have no \"value\"\n"
                           "  fix: use `terraform output -json` (all outputs), not `terraform output -json <name>`")
    missing = [f.output for f in SPEC_FIELDS if values.get(f.output) in (None, "")]
    if missing:
        raise OutputsError(f"{source}: missing output(s) {', '.join(missing)}\n"
                           "  fix: run `terraform apply` in terraform/environments/<env> (the outputs exist after "
                           "an apply), then `terraform output -json` again")
    return values


def _env_node(root: yaml.Node, env: str, spec_path: Path) -> yaml.MappingNode:
    environments = _child(root, "environments")
    node = _child(environments, env) if environments is not None else None
    if node is None:
        raise OutputsError(f"{spec_path}: environments.{env}: no such environment\n"
                           f"  fix: add `{env}:` under `environments:` (copy qa's block), then run this again")
    return node


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return None


def plan(spec_text: str, spec_path: Path, env: str, outputs: dict[str, Any]) -> list[tuple[Change, yaml.ScalarNode]]:
    """The scalars to rewrite, with their nodes; no side effects."""
    root = yaml.compose(spec_text, Loader=yaml.SafeLoader)
    env_node = _env_node(root, env, spec_path)
    target = _child(env_node, "target")
    if target is None or target.value != "azure":
        raise OutputsError(f"{spec_path}: environments.{env}.target is "
                           f"{target.value if target is not None else 'missing'!r}, not 'azure'\n"
                           "  fix: Terraform provisions Azure environments only; pick dev, qa or prod")
    if not str(outputs["resource_group_name"]).endswith(f"-{env}"):
        raise OutputsError(f"resource group {outputs['resource_group_name']!r} is not the {env} environment's "
                           f"(its names end with -{env})\n  fix: pass the outputs of terraform/environments/{env}, "
                           "or the matching --env")
    changes = []
    for field in SPEC_FIELDS:
        node: yaml.Node | None = env_node
        for part in field.spec_key.split("."):
            node = _child(node, part)
        key = f"environments.{env}.{field.spec_key}"
        if not isinstance(node, yaml.ScalarNode):
            raise OutputsError(f"{spec_path}: {key}: not found\n  fix: add it to the environment (see qa's block)")
        new = str(outputs[field.output])
        if field.output == "storage_blob_endpoint":
            new = new.rstrip("/")
        old = yaml.safe_load(yaml.serialize(node))
        if old != new:
            changes.append((Change(key, old, new), node))
    return changes


def _render(value: str, node: yaml.ScalarNode) -> str:
    """Plain scalar when it reads back identically (and the old one was plain), else double-quoted."""
    if node.style is None:
        try:
            if yaml.safe_load(f"k: {value}  # c\n") == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value)


def apply(spec_text: str, changes: list[tuple[Change, yaml.ScalarNode]]) -> str:
    text = spec_text
    for change, node in sorted(changes, key=lambda c: c[1].start_mark.index, reverse=True):
        start, end = node.start_mark.index, node.end_mark.index
        text = text[:start] + _render(change.new, node) + text[end:]
    return text


def outputs_to_spec(spec_path: Path, env: str, outputs_text: str, outputs_source: str,
                    write: bool = True) -> list[Change]:
    """Plan, validate the result with the generator's loader, and (if write) replace the spec atomically."""
    from generator.errors import GeneratorError
    from generator.spec import load_spec

    outputs = read_outputs(outputs_text, outputs_source)
    spec_text = spec_path.read_text(encoding="utf-8")
    planned = plan(spec_text, spec_path, env, outputs)
    if not planned:
        return []
    new_text = apply(spec_text, planned)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=spec_path.parent, delete=False,
                                     encoding="utf-8") as handle:
        handle.write(new_text)
    try:
        try:
            load_spec(handle.name)
        except GeneratorError as exc:
            message = str(exc).replace(handle.name, str(spec_path))
            raise OutputsError(f"the outputs would make the spec invalid; nothing written:\n{message}") from None
        if write:
            os.replace(handle.name, spec_path)
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
    return [change for change, _ in planned]
