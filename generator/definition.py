"""Apply an `arm-template-parameters-definition.json` to factory objects, the way ADF's publish/export does.

Syntax (Microsoft, "Use custom parameters with the Resource Manager template"): under a resource type, a property
path; a leaf `<action>:<name>:<type>`. Action `=` keeps the current value as the default, `-` emits no default,
`|` is for secrets (no default). An empty name means the property path (`<object>_properties_typeProperties_x`);
a name starting with `-` shortens it to `<object>_<name>`; any other name replaces the last path segment. Types:
string (default), securestring, int, bool, object, secureobject, array. Under linkedServices and datasets the first
key is an object *type* or `*`; both apply, the type winning on conflicts. `*` matches every property at one
level (not recursively) and explicit keys beat it. A list `[rule, "a.b"]` iterates an array, naming each item by
its value at `a.b` in place of the array's key; without that string the item's index follows the array's key.

Besides the definition, every `SecureString` object of a linked service is parameterized as `<ls>_<property>`
(secureString, no default): "by default, all secure strings ... are parameterized".
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.errors import ExportError
from generator.layout import DEFINITION_FILE, FactoryObject

TYPES = {"string": "string", "securestring": "secureString", "int": "int", "bool": "bool",
         "object": "object", "secureobject": "secureObject", "array": "array"}
ACTIONS = {"=": "keep the current value as default", "-": "no default", "|": "Key Vault secret, no default"}

_PREFIX = "Microsoft.DataFactory/factories"
# Git folder -> ARM resource type. `globalParameters` is the factory file's globalParameters exported as the
# factory's `default` globalparameters resource; managed private endpoints live under their virtual network.
RESOURCE_TYPES = {
    "pipeline": f"{_PREFIX}/pipelines",
    "dataset": f"{_PREFIX}/datasets",
    "linkedService": f"{_PREFIX}/linkedServices",
    "trigger": f"{_PREFIX}/triggers",
    "dataflow": f"{_PREFIX}/dataflows",
    "integrationRuntime": f"{_PREFIX}/integrationRuntimes",
    "credential": f"{_PREFIX}/credentials",
    "managedVirtualNetwork": f"{_PREFIX}/managedVirtualNetworks",
    "managedPrivateEndpoint": f"{_PREFIX}/managedVirtualNetworks/managedPrivateEndpoints",
    "globalParameters": f"{_PREFIX}/globalparameters",
}
# Keys a definition may have at its root (ARM types are case-insensitive; the doc writes `globalparameters`).
KNOWN_ROOTS = {t.lower(): t for t in [*RESOURCE_TYPES.values(), _PREFIX]}
TYPED_ROOTS = {RESOURCE_TYPES["linkedService"].lower(), RESOURCE_TYPES["dataset"].lower()}

# ADF's default definition, used when the folder has none: the doc's "Default parameterization template",
# verbatim except that the triggers' `pipelines` array is keyed by `pipelineReference.referenceName`. Real
# exports made without a definition file name trigger parameters `<trigger>_properties_<pipeline>_parameters_<p>`
# (e.g. Terminator-Aaron/adf_publish), which only the keyed form produces; MLOpsPython's definition has it too.
DEFAULT_DEFINITION: dict = {
    f"{_PREFIX}": {"properties": {"globalParameters": {"*": {"value": "="}}}, "location": "="},
    f"{_PREFIX}/globalparameters": {"properties": {"*": {"value": "="}}},
    f"{_PREFIX}/pipelines": {},
    f"{_PREFIX}/dataflows": {},
    f"{_PREFIX}/integrationRuntimes": {"properties": {"typeProperties": {
        "ssisProperties": {
            "catalogInfo": {"catalogServerEndpoint": "=", "catalogAdminUserName": "=",
                            "catalogAdminPassword": {"value": "-::secureString"}},
            "customSetupScriptProperties": {"sasToken": {"value": "-::secureString"}},
        },
        "linkedInfo": {"key": {"value": "-::secureString"}, "resourceId": "="},
        "computeProperties": {"dataFlowProperties": {"externalComputeInfo": [{"accessToken": "-::secureString"}]}},
    }}},
    f"{_PREFIX}/triggers": {"properties": {
        "pipelines": [{"parameters": {"*": "="}}, "pipelineReference.referenceName"],
        "pipeline": {"parameters": {"*": "="}},
        "typeProperties": {"scope": "="},
    }},
    f"{_PREFIX}/linkedServices": {
        "*": {"properties": {"typeProperties": {
            "accountName": "=", "username": "=", "userName": "=", "accessKeyId": "=", "servicePrincipalId": "=",
            "userId": "=", "host": "=", "clientId": "=", "clusterUserName": "=", "clusterSshUserName": "=",
            "hostSubscriptionId": "=", "clusterResourceGroup": "=", "subscriptionId": "=", "resourceGroupName": "=",
            "tenant": "=", "dataLakeStoreUri": "=", "baseUrl": "=", "database": "=", "serviceEndpoint": "=",
            "batchUri": "=", "poolName": "=", "databaseName": "=", "systemNumber": "=", "server": "=", "url": "=",
            "functionAppUrl": "=", "environmentUrl": "=", "aadResourceId": "=",
            "sasUri": "|:-sasUri:secureString", "sasToken": "|",
            "connectionString": "|:-connectionString:secureString", "hostKeyFingerprint": "=",
        }}},
        "Odbc": {"properties": {"typeProperties": {"userName": "=", "connectionString": {"secretName": "="}}}},
    },
    f"{_PREFIX}/datasets": {"*": {"properties": {"typeProperties": {"folderPath": "=", "fileName": "="}}}},
    f"{_PREFIX}/managedVirtualNetworks/managedPrivateEndpoints": {"properties": {"*": "="}},
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
    auto_secure: bool = False  # a linked service's SecureString, parameterized without a definition entry
    prop: str = ""       # the property named in "Secure string for '<prop>' of '<object>'"

    @property
    def secure(self) -> bool:
        return self.type in ("secureString", "secureObject")


def definition_error(where: str, problem: str, fix: str) -> ExportError:
    return ExportError(f"{DEFINITION_FILE}: {where}: {problem}\n  fix: {fix}")


def parse_leaf(leaf: Any, where: str) -> tuple[str, str, str | None]:
    """`<action>:<name>:<type>` -> (action, name, ARM type or None when blank)."""
    if not isinstance(leaf, str):
        raise definition_error(where, f"{leaf!r} is neither a rule string, an object nor an array",
                               'write a leaf as "<action>:<name>:<type>", e.g. "=" or "-::int"')
    parts = leaf.split(":")
    if len(parts) > 3 or parts[0] not in ACTIONS:
        raise definition_error(where, f"{leaf!r} is not `<action>:<name>:<type>` with action =, - or |",
                               '"=" keeps the value as default, "-" has no default, "|" is a Key Vault secret; '
                               'e.g. "=:-shortName:int"')
    action, name, kind = (parts + ["", ""])[:3]
    if kind and kind.lower() not in TYPES:
        raise definition_error(where, f"type {kind!r} in {leaf!r} is unknown", f"use one of {', '.join(TYPES)}")
    return action, name, TYPES[kind.lower()] if kind else None


def _check_rule(rule: Any, where: str) -> None:
    if isinstance(rule, dict):
        for key, sub in rule.items():
            _check_rule(sub, f"{where}.{key}")
    elif isinstance(rule, list):
        if not 1 <= len(rule) <= 2 or isinstance(rule[0], list) or (len(rule) == 2 and not isinstance(rule[1], str)):
            raise definition_error(where, f"array rule {rule!r} is not [<rule for each item>, \"<naming path>\"]",
                                   'e.g. [{"parameters": {"*": "="}}, "pipelineReference.referenceName"]; '
                                   "the second element is optional")
        _check_rule(rule[0], f"{where}[]")
    else:
        parse_leaf(rule, where)


def validate_definition(definition: Any) -> dict:
    """Check the whole file up front (so an error shows whatever the factory holds); returns it keyed by ARM type."""
    if not isinstance(definition, dict):
        raise definition_error("root", f"expected an object keyed by resource type, found {type(definition).__name__}",
                               'start from {"Microsoft.DataFactory/factories/pipelines": {...}, ...}')
    out: dict = {}
    for root, rules in definition.items():
        canonical = KNOWN_ROOTS.get(root.lower())
        if canonical is None:
            raise definition_error(root, "unknown resource type", f"use one of {', '.join(sorted(KNOWN_ROOTS.values()))}")
        if not isinstance(rules, dict):
            raise definition_error(root, f"expected an object of property paths, found {rules!r}",
                                   'e.g. {"properties": {"typeProperties": {"url": "="}}}')
        if root.lower() in TYPED_ROOTS:
            for kind, sub in rules.items():
                if kind in ("properties", "typeProperties"):
                    raise definition_error(f"{root}.{kind}", f"the first key under {root} is an object type or *, "
                                           f"not {kind!r}", f'wrap it: {{"*": {{"{kind}": ...}}}} or '
                                           f'{{"AzureBlobStorage": {{"{kind}": ...}}}}')
                if not isinstance(sub, dict):
                    raise definition_error(f"{root}.{kind}", f"expected an object of property paths, found {sub!r}",
                                           f'e.g. {{"{kind}": {{"properties": {{"typeProperties": {{"url": "="}}}}}}}}')
        _check_rule(rules, root)
        out[canonical] = rules
    return out


def resource_type(obj: FactoryObject) -> str:
    if obj.folder.startswith("managedVirtualNetwork/"):  # managedVirtualNetwork/<vnet>/managedPrivateEndpoint
        return RESOURCE_TYPES["managedPrivateEndpoint"]
    try:
        return RESOURCE_TYPES[obj.folder]
    except KeyError:
        raise ExportError(f"{obj.folder}/{obj.name}.json: ADF has no folder {obj.folder!r}; "
                          f"known folders: {', '.join(RESOURCE_TYPES)}") from None


def _merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def rules_for(obj: FactoryObject, definition: dict) -> dict:
    rtype = resource_type(obj)
    rules = definition.get(rtype, {})
    if rtype.lower() not in TYPED_ROOTS:
        return rules
    merged: dict = {}
    for key in ("*", obj.body.get("properties", {}).get("type", "")):
        _merge(merged, rules.get(key, {}))
    return merged


def _get_path(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _is_parameterized(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[parameters('")


def _infer_type(value: Any) -> str:
    # The doc: a blank type is string, but objects (e.g. an IR's computeProperties) export as object.
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "string"


def _secure_strings(node: Any, path: list[str]) -> Iterator[tuple[list[str], dict]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and value.get("type") == "SecureString" and "value" in value:
                yield path + [key], value
            else:
                yield from _secure_strings(value, path + [key])
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _secure_strings(value, path + [str(i)])


def parameterize(obj: FactoryObject, definition: dict) -> tuple[dict, list[TemplateParameter]]:
    """The object body with parameterized values replaced by `[parameters('...')]`, and its parameters in order:
    the automatic secure strings first, then the definition's, in the object's property order."""
    body = copy.deepcopy(obj.body)
    found: list[TemplateParameter] = []
    where_root = resource_type(obj)

    if obj.folder == "linkedService":
        for path, node in _secure_strings(body, []):
            name = f"{obj.name}_{path[-1]}"
            found.append(TemplateParameter(name, "secureString", None, False, obj.name, (*path, "value"),
                                           auto_secure=True, prop=path[-1]))
            node["value"] = f"[parameters('{name}')]"

    def leaf(container: Any, key: Any, rule: str, name_path: list[str], json_path: list[str]) -> None:
        action, name, kind = parse_leaf(rule, f"{where_root}.{'.'.join(map(str, json_path))}")
        value = container[key]
        if action == "|" and isinstance(value, dict):
            if value.get("type") == "AzureKeyVaultSecret":
                return  # the secret stays a Key Vault reference, fetched at runtime; its vault is the parameter
            if value.get("type") == "SecureString":
                container, key, json_path = value, "value", json_path + ["value"]
                value = container[key]
        if _is_parameterized(value):
            return  # already a parameter (a linked service's SecureString, or an earlier rule)
        if action == "|" and kind is None:
            kind = "secureString"
        kind = kind or _infer_type(value)
        if name.startswith("-"):
            param = f"{obj.name}_{name[1:]}"
        else:
            param = "_".join([obj.name, *name_path[:-1], name or name_path[-1]])
        keep = action == "="
        found.append(TemplateParameter(param, kind, copy.deepcopy(value) if keep else None, keep, obj.name,
                                       tuple(json_path), key_vault=action == "|", prop=str(name_path[-1])))
        container[key] = f"[parameters('{param}')]"

    def walk(rule: dict, node: Any, name_path: list[str], json_path: list[str]) -> None:
        if not isinstance(node, dict):
            return
        for key in list(node):  # the object's own order, as the export lists parameters
            sub = rule[key] if key in rule else rule.get("*")
            if sub is not None:
                apply(sub, node, key, name_path + [key], json_path + [key])

    def apply(rule: Any, container: Any, key: Any, name_path: list[str], json_path: list[str]) -> None:
        value = container[key]
        if isinstance(rule, str):
            leaf(container, key, rule, name_path, json_path)
        elif isinstance(rule, list):
            if not isinstance(value, list):
                return
            item_rule, naming = rule[0], (rule[1] if len(rule) == 2 else None)
            for index, item in enumerate(value):
                label = _get_path(item, naming) if naming else None
                # Keyed arrays drop the array's key: <trigger>_properties_<pipeline>_parameters_<p>.
                item_path = name_path[:-1] + [str(label)] if label is not None else name_path + [str(index)]
                apply(item_rule, value, index, item_path, json_path + [str(index)])
        else:
            walk(rule, value, name_path, json_path)

    walk(rules_for(obj, definition), body, [], [])
    return body, found
