"""Export an ADF git folder to ARM the way ADF's publish/export does (ARMTemplateForFactory.json + parameters).

Conventions, checked against real exports (munishm/MLOpsPython, alesaez/adf-cicd, josefineselke/Covid-Reporting-
Course-Examples, ViinayKumaarMamidi/Azure_Airport_ADF_Azure_DevOps_CI_CD_Project, emc2e1tcct/MC2DataLake):
- parameter `factoryName` (metadata "Data Factory name"), variable `factoryId`, resource names
  `[concat(parameters('factoryName'), '/<name>')]`, apiVersion 2018-06-01 on every factory child;
- resources grouped by type (pipelines, datasets, linkedServices, triggers, dataflows, then the types those exports
  lack), each group in ordinal name order;
- `dependsOn` on every referenced object present in the factory, grouped in the same type order, each group in
  the order the references appear (an ExecutePipeline makes a pipeline depend on the pipeline it runs);
- parameters: `factoryName`, the linked services' automatic secure strings, then the definition's parameters,
  both in resource order.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.definition import DEFAULT_DEFINITION, TemplateParameter, parameterize, resource_type, validate_definition
from generator.errors import ExportError
from generator.layout import DEFINITION_FILE, FactoryObject, dumps

TEMPLATE_SCHEMA = "http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#"
PARAMETERS_SCHEMA = "https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#"
API_VERSION = "2018-06-01"
FACTORY_ID = "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]"


@dataclass(frozen=True)
class Limits:
    """ARM's template limits (learn.microsoft.com, "ARM template best practices": Template limits)."""
    parameters: int = 256
    resources: int = 800
    template_bytes: int = 4 * 1024 * 1024
    resource_bytes: int = 1024 * 1024  # one resource definition


DEFAULT_LIMITS = Limits()

# Git folder -> dependsOn path segment; the key order is the order of resources in the template.
FOLDERS = {
    "pipeline": "pipelines", "dataset": "datasets", "linkedService": "linkedServices", "trigger": "triggers",
    "dataflow": "dataflows", "integrationRuntime": "integrationRuntimes", "credential": "credentials",
    "managedVirtualNetwork": "managedVirtualNetworks", "managedPrivateEndpoint": "managedPrivateEndpoints",
    "globalParameters": "globalparameters",
}
ORDER = list(FOLDERS)
REFERENCE_FOLDERS = {
    "LinkedServiceReference": "linkedService", "DatasetReference": "dataset", "PipelineReference": "pipeline",
    "DataFlowReference": "dataflow", "IntegrationRuntimeReference": "integrationRuntime",
    "CredentialReference": "credential", "TriggerReference": "trigger",
    "ManagedVirtualNetworkReference": "managedVirtualNetwork",
}


def resource_ref(segment: str, name: str) -> str:
    return f"[concat(variables('factoryId'), '/{segment}/{name}')]"


@dataclass(frozen=True)
class ArmExport:
    template: dict
    parameters: list[TemplateParameter]
    factory_name: str

    def _values(self, values: dict[str, Any] | None, missing: str | None) -> dict[str, Any]:
        values = values or {}
        body: dict[str, Any] = {"factoryName": {"value": values.get("factoryName", self.factory_name)}}
        for p in self.parameters:
            if p.name in values:
                given = values[p.name]
                body[p.name] = given if isinstance(given, dict) and "reference" in given else {"value": given}
            elif p.has_default:
                body[p.name] = {"value": p.default}
            elif missing is None:
                raise ExportError(f"parameter {p.name} has no default and no value; supply it "
                                  f"(a Key Vault reference for secrets) in the environment's parameters")
            else:
                body[p.name] = {"value": missing}
        return {"$schema": PARAMETERS_SCHEMA, "contentVersion": "1.0.0.0", "parameters": body}

    def parameters_file(self, values: dict[str, Any] | None = None) -> dict:
        """A parameters file with a value for every parameter (defaults unless overridden); a parameter without
        default and value is an error, so no environment deploys with a blank secret."""
        return self._values(values, None)

    def adf_parameters_file(self) -> dict:
        """`ARMTemplateParametersForFactory.json` exactly as ADF writes it: defaults, "" where there is none."""
        return self._values(None, "")


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


def _kind(obj: FactoryObject) -> str:
    return "managedPrivateEndpoint" if obj.folder.startswith("managedVirtualNetwork/") else obj.folder


def _arm_name(obj: FactoryObject) -> str:
    if _kind(obj) == "managedPrivateEndpoint":  # managedVirtualNetwork/<vnet>/managedPrivateEndpoint
        return f"{obj.folder.split('/')[1]}/{obj.name}"
    return obj.name


def _exported_objects(objects: list[FactoryObject]) -> list[FactoryObject]:
    """The objects that become resources, in template order; the factory file becomes its `default` globalparameters."""
    out = []
    factories = [o for o in objects if o.folder == "factory"]
    if len(factories) > 1:
        raise ExportError(f"factory/ holds {len(factories)} files ({', '.join(o.name for o in factories)}); "
                          "ADF keeps exactly one, named after the factory: remove the others")
    for obj in objects:
        if obj.folder == "factory":
            gps = obj.body.get("properties", {}).get("globalParameters") or {}
            if gps:
                out.append(FactoryObject("globalParameters", "default", {"name": "default", "properties": gps}))
        elif _kind(obj) not in FOLDERS:
            raise ExportError(f"{obj.folder}/{obj.name}.json: ADF has no folder {obj.folder!r}; "
                              f"known folders: {', '.join(f for f in FOLDERS if f != 'globalParameters')}, factory")
        else:
            out.append(obj)
    return sorted(out, key=lambda o: (ORDER.index(_kind(o)), _arm_name(o)))


def _depends_on(obj: FactoryObject, present: set[tuple[str, str]]) -> list[str]:
    found: list[tuple[str, str]] = []
    if _kind(obj) == "managedPrivateEndpoint":
        found.append(("managedVirtualNetwork", obj.folder.split("/")[1]))
    for ref in _references(obj.body.get("properties", {})):
        if ref in present and ref not in found and ref != (obj.folder, obj.name):
            found.append(ref)
    found.sort(key=lambda ref: ORDER.index(ref[0]))  # stable: keeps the order of appearance within a type
    return [resource_ref(FOLDERS[folder], name) for folder, name in found]


def export(objects: list[FactoryObject], definition: dict | None, factory_name: str,
           limits: Limits | None = None) -> ArmExport:
    """ARM template of the factory; a definition of None means ADF's default definition."""
    definition = validate_definition(DEFAULT_DEFINITION if definition is None else definition)
    present = {(o.folder, o.name) for o in objects}
    auto: list[TemplateParameter] = []
    params: list[TemplateParameter] = []
    resources = []
    for obj in _exported_objects(objects):
        body, found = parameterize(obj, definition)
        auto += [p for p in found if p.auto_secure]
        params += [p for p in found if not p.auto_secure]
        resources.append({
            "name": f"[concat(parameters('factoryName'), '/{_arm_name(obj)}')]",
            "type": resource_type(obj),
            "apiVersion": API_VERSION,
            "properties": body.get("properties", {}),
            "dependsOn": _depends_on(obj, present),
        })
    limits = limits or DEFAULT_LIMITS
    for resource in resources:
        size = len(dumps(resource).encode("utf-8"))
        if size > limits.resource_bytes:  # linked templates cannot split one resource
            raise ExportError(f"resource {resource['name']} is {size} bytes, over ARM's limit of {limits.resource_bytes} "
                              "for one resource definition\n  fix: split the object (e.g. a pipeline into several "
                              "pipelines run by ExecutePipeline)")
    params = auto + params
    counts = Counter(["factoryName"] + [p.name for p in params])
    duplicates = sorted(n for n, c in counts.items() if c > 1)
    if duplicates:
        raise ExportError(f"two properties map to the same ARM parameter name(s) {duplicates}; give them distinct "
                          f"names in {DEFINITION_FILE} (an explicit `:<name>:` or a longer path)")
    template_params: dict[str, Any] = {"factoryName": {"type": "string", "metadata": "Data Factory name",
                                                       "defaultValue": factory_name}}
    for p in params:
        entry: dict[str, Any] = {"type": p.type}
        if p.secure:
            entry["metadata"] = f"Secure string for '{p.prop}' of '{p.object_name}'"
        if p.has_default:
            entry["defaultValue"] = p.default
        template_params[p.name] = entry
    check_parameter_limit(len(template_params), params, limits)
    template = {
        "$schema": TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": template_params,
        "variables": {"factoryId": FACTORY_ID},
        "resources": resources,
    }
    dependency_levels(resources)  # ARM rejects circular dependsOn: say which objects, before ARM does
    return ArmExport(template, params, factory_name)


def check_parameter_limit(count: int, params: list[TemplateParameter], limits: Limits, extra: str = "") -> None:
    if count <= limits.parameters:
        return
    per_object: dict[str, int] = {}
    for p in params:
        per_object[p.object_name] = per_object.get(p.object_name, 0) + 1
    top = ", ".join(f"{n} ({c})" for n, c in sorted(per_object.items(), key=lambda kv: -kv[1])[:3])
    raise ExportError(
        f"the ARM template has {count} parameters{extra}, over ARM's limit of {limits.parameters}; linked templates "
        f"do not help, the master template declares them all. Most come from: {top}.\n"
        f"  fix: remove entries from {DEFINITION_FILE} (or narrow a `*`) so fewer properties are parameterized, "
        "replace pipeline parameters that share a value with global parameters, or split the factory")


def resource_id(resource: dict) -> str:
    """The dependsOn string other resources use for this one."""
    name = resource["name"].split("'/", 1)[1][:-len("')]")]
    segment = resource["type"].split("/", 2)[2]
    if segment.endswith("managedPrivateEndpoints"):
        vnet, pe = name.split("/", 1)
        return resource_ref(f"managedVirtualNetworks/{vnet}/managedPrivateEndpoints", pe)
    return resource_ref(segment, name)


def dependency_levels(resources: list[dict]) -> list[int]:
    """Per resource: 0 without dependencies in the template, else 1 + the deepest dependency's level."""
    index = {resource_id(r): i for i, r in enumerate(resources)}
    deps = [[index[d] for d in r["dependsOn"] if d in index] for r in resources]
    levels: list[int | None] = [None] * len(resources)
    pending = list(range(len(resources)))
    while pending:  # iterative, so a long ExecutePipeline chain cannot exhaust the recursion limit
        ready = [i for i in pending if all(levels[d] is not None for d in deps[i])]
        if not ready:
            raise ExportError(f"circular dependsOn, which ARM rejects: {_cycle(pending, deps, resources)}\n"
                              "  fix: break the cycle (e.g. pipelines that run each other through ExecutePipeline)")
        for i in ready:
            levels[i] = 1 + max((levels[d] for d in deps[i]), default=-1)  # type: ignore[type-var]
        pending = [i for i in pending if levels[i] is None]
    return levels  # type: ignore[return-value]


def _cycle(pending: list[int], deps: list[list[int]], resources: list[dict]) -> str:
    path, node = [], pending[0]
    while node not in path:  # every pending resource has a pending dependency: follow them until one repeats
        path.append(node)
        node = next(d for d in deps[node] if d in pending)
    loop = path[path.index(node):] + [node]
    return " -> ".join(resources[i]["name"].split("'/", 1)[1][:-3] for i in loop)


def serialized_size(template: dict) -> int:
    """Bytes of the template as written to disk (the size ARM's 4 MB limit is checked against, conservatively)."""
    return len(dumps(template).encode("utf-8"))


def strip_defaults(template: dict) -> dict:
    """The template without parameter defaults: what must be identical across environments."""
    out = dict(template)
    out["parameters"] = {k: {kk: vv for kk, vv in v.items() if kk != "defaultValue"}
                         for k, v in template["parameters"].items()}
    return out
