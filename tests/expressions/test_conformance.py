"""Data-driven conformance suite for the ADF expression language (jmespath compliance style).

Each ``cases/*.json`` file is a list of cases::

    {"given": {...}, "expression": "@div(5, 2)", "result": 2}
    {"given": {...}, "value": {"a": "@{1}"}, "result": {"a": "1"}}          # evaluate_value
    {"expression": "@div(1, 0)", "error": "division by zero", "error_type": "EvaluationError"}

``given`` overrides keys of :data:`DEFAULT_STATE` (pipeline, variables, activity_outputs, item, trigger,
linked_service_parameters, dataset_parameters, global_parameters, now, guids, random_seed).
Results compare strictly: 2 and 2.0 differ, and so do 1 and true. ``error`` is a substring of
``str(error)``; ``error_type`` optionally names the ExpressionError subclass. ``comment`` is free text.
"""
from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from local_runtime.expressions import REGISTRY, ExpressionContext, ExpressionError, evaluate_expression, evaluate_value

CASES_DIR = Path(__file__).parent / "cases"

DEFAULT_STATE: dict[str, Any] = {
    "pipeline": {
        "RunId": "8a3c5f5e-6b7d-4e21-9c1a-0d2f3b4a5c6d", "Pipeline": "train_pipeline", "DataFactory": "adf-mlops-dev",
        "TriggerTime": "2018-04-15T12:59:00.1234567Z", "TriggerType": "BlobEventsTrigger",
        "TriggerName": "on_new_data", "GroupId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "TriggeredByPipelineName": None, "TriggeredByPipelineRunId": None,
        "parameters": {
            "myNumber": 42, "myString": "foo", "firstName": "Sophia", "lastName": "Owen", "flag": True,
            "ratio": 0.25, "items": ["a", "b", "c"], "column": "Name", "empty": "", "nothing": None,
            "config": {"container": "data", "folders": ["raw", "prepared"]},
        },
    },
    "variables": {"counter": 3, "name": "Contoso", "list": [1, 2, 3], "obj": {"a": 1},
                  "companyName": "Contoso-\nCorporation"},
    "activity_outputs": {
        "Notebook": {"output": {"runOutput": "{\"manifest_uri\": \"abfss://data@acct.dfs.core.windows.net/m.json\", "
                                             "\"metrics\": {\"auc\": 0.64}}",
                                "runPageUrl": "https://adb-1.azuredatabricks.net/run/1"},
                     "status": "Succeeded", "error": None},
        "Lookup": {"output": {"count": 1, "firstRow": {"Id": 7, "Name": "x"}, "value": [{"Id": 7}]},
                   "status": "Succeeded", "error": None},
        "Failing": {"output": None, "status": "Failed", "error": {"errorCode": "2011", "message": "boom"}},
    },
    "item": None,
    "trigger": {"name": "on_new_data", "startTime": "2018-04-15T12:59:00Z",
                "outputs": {"body": {"folderPath": "data/incoming", "fileName": "train.csv"}, "headers": {}}},
    "linked_service_parameters": {"domain": "https://adb-1.azuredatabricks.net", "clusterId": "0415-abc"},
    "dataset_parameters": {"path": "data/raw", "fileName": "train.csv"},
    "global_parameters": {"environment": "dev", "OpsPrincipalClientId": "id-123"},
    "now": "2018-04-15T13:00:00Z",
    "guids": ["c2ecc88d-88c8-4096-912c-d6f2e2b138ce", "0f8fad5b-d9cb-469f-a165-70867728950e"],
    "random_seed": 0,
}
_CONTEXT_KEYS = ("pipeline", "variables", "activity_outputs", "item", "trigger", "linked_service_parameters",
                 "dataset_parameters", "global_parameters")


def build_context(given: dict) -> ExpressionContext:
    unknown = set(given) - set(DEFAULT_STATE)
    assert not unknown, f"unknown 'given' keys: {sorted(unknown)}"
    state = json.loads(json.dumps({**DEFAULT_STATE, **given}))  # a fresh deep copy per case
    now = datetime.fromisoformat(state["now"].replace("Z", "+00:00"))
    guids = iter(state["guids"])
    return ExpressionContext(
        **{key: state[key] for key in _CONTEXT_KEYS},
        clock=lambda: now,
        new_guid=lambda: uuid.UUID(next(guids)),
        random=random.Random(state["random_seed"]),
    )


def load_cases() -> list:
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        for index, case in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            assert ("expression" in case) != ("value" in case), f"{path.name}[{index}]: need expression or value"
            assert ("result" in case) != ("error" in case), f"{path.name}[{index}]: need result or error"
            shown = case.get("expression", json.dumps(case.get("value")))
            cases.append(pytest.param(case, id=f"{path.stem}[{index}] {shown[:60]}"))
    return cases


CASES = load_cases()


def strictly_equal(actual: Any, expected: Any) -> bool:
    """Equality that tells 2 from 2.0 and 1 from true, recursively."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(map(strictly_equal, actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(strictly_equal(actual[k], expected[k]) for k in expected)
    return actual == expected


def run(case: dict) -> Any:
    context = build_context(case.get("given", {}))
    if "expression" in case:
        return evaluate_expression(case["expression"], context)
    return evaluate_value(case["value"], context)


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict) -> None:
    if "error" in case:
        with pytest.raises(ExpressionError) as info:
            run(case)
        assert case["error"] in str(info.value)
        if "error_type" in case:
            assert type(info.value).__name__ == case["error_type"]
    else:
        actual = run(case)
        assert strictly_equal(actual, case["result"]), f"got {actual!r}, expected {case['result']!r}"


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 200


def test_every_registered_function_has_cases() -> None:
    text = "\n".join(json.dumps(c.values[0]).lower() for c in CASES)
    missing = [name for name in REGISTRY.names() if not re.search(rf"\b{name.lower()}\(", text)]
    assert not missing, f"functions without a conformance case: {missing}"
