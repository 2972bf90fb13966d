"""The function registry: functions declare their signature in a decorator; lookup ignores case.

    @function("substring", "text: string", "startIndex: integer", "length: integer?")
    def substring(text, start, length=None): ...

A parameter is ``name: type`` where type is one of ``string integer float number boolean array object
null any`` or a union such as ``string|array``; suffix ``?`` makes it optional, ``*`` repeats it zero
or more times, ``+`` one or more times. The evaluator checks the argument count before evaluating
arguments and each argument's type before calling; implementations only raise
:class:`~.errors.EvaluationError` for value-level problems (an out-of-range index, a bad format).

``context=True`` passes the :class:`~.context.ExpressionContext` first. ``lazy=True`` passes
zero-argument callables instead of values, so ``and``, ``or`` and ``if`` can short-circuit; each
callable checks its value's type when called.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .values import describe, is_number

_CHECKS: dict[str, Callable[[Any], bool]] = {
    "any": lambda v: True,
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, float),
    "number": is_number,
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
_PHRASES = {"any": "any value", "null": "null", "boolean": "a boolean", "integer": "an integer",
            "float": "a float", "number": "a number", "string": "a string", "array": "an array",
            "object": "an object"}


@dataclass(frozen=True)
class Parameter:
    name: str
    types: tuple[str, ...]
    optional: bool = False
    repeat: str = ""  # "", "*" (zero or more) or "+" (one or more)

    @classmethod
    def parse(cls, text: str) -> Parameter:
        name, _, kind = (part.strip() for part in text.partition(":"))
        optional, repeat = kind.endswith("?"), kind[-1] if kind[-1:] in "*+" else ""
        kind = kind.rstrip("?*+")
        types = tuple(kind.split("|"))
        unknown = [name for name in types if name not in _CHECKS]
        if not name or unknown:
            raise ValueError(f"bad parameter declaration {text!r}")
        return cls(name, types, optional, repeat)

    def accepts(self, value: Any) -> bool:
        return any(_CHECKS[kind](value) for kind in self.types)

    @property
    def expected(self) -> str:
        return " or ".join(_PHRASES[kind] for kind in self.types)

    def __str__(self) -> str:
        marker = {"*": "...", "+": "..."}.get(self.repeat, "?" if self.optional else "")
        return f"{self.name}{marker}: {'|'.join(self.types)}"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    impl: Callable[..., Any]
    params: tuple[Parameter, ...]
    context: bool = False
    lazy: bool = False

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional and p.repeat != "*")

    @property
    def max_args(self) -> int | None:
        return None if any(p.repeat for p in self.params) else len(self.params)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(map(str, self.params))})"

    def parameter(self, index: int) -> Parameter:
        return self.params[min(index, len(self.params) - 1)]

    def arity_problem(self, count: int) -> str | None:
        low, high = self.min_args, self.max_args
        if low <= count and (high is None or count <= high):
            return None
        if high is None:
            wanted = f"at least {low}"
        elif low == high:
            wanted = f"exactly {low}"
        else:
            wanted = f"{low} to {high}"
        noun = "argument" if (low if high is None else high) == 1 else "arguments"
        return f"{self.name}() takes {wanted} {noun} but got {count}: {self.signature}"

    def type_problem(self, index: int, value: Any) -> str | None:
        param = self.parameter(index)
        if param.accepts(value):
            return None
        return (f"{self.name}() expects argument {index + 1} ({param.name}) to be {param.expected}, "
                f"but got {describe(value)}")

    def invoke(self, context: Any, args: list[Any]) -> Any:
        return self.impl(context, *args) if self.context else self.impl(*args)


class FunctionRegistry:
    """Functions by case-folded name."""

    def __init__(self) -> None:
        self._specs: dict[str, FunctionSpec] = {}

    def register(self, spec: FunctionSpec) -> None:
        key = spec.name.casefold()
        if key in self._specs:
            raise ValueError(f"function {spec.name!r} is registered twice")
        self._specs[key] = spec

    def function(self, name: str, *params: str, context: bool = False, lazy: bool = False,
                 aliases: Iterable[str] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering ``impl`` as ``name`` (and ``aliases``) with the declared parameters."""
        parsed = tuple(Parameter.parse(p) for p in params)

        def decorate(impl: Callable[..., Any]) -> Callable[..., Any]:
            for each in (name, *aliases):
                self.register(FunctionSpec(each, impl, parsed, context, lazy))
            return impl

        return decorate

    def lookup(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name.casefold())

    def suggest(self, name: str) -> list[str]:
        folded = {key: spec.name for key, spec in self._specs.items()}
        return [folded[key] for key in difflib.get_close_matches(name.casefold(), folded, n=3, cutoff=0.6)]

    def names(self) -> list[str]:
        return sorted(spec.name for spec in self._specs.values())

    def __contains__(self, name: str) -> bool:
        return name.casefold() in self._specs


REGISTRY = FunctionRegistry()
function = REGISTRY.function
