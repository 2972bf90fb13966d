"""Export an ADF git folder to ARM the way ADF's publish does (ARMTemplateForFactory.json + parameters).

Works on any folder in ADF's git layout: resource names `[concat(parameters('factoryName'), '/<name>')]`,
apiVersion 2018-06-01, `dependsOn` on every referenced object present in the factory, parameters from the
custom-parameter definition (ADF's default definition when the folder has none).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from generator.definition import DEFAULT_DEFINITION, TemplateParameter, parameterize
from generator.errors import ExportError
from generator.layout import FOLDERS, FactoryObject

TEMPLATE_SCHEMA = "http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#"
PARAMETERS_SCHEMA = "https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#"
API_VERSION = "2018-06-01"
LIMITS = {"parameters": 256, "resources": 800, "template_bytes": 4 * 1024 * 1024}

# Reference object type -> git folder of the referenced object.
REFERENCE_FOLDERS = {
    "LinkedServiceReference": "linkedService",
    "DatasetReference": "dataset",
    "PipelineReference": "pipeline",
    "DataFlowReference": "dataflow",
    "IntegrationRuntimeReference": "integrationRuntime",
    "CredentialReference": "credential",
}
# Deployment order: what others depend on first.
ORDER = ["integrationRuntime", "linkedService", "credential", "dataset", "dataflow", "pipeline", "trigger"]


@dataclass(frozen=True)
class ArmExport:
    template: dict
    parameters: list[TemplateParameter]
    factory_name: str

    def parameters_file(self, values: dict[str, Any] | None = None) -> dict:
        """`ARMTemplateParametersForFactory.json`: every parameter with a value (defaults unless overridden)."""
        values = values or {}
        body: dict[str, Any] = {"factoryName": {"value": values.get("factoryName", self.factory_name)}}
        for p in self.parameters:
            if p.name in values:
                body[p.name] = values[p.name] if isinstance(values[p.name], dict) and "reference" in values[p.name] \
                    else {"value": values[p.name]}
            elif p.has_default:
                body[p.name] = {"value": p.default}
            else:
                raise ExportError(f"parameter {p.name} has no default and no value; supply it "
                                  f"(a Key Vault reference for secrets) in the environment's parameters")
        return {"$schema": PARAMETERS_SCHEMA, "contentVersion": "1.0.0.0", "parameters": body}


def _references(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        folder = REFERENCE_FOLDERS.get(node.get("type")) if "referenceName" in node else None
        if folder and isinstance(node["referenceName"], str):
            yield folder, node["referenceName"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _sorted_objects(objects: list[FactoryObject]) -> list[FactoryObject]:
    known = set(ORDER)
    unknown = sorted({o.folder for o in objects} - known)
    if unknown:
        raise ExportError(f"cannot export objects of folder(s) {unknown} yet")
    return sorted(objects, key=lambda o: (ORDER.index(o.folder), o.name.lower()))


def export(objects: list[FactoryObject], definition: dict | None, factory_name: str) -> ArmExport:
    definition = DEFAULT_DEFINITION if definition is None else definition
    present = {(o.folder, o.name) for o in objects}
    params: list[TemplateParameter] = []
    resources = []
    for obj in _sorted_objects(objects):
        body, found = parameterize(obj, definition)
        params.extend(found)
        depends = []
        for folder, name in _references(obj.body.get("properties", {})):
            ref = f"[concat(variables('factoryId'), '/{FOLDERS[folder]}/{name}')]"
            if (folder, name) in present and ref not in depends:
                depends.append(ref)
        resources.append({
            "name": f"[concat(parameters('factoryName'), '/{obj.name}')]",
            "type": obj.resource_type,
            "apiVersion": API_VERSION,
            "properties": body.get("properties", {}),
            "dependsOn": depends,
        })
    names = [p.name for p in params]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ExportError(f"two properties map to the same ARM parameter name(s) {duplicates}; "
                          "give them distinct names in arm-template-parameters-definition.json")
    template_params: dict[str, Any] = {"factoryName": {"type": "string", "metadata": "Data Factory name",
                                                       "defaultValue": factory_name}}
    for p in params:
        entry: dict[str, Any] = {"type": p.type}
        if p.secure:
            prop = p.path[-1]
            entry["metadata"] = f"Secure string for '{prop}' of '{p.object_name}'"
        elif p.has_default:
            entry["defaultValue"] = p.default
        template_params[p.name] = entry
    template = {
        "$schema": TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": template_params,
        "variables": {"factoryId": "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]"},
        "resources": resources,
    }
    _check_limits(template, len(template_params))
    return ArmExport(template, params, factory_name)


def _check_limits(template: dict, parameter_count: int) -> None:
    import json

    size = len(json.dumps(template).encode())
    for what, count in (("parameters", parameter_count), ("resources", len(template["resources"])),
                        ("template_bytes", size)):
        if count > LIMITS[what]:
            raise ExportError(f"the ARM template has {count} {what.replace('_', ' ')}, over ARM's limit of "
                              f"{LIMITS[what]}; split the factory or parameterize less (linked templates come "
                              "with the generator-fidelity work)")


def strip_defaults(template: dict) -> dict:
    """The template without parameter defaults: what must be identical across environments."""
    out = dict(template)
    out["parameters"] = {k: {kk: vv for kk, vv in v.items() if kk != "defaultValue"}
                         for k, v in template["parameters"].items()}
    return out
