"""The public API as the pipeline engine uses it: live state, injection, the registry, token positions."""
from __future__ import annotations

import copy
import random
import re
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from local_runtime.expressions import (
    REGISTRY,
    EvaluationError,
    Evaluator,
    ExpressionContext,
    FunctionRegistry,
    evaluate_expression,
    evaluate_value,
    parse_expression,
)
from local_runtime.expressions.lexer import tokenize
from local_runtime.expressions.timezones import WINDOWS_TO_IANA


def test_variables_and_activity_outputs_are_read_live():
    variables, outputs = {"counter": 1}, {}
    context = ExpressionContext(variables=variables, activity_outputs=outputs)
    assert evaluate_expression("@variables('counter')", context) == 1
    variables["counter"] = 2
    outputs["Copy"] = {"output": {"rowsCopied": 10}, "status": "Succeeded", "error": None}
    assert evaluate_expression("@add(variables('counter'), activity('Copy').output.rowsCopied)", context) == 12


def test_with_item_shares_the_run_state():
    context = ExpressionContext(variables={"v": "x"})
    iteration = context.with_item({"name": "a"})
    context.variables["v"] = "y"
    assert evaluate_expression("@concat(item().name, variables('v'))", iteration) == "ay"
    assert context.item is None


def test_clock_guid_and_random_are_injectable():
    context = ExpressionContext(clock=lambda: datetime(2024, 2, 29, 23, 59, 59),  # naive: read as UTC
                                new_guid=lambda: "0f8fad5b-d9cb-469f-a165-70867728950e",
                                random=random.Random(7))
    assert evaluate_expression("@getFutureTime(1, 'Second')", context) == "2024-03-01T00:00:00.0000000Z"
    assert evaluate_expression("@guid('N')", context) == "0f8fad5bd9cb469fa16570867728950e"
    expected = random.Random(7).randrange(0, 100)
    assert evaluate_expression("@rand(0, 100)", context) == expected


def test_default_context_uses_the_real_clock_and_guids():
    context = ExpressionContext()
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = evaluate_expression("@utcNow()", context)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", stamp)
    assert datetime.fromisoformat(stamp[:19] + "+00:00") >= before
    assert uuid.UUID(evaluate_expression("@guid()", context)).version == 4


def test_evaluate_value_returns_a_new_value_and_leaves_the_input_alone():
    value = {"a": ["@add(1, 1)", {"b": "@{1}"}], "c": {"value": "@true", "type": "Expression"}}
    original = copy.deepcopy(value)
    assert evaluate_value(value, ExpressionContext()) == {"a": [2, {"b": "1"}], "c": True}
    assert value == original


def test_evaluate_expression_takes_strings_only():
    with pytest.raises(TypeError, match="takes a string, not int"):
        evaluate_expression(5, ExpressionContext())


def test_tokens_carry_their_offsets():
    tokens = tokenize("@concat('it''s', x?.y)", 1)
    assert [(t.kind, t.value, t.start, t.end) for t in tokens] == [
        ("identifier", "concat", 1, 7), ("(", "(", 7, 8), ("string", "it's", 8, 15), (",", ",", 15, 16),
        ("identifier", "x", 17, 18), ("?.", "?.", 18, 20), ("identifier", "y", 20, 21), (")", ")", 21, 22),
        ("end of expression", None, 22, 22),
    ]


def test_nodes_remember_where_they_start():
    node = parse_expression("concat('a', pipeline().parameters['p'])")
    assert node.pos == 0 and node.args[0].pos == 7
    index = node.args[1]
    assert (index.pos, index.index.pos, index.target.name, index.target.pos) == (33, 34, "parameters", 23)


def test_a_registry_declares_signatures_and_ignores_case():
    registry = FunctionRegistry()

    @registry.function("shout", "text: string", "times: integer?")
    def shout(text, times=1):
        return text.upper() * times

    spec = registry.lookup("SHOUT")
    assert spec.signature == "shout(text: string, times?: integer)"
    assert (spec.min_args, spec.max_args) == (1, 2)
    evaluator = Evaluator(ExpressionContext(), "@Shout('a', 2)", registry)
    assert evaluator.evaluate(parse_expression("Shout('a', 2)")) == "AA"
    with pytest.raises(ValueError, match="registered twice"):
        registry.function("SHOUT")(shout)
    with pytest.raises(ValueError, match="bad parameter declaration"):
        registry.function("bad", "x: text")


def test_the_built_in_registry_knows_the_documented_functions():
    documented = {"concat", "substring", "replace", "guid", "indexOf", "lastIndexOf", "startsWith", "endsWith",
                  "split", "toLower", "toUpper", "trim", "contains", "empty", "first", "last", "intersection",
                  "union", "join", "skip", "take", "length", "equals", "less", "lessOrEquals", "greater",
                  "greaterOrEquals", "and", "or", "not", "if", "coalesce", "string", "int", "float", "bool",
                  "json", "array", "createArray", "base64", "base64ToString", "decodeBase64", "encodeUriComponent",
                  "decodeUriComponent", "uriComponent", "uriComponentToString", "dataUri", "dataUriToString",
                  "add", "sub", "mul", "div", "mod", "min", "max", "range", "rand", "utcNow", "formatDateTime",
                  "addDays", "addHours", "addMinutes", "addSeconds", "addToTime", "subtractFromTime",
                  "getFutureTime", "getPastTime", "startOfDay", "startOfHour", "startOfMonth", "dayOfWeek",
                  "dayOfMonth", "dayOfYear", "ticks", "convertTimeZone", "convertFromUtc", "convertToUtc",
                  "pipeline", "variables", "activity", "item", "trigger", "triggerBody", "triggerOutputs",
                  "linkedService", "dataset"}
    assert documented <= set(REGISTRY.names())


@pytest.mark.parametrize("windows_id", sorted(WINDOWS_TO_IANA))
def test_every_windows_time_zone_resolves(windows_id):
    ZoneInfo(WINDOWS_TO_IANA[windows_id])
    result = evaluate_expression(f"@convertFromUtc('2018-01-01T00:00:00Z', '{windows_id}', 'yyyy')",
                                 ExpressionContext())
    assert result in ("2017", "2018")


def test_evaluation_errors_from_functions_are_located():
    with pytest.raises(EvaluationError) as info:
        evaluate_expression("@json('{')", ExpressionContext())
    assert info.value.position == 1 and info.value.message.startswith("json(): '{' is not valid JSON")
