"""Linked templates for a factory past ARM's resource or size limit, in the shape ADF's export writes them.

Microsoft, "Linked Resource Manager templates with CI/CD": `linkedTemplates/ArmTemplate_master.json` deploys
`ArmTemplate_0.json`, `ArmTemplate_1.json`, ... from a storage container given by the `containerUri` and
`containerSasToken` parameters. Shape checked against real exports (alesaez/adf-cicd, Terminator-Aaron/adf_publish):
one `Microsoft.Resources/deployments` per child, named `<factory>_ArmTemplate_<n>`, passing `factoryName` and
the parameters that child uses, each depending on the previous one; children order resources by dependency level
(what nothing depends on first), keeping the full template's order within a level.

The parameter limit is not solved this way: the master declares every parameter (plus the two container ones).
"""
from __future__ import annotations

import re

from generator import arm_export
from generator.arm_export import ArmExport, Limits, check_parameter_limit, dependency_levels, serialized_size
from generator.errors import ExportError
from generator.layout import dumps

FOLDER = "linkedTemplates"
MASTER = f"{FOLDER}/ArmTemplate_master.json"
MASTER_PARAMETERS = f"{FOLDER}/ArmTemplateParameters_master.json"
DEPLOYMENTS_API_VERSION = "2024-03-01"  # what the newest real export uses (alesaez/adf-cicd, 2025)
CONTAINER_PARAMETERS = {
    "containerUri": {"type": "string", "metadata": "URI to storage account containing linked ARM templates"},
    "containerSasToken": {"type": "string", "metadata": "Sas token to storage account containing linked ARM templates"},
}
_PARAMETER_USE = re.compile(r"parameters\('([^']+)'\)")


def over_limits(template: dict, limits: Limits) -> list[str]:
    """Why the single template cannot be deployed as it is (empty when it can)."""
    reasons = []
    if len(template["resources"]) > limits.resources:
        reasons.append(f"{len(template['resources'])} resources, over ARM's limit of {limits.resources}")
    size = serialized_size(template)
    if size > limits.template_bytes:
        reasons.append(f"{size} bytes, over ARM's limit of {limits.template_bytes}")
    return reasons


def _nested_size(resource: dict) -> int:
    # Bytes the resource takes inside "resources": its lines indented by two more levels, plus ",\n".
    return sum(len(line.encode("utf-8")) + 9 for line in dumps(resource).splitlines()) + 1


def _child(template: dict, resources: list[dict]) -> dict:
    used = set(_PARAMETER_USE.findall(dumps(resources)))
    params = {k: v for k, v in template["parameters"].items() if k == "factoryName" or k in used}
    return {"$schema": template["$schema"], "contentVersion": "1.0.0.0", "parameters": params,
            "variables": template["variables"], "resources": resources}


def split(template: dict, limits: Limits) -> list[dict]:
    """Child templates, each within the resource and size limits, dependencies always in an earlier or the same one."""
    levels = dependency_levels(template["resources"])
    ordered = [r for _, _, r in sorted(zip(levels, range(len(levels)), template["resources"]),
                                       key=lambda t: (t[0], t[1]))]
    skeleton = serialized_size({**template, "resources": []})  # every parameter: an upper bound for any child
    chunks: list[list[dict]] = [[]]
    size = skeleton
    for resource in ordered:
        grow = _nested_size(resource)
        if chunks[-1] and (len(chunks[-1]) >= limits.resources or size + grow > limits.template_bytes):
            chunks.append([])
            size = skeleton
        if skeleton + grow > limits.template_bytes:
            raise ExportError(f"resource {resource['name']} alone makes a template of {skeleton + grow} bytes, over "
                              f"ARM's limit of {limits.template_bytes}; split that object into smaller ones")
        chunks[-1].append(resource)
        size += grow
    children = [_child(template, chunk) for chunk in chunks]
    too_big = [n for n, child in enumerate(children) if serialized_size(child) > limits.template_bytes]
    if too_big:  # the estimate above is an upper bound, so this would be a bug here, not in the factory
        raise ExportError(f"linked template(s) {too_big} exceed {limits.template_bytes} bytes after splitting")
    return children


def _master(export: ArmExport, children: list[dict]) -> dict:
    template = export.template
    deployments = []
    for n, child in enumerate(children):
        name = f"{export.factory_name}_ArmTemplate_{n}"
        deployments.append({
            "name": name,
            "type": "Microsoft.Resources/deployments",
            "apiVersion": DEPLOYMENTS_API_VERSION,
            "properties": {
                "mode": "incremental",
                "templateLink": {
                    "uri": f"[concat(parameters('containerUri'), '/ArmTemplate_{n}.json', parameters('containerSasToken'))]",
                    "contentVersion": "1.0.0.0",
                },
                "parameters": {p: {"value": f"[parameters('{p}')]"} for p in child["parameters"]},
            },
            "dependsOn": [f"[resourceId('Microsoft.Resources/deployments', '{export.factory_name}_ArmTemplate_{n - 1}')]"]
            if n else [],
        })
    return {"$schema": template["$schema"], "contentVersion": "1.0.0.0",
            "parameters": {**template["parameters"], **CONTAINER_PARAMETERS},
            "variables": template["variables"], "resources": deployments}


def linked_template_files(export: ArmExport, limits: Limits | None = None) -> dict[str, dict]:
    """Extra files (path relative to the ARM folder -> content) when the template is past a limit; {} otherwise."""
    limits = limits or arm_export.DEFAULT_LIMITS
    if not over_limits(export.template, limits):
        return {}
    check_parameter_limit(len(export.template["parameters"]) + len(CONTAINER_PARAMETERS), export.parameters, limits,
                          extra=" (with containerUri and containerSasToken, which linked templates add)")
    children = split(export.template, limits)
    files = {f"{FOLDER}/ArmTemplate_{n}.json": child for n, child in enumerate(children)}
    files[MASTER] = _master(export, children)
    master_values = export.adf_parameters_file()
    master_values["parameters"].update({name: {"value": ""} for name in CONTAINER_PARAMETERS})
    files[MASTER_PARAMETERS] = master_values
    return files
