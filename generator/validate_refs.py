"""Checks across the objects of an ADF git folder: references to other objects, activity dependencies, and
expressions (each one parses; the variables, parameters and activities it names exist)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.problems import Finding, Path, near, walk
from local_runtime.expressions import ExpressionError, parse_value
from local_runtime.expressions.ast import Call, Index, Literal, Property, Template

Inventory = dict[str, dict[str, dict]]  # folder -> object name -> body

REFERENCE_FOLDERS = {
    "LinkedServiceReference": "linkedService",
    "DatasetReference": "dataset",
    "PipelineReference": "pipeline",
    "DataFlowReference": "dataflow",
    "IntegrationRuntimeReference": "integrationRuntime",
    "CredentialReference": "credential",
}
BUILT_IN = {("integrationRuntime", "AutoResolveIntegrationRuntime")}
# Where container activities keep their inner activities, inside typeProperties ("*" = every list item).
CHILD_ACTIVITIES = {
    "Until": (("activities",),),
    "ForEach": (("activities",),),
    "IfCondition": (("ifTrueActivities",), ("ifFalseActivities",)),
    "Switch": (("defaultActivities",), ("cases", "*", "activities")),
}
# A pipeline's parameters are passed beside its reference (ExecutePipeline, triggers), not inside it.
SIBLING_PARAMETERS = {"pipeline", "pipelineReference"}


def _known(name: str, names: Any) -> bool:
    """Exact, or case-insensitively unique: how ADF (and the local runtime) look names up."""
    return name in names or sum(1 for n in names if n.casefold() == name.casefold()) == 1


def _at(body: Any, path: Path) -> Any:
    for segment in path:
        body = body[segment]
    return body


# -- references between objects -------------------------------------------------------------------------
def _reference_findings(body: dict, inventory: Inventory) -> Iterator[Finding]:
    for path, node in walk(body):
        if not (isinstance(node, dict) and node.get("type") in REFERENCE_FOLDERS):
            continue
        name, folder = node.get("referenceName"), REFERENCE_FOLDERS[node["type"]]
        if not isinstance(name, str) or name.startswith("@") or (folder, name) in BUILT_IN:
            continue  # dynamic names are checked as expressions; a missing name is the SDK check's
        target = inventory.get(folder, {}).get(name)
        if target is None:
            yield path + ("referenceName",), (f"{node['type']} names {folder} {name!r}, which is not in factory/"
                                              f"{folder}/{near(name, inventory.get(folder, {}), 'there')}; "
                                              f"fix the name or add {folder}/{name}.json")
            continue
        if path and path[-1] in SIBLING_PARAMETERS:
            params_path = path[:-1] + ("parameters",)
            passed = _at(body, path[:-1]).get("parameters")
        else:
            params_path, passed = path + ("parameters",), node.get("parameters")
        yield from _parameter_findings(folder, name, target, passed, params_path)


def _parameter_findings(folder: str, name: str, target: dict, passed: Any, path: Path) -> Iterator[Finding]:
    declared = (target.get("properties") or {}).get("parameters") or {}
    passed = passed if isinstance(passed, dict) else {}
    for key in passed:
        if not _known(key, declared):
            yield path + (key,), (f"{folder} {name!r} declares no parameter {key!r}{near(key, declared)}; "
                                  "fix the name, remove it or declare it in the target")
    for key, spec in declared.items():
        if not _known(key, passed) and "defaultValue" not in (spec or {}):
            yield path, (f"{folder} {name!r} requires parameter {key!r} (it has no defaultValue); pass it here "
                         "or give it a default")


# -- activities of a pipeline ---------------------------------------------------------------------------
def _scopes(activities: Any, path: Path) -> Iterator[tuple[list, Path]]:
    """Each list of activities that share a dependsOn scope: the pipeline's and every container's."""
    if not isinstance(activities, list):
        return
    yield activities, path
    for index, activity in enumerate(activities):
        props = activity.get("typeProperties") if isinstance(activity, dict) else None
        for pattern in CHILD_ACTIVITIES.get(activity.get("type") if isinstance(activity, dict) else None, ()):
            yield from _expand(props, pattern, path + (index, "typeProperties"))


def _expand(node: Any, pattern: tuple[str, ...], path: Path) -> Iterator[tuple[list, Path]]:
    if not pattern:
        yield from _scopes(node, path)
    elif pattern[0] == "*":
        for index, item in enumerate(node if isinstance(node, list) else []):
            yield from _expand(item, pattern[1:], path + (index,))
    elif isinstance(node, dict):
        yield from _expand(node.get(pattern[0]), pattern[1:], path + (pattern[0],))


def activity_names(body: dict) -> list[str]:
    scopes = _scopes((body.get("properties") or {}).get("activities"), ("properties", "activities"))
    return [a["name"] for activities, _ in scopes for a in activities if isinstance(a, dict) and "name" in a]


def _activity_findings(body: dict) -> Iterator[Finding]:
    props = body.get("properties") or {}
    everywhere, seen = activity_names(body), set()
    for activities, path in _scopes(props.get("activities"), ("properties", "activities")):
        siblings = [a.get("name") for a in activities if isinstance(a, dict) and isinstance(a.get("name"), str)]
        for index, activity in enumerate(activities):
            if not isinstance(activity, dict):
                continue
            here = path + (index,)
            if activity.get("name") in seen:
                yield here + ("name",), (f"activity name {activity['name']!r} is used twice in the pipeline; "
                                         "ADF requires unique names: rename one")
            seen.add(activity.get("name"))
            yield from _dependency_findings(activity, here, siblings, everywhere)
            yield from _variable_findings(activity, here, props.get("variables") or {})


def _dependency_findings(activity: dict, here: Path, siblings: list[str], everywhere: list[str]) -> Iterator[Finding]:
    name = activity.get("name")
    for index, dependency in enumerate(activity.get("dependsOn") or []):
        target = dependency.get("activity") if isinstance(dependency, dict) else None
        if target in siblings and target != name:
            continue
        if target == name:
            why = "itself"
        elif target in everywhere:  # a real activity, but inside another container (or outside this one)
            why = f"{target!r}, which is in another activities list"
        else:
            why = f"{target!r}, which is not an activity of this list{near(target, siblings, 'there')}"
        yield here + ("dependsOn", index, "activity"), (
            f"activity {name!r} depends on {why}; dependsOn can only name another activity of the same list "
            "(a container's inner activities cannot depend on outer ones): fix the name or move an activity")


def _variable_findings(activity: dict, here: Path, variables: dict) -> Iterator[Finding]:
    props = activity.get("typeProperties") or {}
    variable = props.get("variableName")
    if (activity.get("type") in ("SetVariable", "AppendVariable") and isinstance(variable, str)
            and not props.get("setSystemVariable") and not _known(variable, variables)):
        yield here + ("typeProperties", "variableName"), (
            f"{activity['type']} sets variable {variable!r}, which the pipeline does not declare"
            f"{near(variable, variables)}; declare it under properties.variables or fix the name")


# -- expressions ----------------------------------------------------------------------------------------
def _nodes(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, Call):
        for arg in node.args:
            yield from _nodes(arg)
    elif isinstance(node, (Property, Index)):
        yield from _nodes(node.target)
        if isinstance(node, Index):
            yield from _nodes(node.index)
    elif isinstance(node, Template):
        for part in node.parts:
            yield from _nodes(part)


def _is_call(node: Any, name: str) -> bool:
    return isinstance(node, Call) and node.name.lower() == name and not node.args


def _member(node: Any) -> tuple[Any, str | None]:
    """(target, name) of `target.name` or `target['name']`."""
    if isinstance(node, Property):
        return node.target, node.name
    if isinstance(node, Index) and isinstance(node.index, Literal) and isinstance(node.index.value, str):
        return node.target, node.index.value
    return None, None


def _name_arg(node: Any, function: str) -> str | None:
    if isinstance(node, Call) and node.name.lower() == function and len(node.args) == 1:
        arg = node.args[0]
        return arg.value if isinstance(arg, Literal) and isinstance(arg.value, str) else None
    return None


@dataclass(frozen=True)
class _Scope:
    """What an object's expressions may name."""
    folder: str
    variables: dict
    parameters: dict
    activities: list[str]


def _variable_name(node: Any, scope: _Scope) -> str | None:
    variable = _name_arg(node, "variables")
    if variable is None or _known(variable, scope.variables):
        return None
    return (f"variables('{variable}') names no variable of the pipeline{near(variable, scope.variables)}; "
            "declare it under properties.variables or fix the name")


def _activity_name(node: Any, scope: _Scope) -> str | None:
    activity = _name_arg(node, "activity")
    if activity is None or _known(activity, scope.activities):
        return None
    return f"activity('{activity}') names no activity of the pipeline{near(activity, scope.activities)}; fix the name"


def _pipeline_parameter(node: Any, scope: _Scope) -> str | None:
    target, name = _member(node)
    parent, kind = _member(target)
    if not (kind and kind.lower() == "parameters" and _is_call(parent, "pipeline")) or _known(name, scope.parameters):
        return None
    return (f"pipeline().parameters.{name} is not declared{near(name, scope.parameters)}; declare it under "
            "properties.parameters or fix the name")


def _own_parameter(node: Any, scope: _Scope) -> str | None:
    """`dataset().x` in a dataset, `linkedService().x` in a linked service."""
    target, name = _member(node)
    if not (name and _is_call(target, scope.folder.lower())) or _known(name, scope.parameters):
        return None
    return (f"{scope.folder}().{name} is not a parameter of this {scope.folder}{near(name, scope.parameters)}; "
            "declare it under properties.parameters or fix the name")


NAME_CHECKS = {
    "pipeline": (_variable_name, _activity_name, _pipeline_parameter),
    "dataset": (_own_parameter,),
    "linkedService": (_own_parameter,),
}


def _expression_findings(folder: str, body: dict) -> Iterator[Finding]:
    props = body.get("properties") or {}
    scope = _Scope(folder, props.get("variables") or {}, props.get("parameters") or {},
                   activity_names(body) if folder == "pipeline" else [])
    for path, value in walk(body):
        if not (isinstance(value, str) and "@" in value) or path[-1:] == ("description",):
            continue  # ADF never evaluates a description, so it may start with '@'
        try:
            tree = parse_value(value)
        except ExpressionError as error:
            yield path, f"expression does not parse: {error}"
            continue
        for node in _nodes(tree):
            for check in NAME_CHECKS.get(folder, ()):
                why = check(node, scope)
                if why:  # ExpressionError formats the text with a ^ under the node, like every expression error
                    yield path, str(ExpressionError(why, value, node.pos))


def reference_findings(folder: str, body: dict, inventory: Inventory) -> list[Finding]:
    """References, dependencies and expressions of one object, checked against the whole folder."""
    findings = list(_reference_findings(body, inventory))
    if folder == "pipeline":
        findings += _activity_findings(body)
    return findings + list(_expression_findings(folder, body))
