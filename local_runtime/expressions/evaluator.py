"""Evaluator: walks the syntax tree against an :class:`~.context.ExpressionContext`.

Also home of the two entry points the pipeline engine calls, :func:`evaluate_value` (any JSON value)
and :func:`evaluate_expression` (one string value).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import library  # noqa: F401  (importing the library registers the built-in functions)
from .ast import Call, Index, Literal, Node, Property, Template, Text
from .context import ExpressionContext
from .errors import EvaluationError, ExpressionError
from .functions import REGISTRY, FunctionRegistry, FunctionSpec
from .parser import parse_value
from .values import describe, find_key, parse_json_container, to_text

_SAFE_HINT = "use '?.' or '?[' to get null instead"


class Evaluator:
    """Evaluates nodes parsed from ``source`` (the whole JSON string, for error carets)."""

    def __init__(self, context: ExpressionContext, source: str, registry: FunctionRegistry = REGISTRY):
        self.context = context
        self.source = source
        self.registry = registry

    def evaluate(self, node: Node) -> Any:
        return self._DISPATCH[type(node)](self, node)

    def _fail(self, message: str, position: int) -> EvaluationError:
        return EvaluationError(message, self.source, position)

    # -- nodes ------------------------------------------------------------------------------------
    def _literal(self, node: Literal) -> Any:
        return node.value

    def _template(self, node: Template) -> str:
        return "".join(part.value if isinstance(part, Text) else to_text(self.evaluate(part)) for part in node.parts)

    def _call(self, node: Call) -> Any:
        spec = self.registry.lookup(node.name)
        if spec is None:
            close = self.registry.suggest(node.name)
            hint = (f"; did you mean {' or '.join(name + '()' for name in close)}?" if close
                    else ": it is not one of ADF's expression functions")
            raise self._fail(f"Unknown function '{node.name}'{hint}", node.pos)
        problem = spec.arity_problem(len(node.args))
        if problem:
            raise self._fail(problem, node.pos)
        if spec.lazy:
            args = [self._thunk(spec, i, arg) for i, arg in enumerate(node.args)]
        else:
            args = [self._checked(spec, i, arg) for i, arg in enumerate(node.args)]
        try:
            return spec.invoke(self.context, args)
        except ExpressionError as error:
            if not error.located:
                error.message = f"{spec.name}(): {error.message}"
                error.args = (error.message,)
            raise error.locate(self.source, node.pos) from None
        except (ValueError, ArithmeticError) as error:
            raise self._fail(f"{spec.name}(): {error}", node.pos) from error

    def _checked(self, spec: FunctionSpec, index: int, node: Node) -> Any:
        value = self.evaluate(node)
        problem = spec.type_problem(index, value)
        if problem:
            raise self._fail(problem, node.pos)
        return value

    def _thunk(self, spec: FunctionSpec, index: int, node: Node) -> Callable[[], Any]:
        return lambda: self._checked(spec, index, node)

    def _property(self, node: Property) -> Any:
        target = self.evaluate(node.target)
        return self._select(target, node.name, node.safe, node.pos)

    def _index(self, node: Index) -> Any:
        target = self.evaluate(node.target)
        key = self.evaluate(node.index)
        return self._select(target, key, node.safe, node.pos)

    _DISPATCH: dict[type, Callable[[Evaluator, Any], Any]] = {
        Literal: _literal, Template: _template, Call: _call, Property: _property, Index: _index,
    }

    # -- selection ----------------------------------------------------------------------------------
    def _select(self, target: Any, key: Any, safe: bool, position: int) -> Any:
        what = f"property '{key}'" if isinstance(key, str) else f"index {to_text(key)}"
        if isinstance(target, str):  # JSON text (e.g. a notebook's runOutput) is navigable, as in ADF
            parsed = parse_json_container(target)
            target = target if parsed is None else parsed
        if target is None:
            if safe:
                return None
            raise self._fail(f"Cannot select {what} of null ({_SAFE_HINT})", position)
        if isinstance(target, dict):
            if not isinstance(key, str):
                raise self._fail(f"Cannot select {what} of an object: object properties are selected by name, "
                                 f"e.g. ['name']", position)
            found, value = find_key(target, key)
            if found:
                return value
            if safe:
                return None
            names = list(target)
            available = ", ".join(f"'{name}'" for name in names[:20]) + (", ..." if len(names) > 20 else "")
            raise self._fail(f"Property '{key}' doesn't exist, available properties are "
                             f"{available or 'none (the object is empty)'} ({_SAFE_HINT})", position)
        if isinstance(target, list):
            if isinstance(key, bool) or not isinstance(key, int):
                raise self._fail(f"Cannot select {what} of an array: arrays are indexed by an integer, e.g. [0]",
                                 position)
            if 0 <= key < len(target):
                return target[key]
            if safe:
                return None
            valid = f"0 to {len(target) - 1}" if target else "none, the array is empty"
            raise self._fail(f"Index {key} is out of range: the array has {len(target)} item(s), valid indexes "
                             f"are {valid} ({_SAFE_HINT})", position)
        raise self._fail(f"Cannot select {what} of {describe(target)}: selection needs an object or an array",
                         position)


def evaluate_expression(text: str, context: ExpressionContext) -> Any:
    """Evaluate one JSON string value the way ADF does.

    ``"@expr"`` -> the value of the expression, whatever its type; ``"...@{expr}..."`` -> a string;
    ``"@@..."`` -> the literal text after the first ``@``; anything else -> the text unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"evaluate_expression() takes a string, not {type(text).__name__}")
    node = parse_value(text)
    if isinstance(node, Literal):
        return node.value
    return Evaluator(context, text).evaluate(node)


def evaluate_value(value: Any, context: ExpressionContext) -> Any:
    """Evaluate every expression inside a JSON value (strings, lists, dicts), returning a new value.

    ``{"value": "...", "type": "Expression"}`` objects evaluate to the value of their expression;
    ``{"type": "SecureString", ...}`` objects are returned unchanged; other values are returned as is.
    """
    if isinstance(value, str):
        return evaluate_expression(value, context)
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "Expression" and isinstance(value.get("value"), str) and set(value) <= {"type", "value"}:
            return evaluate_expression(value["value"], context)
        if kind == "SecureString":
            return value
        return {key: evaluate_value(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate_value(item, context) for item in value]
    return value
