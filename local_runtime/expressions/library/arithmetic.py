"""Math functions: add, sub, mul, div, mod, min, max, range, rand.

Two integers give an integer, a float operand gives a float. ``div`` of integers truncates toward
zero and ``mod`` takes the sign of the dividend, like C# (``div(-7, 2)`` is -3, ``mod(-7, 2)`` is -1).
"""
from __future__ import annotations

import math

from ..errors import EvaluationError
from ..functions import function
from ..values import describe, is_number

RANGE_LIMIT = 100_000


@function("add", "summand1: number", "summand2: number")
def add(a, b):
    return a + b


@function("sub", "minuend: number", "subtrahend: number")
def sub(a, b):
    return a - b


@function("mul", "multiplicand1: number", "multiplicand2: number")
def mul(a, b):
    return a * b


def _check_divisor(divisor) -> None:
    if divisor == 0:
        raise EvaluationError("the divisor is 0; division by zero is not defined")


@function("div", "dividend: number", "divisor: number")
def div(a, b):
    _check_divisor(b)
    if isinstance(a, int) and isinstance(b, int):
        quotient = abs(a) // abs(b)
        return quotient if (a >= 0) == (b > 0) else -quotient
    return a / b


@function("mod", "dividend: number", "divisor: number")
def mod(a, b):
    _check_divisor(b)
    if isinstance(a, int) and isinstance(b, int):
        remainder = abs(a) % abs(b)
        return remainder if a >= 0 else -remainder
    return math.fmod(a, b)


def _numbers(values: tuple) -> list:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
        if not values:
            raise EvaluationError("the array is empty")
    for position, value in enumerate(values, 1):
        if not is_number(value):
            raise EvaluationError(f"expects numbers or one array of numbers, but item {position} is "
                                  f"{describe(value)}")
    return list(values)


@function("min", "values: number|array+")
def min_(*values):
    return min(_numbers(values))


@function("max", "values: number|array+")
def max_(*values):
    return max(_numbers(values))


@function("range", "startIndex: integer", "count: integer")
def range_(start, count):
    if not 0 <= count <= RANGE_LIMIT:
        raise EvaluationError(f"count must be between 0 and {RANGE_LIMIT}, not {count}")
    return list(range(start, start + count))


@function("rand", "minValue: integer", "maxValue: integer", context=True)
def rand(context, low, high):
    if low >= high:
        raise EvaluationError(f"minValue ({low}) must be less than maxValue ({high}); maxValue is exclusive")
    return context.random.randrange(low, high)
