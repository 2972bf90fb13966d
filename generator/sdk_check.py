"""Check generated ADF objects against the official SDK models (azure-mgmt-datafactory 9.3.0).

9.3.0 is the last release whose models deserialize typed activities and triggers; a type the SDK does not
know falls back to the base class, which we report as an unknown type. Unknown keys are found by a round trip:
deserialize, empty every `additional_properties` catch-all (it would otherwise carry a misspelt key through),
serialize, and report each key of the original JSON the SDK did not write back.
"""
from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from azure.mgmt.datafactory import models
from azure.mgmt.datafactory._utils.serialization import Deserializer

from generator.layout import FactoryObject
from generator.problems import Finding, Path, json_path, near

RESOURCE_MODELS = {
    "pipeline": models.PipelineResource,
    "dataset": models.DatasetResource,
    "linkedService": models.LinkedServiceResource,
    "trigger": models.TriggerResource,
    "dataflow": models.DataFlowResource,
    "integrationRuntime": models.IntegrationRuntimeResource,
    "credential": models.CredentialResource,
    "managedVirtualNetwork": models.ManagedVirtualNetworkResource,
}
# Swagger groupings the deserializer can stop at although ADF accepts none of them as a `type`.
ABSTRACT = {models.ControlActivity, models.ExecutionActivity, models.MultiplePipelineTrigger}
SDK = "the SDK models (azure-mgmt-datafactory 9.3.0)"

_CLASSES = {name: cls for name, cls in vars(models).items() if isinstance(cls, type)}
_DISCRIMINATES: dict[str, set[str]] = {}  # class name -> the `type` values that select it
for _cls in _CLASSES.values():
    for _mapping in (vars(_cls).get("_subtype_map") or {}).values():
        for _value, _name in _mapping.items():
            _DISCRIMINATES.setdefault(_name, set()).add(_value)
_SDK_LOGGER = logging.getLogger("azure.mgmt.datafactory._utils.serialization")


def _segments(key: str) -> Path:
    """An attribute-map key like `typeProperties.url` (`\\.` is a literal dot) as path segments."""
    return tuple(part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", key))


def _lookup(data: Any, segments: Path) -> Any:
    for segment in segments:
        if isinstance(data, dict):
            data = data.get(segment)
        elif isinstance(data, list) and isinstance(segment, int) and segment < len(data):
            data = data[segment]
        else:
            return None
    return data


def _own_subtypes(cls: type) -> tuple[str | None, dict[str, str]]:
    """(discriminator attribute, {type value: class name}) when `cls` has subclasses of its own."""
    subtype_map = vars(cls).get("_subtype_map") or {}
    return next(iter(subtype_map.items()), (None, {}))


def _known_types(cls: type) -> list[str]:
    known: set[str] = set()
    for value, name in _own_subtypes(cls)[1].items():
        if _CLASSES[name] not in ABSTRACT:
            known.add(value)
        known.update(_known_types(_CLASSES[name]))
    return sorted(known)


def _subclass_for(cls: type, data: dict) -> type | None:
    """The subclass the SDK picks for `data` by its discriminator, searching the whole hierarchy."""
    attr, mapping = _own_subtypes(cls)
    if not attr:
        return None
    value = _lookup(data, _segments(cls._attribute_map[attr]["key"]))
    for found, name in mapping.items():
        if found == value:
            return _CLASSES[name]
        deeper = _subclass_for(_CLASSES[name], data)
        if deeper is not None:
            return deeper
    return None


def _label(cls: type, data: Any) -> str:
    name = data.get("name") if isinstance(data, dict) else None
    return f"{cls.__name__} {name!r}" if isinstance(name, str) else cls.__name__


def _is_model(value: Any) -> bool:
    return hasattr(value, "_attribute_map") and not isinstance(value, type)


@contextlib.contextmanager
def _quiet_sdk() -> Iterator[None]:
    """The deserializer logs a warning for an unknown type; we report it ourselves, with its path."""
    level = _SDK_LOGGER.level
    _SDK_LOGGER.setLevel(logging.ERROR)
    try:
        yield
    finally:
        _SDK_LOGGER.setLevel(level)


class _Check:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.models: dict[Path, tuple[type, str]] = {}  # where each model sits, to name the owner of a key
        self.unknown: set[Path] = set()  # objects of an unknown type: their keys are not reported again

    def model(self, model: Any, data: Any, path: Path) -> None:
        cls = type(model)
        self.models[path] = (cls, _label(cls, data))
        attr, _ = _own_subtypes(cls)
        if attr:
            key = _segments(cls._attribute_map[attr]["key"])
            value = _lookup(data, key)
            if cls in ABSTRACT or not isinstance(value, str) or value not in _DISCRIMINATES.get(cls.__name__, ()):
                self.unknown.add(path)
                self.findings.append((path + key, self._unknown_type(cls, value, data)))
                return
        if hasattr(model, "additional_properties"):
            model.additional_properties = None
        for attr, rules in cls._validation.items():
            if rules.get("required") and getattr(model, attr, None) is None:
                key = _segments(cls._attribute_map[attr]["key"])
                self.findings.append((path + key, f"required property {key[-1]!r} of {_label(cls, data)} "
                                                  f"is missing; add it (required by {SDK})"))
        for attr, desc in cls._attribute_map.items():
            value = getattr(model, attr, None)
            if attr == "additional_properties" or value is None:
                continue
            segments = _segments(desc["key"])
            sub = _lookup(data, segments)
            if _is_model(value):
                self.model(value, sub, path + segments)
            elif isinstance(value, (list, dict)):
                items = enumerate(value) if isinstance(value, list) else value.items()
                for key, item in items:
                    if _is_model(item):
                        self.model(item, _lookup(sub, (key,)), path + segments + (key,))

    @staticmethod
    def _unknown_type(cls: type, value: Any, data: Any) -> str:
        name = data.get("name") if isinstance(data, dict) else None
        of = f" of {name!r}" if isinstance(name, str) else ""
        found = "no type" if value is None else f"type {value!r}"
        return (f"{cls.__name__} {found}{of} is unknown to {SDK}{near(value, _known_types(cls), 'known')}; "
                "fix the spelling of `type`")

    def owner(self, path: Path) -> tuple[str, set[str]]:
        """The model that holds `path` and the JSON keys it knows at that level."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.models:
                cls, label = self.models[path[:cut]]
                rel = path[cut:]
                keys = {segs[len(rel)] for attr, desc in cls._attribute_map.items()
                        if attr != "additional_properties"
                        for segs in [_segments(desc["key"])] if segs[:len(rel)] == rel and len(segs) > len(rel)}
                return label, keys
        return "the SDK model", set()

    def dropped(self, original: Any, serialized: Any, path: Path) -> None:
        if path in self.unknown:
            return
        if isinstance(original, dict):
            if not isinstance(serialized, dict):
                label, _ = self.owner(path)
                kind = {str: "a string", int: "an integer", bool: "true or false"}.get(type(serialized), "a scalar")
                self.findings.append((path, f"{label} takes {kind} here, found an object (the SDK turns it into "
                                            "text): this property takes no Expression object, write a literal value"))
                return
            for key, value in original.items():
                if key in serialized:
                    self.dropped(value, serialized[key], path + (key,))
                    continue
                label, known = self.owner(path)
                if value in (None, {}, []) and key in known:
                    continue  # the SDK omits empty values of keys it knows: nothing is lost
                self.findings.append((path + (key,), (
                    f"{label} has no property {key!r}{near(key, known, 'known here')}: {SDK} drop it in a round "
                    "trip; fix its spelling, move it where it belongs or remove it")))
        elif isinstance(original, list) and isinstance(serialized, list):
            for index, (item, again) in enumerate(zip(original, serialized)):
                self.dropped(item, again, path + (index,))


def _describe(type_name: str) -> str:
    if type_name.startswith(("[", "{")):
        return f"{'a list' if type_name[0] == '[' else 'an object'} of {type_name[1:-1]}"
    return {"str": "a string", "int": "an integer", "bool": "true or false", "float": "a number",
            "object": "any JSON value"}.get(type_name, f"an object ({type_name})")


_DESERIALIZER = Deserializer(_CLASSES)


def _locate_failure(type_name: str, data: Any, path: Path) -> Finding | None:
    """The deepest place the SDK cannot deserialize, so the report points there rather than at the file."""
    try:
        _DESERIALIZER.deserialize_data(data, type_name)
        return None
    except Exception:  # the SDK raises several kinds of deserialization errors
        pass
    container = {"[": list, "{": dict}.get(type_name[0])
    if container and isinstance(data, container):
        for key, item in (enumerate(data) if container is list else data.items()):
            found = _locate_failure(type_name[1:-1], item, path + (key,))
            if found:
                return found
    cls = _CLASSES.get(type_name)
    if cls is not None and isinstance(data, dict):
        cls = _subclass_for(cls, data) or cls
        for attr, desc in cls._attribute_map.items():
            sub = _lookup(data, _segments(desc["key"]))
            if attr != "additional_properties" and sub is not None:
                found = _locate_failure(desc["type"], sub, path + _segments(desc["key"]))
                if found:
                    return found
    return path, (f"expected {_describe(type_name)}, found {json.dumps(data)[:80]}; "
                  f"{SDK} cannot deserialize it")


def sdk_findings(folder: str, body: dict) -> list[Finding]:
    """Unknown types, missing required properties and keys the SDK drops, each with its JSON path."""
    model_class = RESOURCE_MODELS.get(folder)
    if model_class is None:
        return [((), f"no SDK model for folder {folder!r}; expected one of {', '.join(RESOURCE_MODELS)}")]
    with _quiet_sdk():
        try:
            model = model_class.deserialize(body)
        except Exception:  # the SDK raises several kinds of deserialization errors
            return [_locate_failure(model_class.__name__, body, ())
                    or ((), f"does not deserialize into {model_class.__name__}")]
        check = _Check()
        check.model(model, body, ())
        check.dropped(body, model.serialize(keep_readonly=True), ())
    return check.findings


def check_object(obj: FactoryObject) -> list[str]:
    """Problems found checking one object against the SDK models (empty when it is valid)."""
    return [f"{obj.folder}/{obj.name}: {json_path(path)}: {message}"
            for path, message in sdk_findings(obj.folder, obj.body)]
