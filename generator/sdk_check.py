"""Check generated ADF objects against the official SDK models (azure-mgmt-datafactory 9.3.0).

9.3.0 is the last release whose models deserialize typed activities and triggers; a type the SDK does not
know falls back to the base class, which we report as an unknown type.
"""
from __future__ import annotations

from azure.mgmt.datafactory import models

from generator.layout import FactoryObject

RESOURCE_MODELS = {
    "pipeline": models.PipelineResource,
    "dataset": models.DatasetResource,
    "linkedService": models.LinkedServiceResource,
    "trigger": models.TriggerResource,
}
BASE_CLASSES = (models.Activity, models.Dataset, models.LinkedService, models.Trigger,
                models.ControlActivity, models.ExecutionActivity)


def _walk_models(model, path: str, problems: list[str]) -> None:
    if type(model) in BASE_CLASSES:
        problems.append(f"{path}: its type is unknown to the SDK models (check the spelling of `type`)")
    for attr, rules in getattr(model, "_validation", {}).items():
        if rules.get("required") and getattr(model, attr, None) is None:
            problems.append(f"{path}: required property {attr!r} is missing")
    for attr in getattr(model, "_attribute_map", {}):
        value = getattr(model, attr, None)
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if hasattr(child, "_attribute_map"):
                name = getattr(child, "name", None) or (f"{attr}[{i}]" if isinstance(value, list) else attr)
                _walk_models(child, f"{path}/{name}", problems)


def check_object(obj: FactoryObject) -> list[str]:
    """Problems found deserializing one object (empty when it is valid)."""
    model_class = RESOURCE_MODELS.get(obj.folder)
    if model_class is None:
        return [f"{obj.folder}/{obj.name}: no SDK model for folder {obj.folder!r}"]
    problems: list[str] = []
    try:
        model = model_class.deserialize(obj.body)
    except Exception as exc:  # the SDK raises several kinds of deserialization errors
        return [f"{obj.folder}/{obj.name}: does not deserialize: {exc}"]
    # PipelineResource flattens its properties; the others wrap a polymorphic `properties` model.
    root = model if obj.folder == "pipeline" else getattr(model, "properties", None)
    if root is None:
        return [f"{obj.folder}/{obj.name}: no properties"]
    _walk_models(root, f"{obj.folder}/{obj.name}", problems)
    return problems
