"""Functions that read the run's state: pipeline(), variables(), activity(), item(), trigger(),
triggerBody(), triggerOutputs(), linkedService(), dataset(), globalParameters().

ADF writes ``@linkedService().name`` and ``@dataset().name``; the one-argument forms
``linkedService('name')`` and ``dataset('name')`` are accepted too. Global parameters are
``pipeline().globalParameters.name`` in ADF; ``globalParameters('name')`` is a local shorthand.
Names are looked up exactly, then ignoring case.
"""
from __future__ import annotations

from ..errors import EvaluationError
from ..functions import function
from ..values import find_key


def _lookup(mapping: dict, name: str, what: str) -> object:
    found, value = find_key(mapping, name)
    if not found:
        known = ", ".join(f"'{key}'" for key in mapping) or "none"
        raise EvaluationError(f"{what} '{name}' is not defined; defined: {known}")
    return value


@function("pipeline", context=True)
def pipeline(context):
    return context.pipeline_object()


@function("variables", "variableName: string", context=True)
def variables(context, name):
    return _lookup(context.variables, name, "variable")


@function("activity", "activityName: string", context=True)
def activity(context, name):
    found, value = find_key(context.activity_outputs, name)
    if not found:
        known = ", ".join(f"'{key}'" for key in context.activity_outputs) or "none yet"
        raise EvaluationError(f"there is no output of activity '{name}': it has not run yet, is not upstream of "
                              f"this activity, or does not exist; activities with output: {known}")
    return value


@function("item", context=True)
def item(context):
    if context.item is None:
        raise EvaluationError("there is no current item: item() is only available inside a ForEach activity")
    return context.item


def _trigger(context) -> dict:
    if context.trigger is None:
        raise EvaluationError("this run has no trigger data (it was not started by a trigger)")
    return context.trigger


@function("trigger", context=True)
def trigger(context):
    return _trigger(context)


@function("triggerOutputs", context=True)
def trigger_outputs(context):
    outputs = _trigger(context).get("outputs")
    if outputs is None:
        raise EvaluationError("the trigger data has no 'outputs'")
    return outputs


@function("triggerBody", context=True)
def trigger_body(context):
    outputs = trigger_outputs(context)
    if not isinstance(outputs, dict) or "body" not in outputs:
        raise EvaluationError("the trigger outputs have no 'body'")
    return outputs["body"]


@function("linkedService", "parameterName: string?", context=True)
def linked_service(context, name=None):
    parameters = context.linked_service_parameters
    return parameters if name is None else _lookup(parameters, name, "linked service parameter")


@function("dataset", "parameterName: string?", context=True)
def dataset(context, name=None):
    parameters = context.dataset_parameters
    return parameters if name is None else _lookup(parameters, name, "dataset parameter")


@function("globalParameters", "parameterName: string", context=True)
def global_parameters(context, name):
    return _lookup(context.global_parameters, name, "global parameter")
