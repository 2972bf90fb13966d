"""Error messages: what was expected, what was found, and a ``^`` under the failing column."""
from __future__ import annotations

import re

import pytest

from local_runtime.expressions import (
    EvaluationError,
    ExpressionContext,
    ExpressionError,
    LexError,
    ParseError,
    evaluate_expression,
)


@pytest.fixture
def context() -> ExpressionContext:
    return ExpressionContext(
        pipeline={"RunId": "r1", "parameters": {"config": {"container": "data"}, "items": ["a", "b"]}},
        variables={"n": 1},
    )


def caret(expression: str, column: int) -> str:
    """The two lines under a message: the expression, and '^' under the 0-based ``column``."""
    return f"\n  {expression}\n  {' ' * column}^"


def raises(kind: type, message: str, expression: str, column: int):
    return pytest.raises(kind, match="^" + re.escape(message + caret(expression, column)) + "$")


def test_parse_error_points_at_the_unexpected_token(context):
    text = "@concat('a',)"
    with raises(ParseError, "Unexpected ')': expected an expression (a string, a number, true, false, null "
                            "or a function call)", text, 12):
        evaluate_expression(text, context)


def test_missing_closing_parenthesis_points_past_the_end(context):
    text = "@concat('a', 'b'"
    with raises(ParseError, "Expected ',' or ')' after argument 2 of concat(), found the end of the expression",
                text, 16):
        evaluate_expression(text, context)


def test_unterminated_string_points_at_its_opening_quote(context):
    text = "@concat('a', 'b)"
    with raises(LexError, "Unterminated string literal: expected a closing ' (write '' for a quote inside a "
                          "string)", text, 13):
        evaluate_expression(text, context)


def test_stray_character_is_a_lex_error(context):
    text = "@add(1, 2) + 3"
    with raises(LexError, "Unexpected character '+': expected a string, a number, a name or one of ( ) [ ] , . ?.",
                text, 11):
        evaluate_expression(text, context)


def test_bare_name_suggests_a_call_or_quotes(context):
    text = "@concat(foo, 'a')"
    with raises(ParseError, "Unknown name 'foo': expected '(' after a function name (e.g. foo()); string literals "
                            "need single quotes ('foo')", text, 8):
        evaluate_expression(text, context)


def test_unknown_function_points_at_its_name_and_suggests(context):
    text = "@toUpper(substrin('abc', 1))"
    with raises(EvaluationError, "Unknown function 'substrin'; did you mean substring() or string()?", text, 9):
        evaluate_expression(text, context)


def test_wrong_argument_count_shows_the_signature(context):
    text = "@substring('abc')"
    with raises(EvaluationError, "substring() takes 2 to 3 arguments but got 1: substring(text: string, "
                                 "startIndex: integer, length?: integer)", text, 1):
        evaluate_expression(text, context)


def test_wrong_argument_type_points_at_the_argument(context):
    text = "@substring('abc', '1', 1)"
    with raises(EvaluationError, "substring() expects argument 2 (startIndex) to be an integer, but got a string "
                                 "('1')", text, 18):
        evaluate_expression(text, context)


def test_lazy_argument_type_is_checked_when_used(context):
    text = "@and(true, 1)"
    with raises(EvaluationError, "and() expects argument 2 (expressions) to be a boolean, but got an integer (1)",
                text, 11):
        evaluate_expression(text, context)


def test_failure_inside_a_function_points_at_that_call(context):
    text = "@concat('x', substring('hello', 3, 5))"
    with raises(EvaluationError, "substring(): startIndex 3 and length 5 are out of range for a string of length 5:"
                                 " both must be >= 0 and startIndex + length <= 5", text, 13):
        evaluate_expression(text, context)


def test_inner_error_keeps_its_own_position(context):
    text = "@add(div(1, 0), 1)"
    with raises(EvaluationError, "div(): the divisor is 0; division by zero is not defined", text, 5):
        evaluate_expression(text, context)


def test_missing_property_lists_the_available_ones(context):
    text = "@pipeline().parameters.config.containr"
    with raises(EvaluationError, "Property 'containr' doesn't exist, available properties are 'container' "
                                 "(use '?.' or '?[' to get null instead)", text, 30):
        evaluate_expression(text, context)


def test_index_out_of_range_points_at_the_bracket(context):
    text = "@pipeline().parameters.items[2]"
    with raises(EvaluationError, "Index 2 is out of range: the array has 2 item(s), valid indexes are 0 to 1 "
                                 "(use '?.' or '?[' to get null instead)", text, 28):
        evaluate_expression(text, context)


def test_errors_inside_interpolation_point_into_the_whole_string(context):
    text = "path/@{pipeline().RunId}/@{variables('m')}.csv"
    with raises(EvaluationError, "variables(): variable 'm' is not defined; defined: 'n'", text, 27):
        evaluate_expression(text, context)


def test_unclosed_interpolation_names_where_it_opened(context):
    text = "a @{add(1, 2) b"
    with raises(ParseError, "Expected '}' to close the '@{' at column 3, found 'b'", text, 14):
        evaluate_expression(text, context)


def test_multi_line_expression_shows_the_failing_line():
    text = "@concat(\n  'a',\n  nope('b'))"
    with pytest.raises(EvaluationError) as info:
        evaluate_expression(text, ExpressionContext())
    error = info.value
    assert (error.line, error.column, error.position) == (3, 3, 18)
    assert str(error) == ("Unknown function 'nope': it is not one of ADF's expression functions (line 3, column 3)"
                          "\n    nope('b'))\n    ^")


def test_every_error_is_an_expression_error_with_a_location(context):
    for text in ("@'", "@concat(", "@nope()", "@div(1, 0)"):
        with pytest.raises(ExpressionError) as info:
            evaluate_expression(text, context)
        assert info.value.expression == text
        assert info.value.position is not None
        assert info.value.column == info.value.position + 1


def test_unlocated_errors_print_just_the_message():
    error = EvaluationError("plain")
    assert str(error) == "plain" and error.line is None and error.column is None


def test_lex_and_parse_errors_are_not_evaluation_errors():
    assert issubclass(LexError, ExpressionError) and issubclass(ParseError, ExpressionError)
    assert not issubclass(LexError, EvaluationError) and not issubclass(ParseError, EvaluationError)
