"""Logical functions: equals, less, lessOrEquals, greater, greaterOrEquals, and, or, not, if.

``and``, ``or`` and ``if`` are lazy: arguments that cannot change the result are never evaluated.

``equals`` compares deeply; numbers compare by value across integer and float (``equals(1, 1.0)``),
and, as Microsoft documents (``equals(true, 1)`` is true), booleans compare as 1 and 0 with numbers;
strings never equal numbers and are compared case-sensitively. The ordering functions take two
numbers or two strings (ordinal comparison, so ISO timestamps compare chronologically).
"""
from __future__ import annotations

import operator

from ..errors import EvaluationError
from ..functions import function
from ..values import describe, is_number


@function("equals", "object1: any", "object2: any")
def equals(first, second):
    return first == second


def _comparison(name: str, compare):
    @function(name, "value: number|string", "compareTo: number|string")
    def implementation(value, compare_to):
        if is_number(value) != is_number(compare_to):
            raise EvaluationError(f"cannot compare {describe(value)} with {describe(compare_to)}: "
                                  f"both values must be numbers or both strings")
        return compare(value, compare_to)

    return implementation


less = _comparison("less", operator.lt)
less_or_equals = _comparison("lessOrEquals", operator.le)
greater = _comparison("greater", operator.gt)
greater_or_equals = _comparison("greaterOrEquals", operator.ge)


@function("and", "expression1: boolean", "expressions: boolean+", lazy=True)
def and_(*thunks):
    return all(thunk() for thunk in thunks)


@function("or", "expression1: boolean", "expressions: boolean+", lazy=True)
def or_(*thunks):
    return any(thunk() for thunk in thunks)


@function("not", "expression: boolean")
def not_(value):
    return not value


@function("if", "expression: boolean", "valueIfTrue: any", "valueIfFalse: any", lazy=True)
def if_(condition, when_true, when_false):
    return when_true() if condition() else when_false()
