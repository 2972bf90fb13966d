"""Resolve an ARM template with its parameters the way Azure Resource Manager does, for the expressions an
ADF export uses: `[concat(...)]`, `[parameters('x')]`, `[variables('x')]`, string literals with '' escapes,
numbers, nested calls and `[[` escapes. An unsupported function is an error naming it, not a silent pass.

Parsing (`parse`, to the small tree below) is separate from evaluation so `make validate` can check a
template's expressions without values for its parameters."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from local_runtime.errors import DeployError

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),.\[\]]))")


@dataclass(frozen=True)
class Literal:
    value: str | int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Member:
    """`target.name` (key is the name) or `target[index]` (key is a node)."""
    target: Node
    key: str | Node


Node = Literal | Call | Member


def is_expression(value: Any) -> bool:
    """A JSON string ARM evaluates: `[...]`, except `[[...` which is the literal text after the first `[`."""
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos, self.last = text, 0, 0  # last: start of the most recent token, for the ^

    def fail(self, expected: str) -> DeployError:
        return DeployError(f"ARM expression [{self.text}]: expected {expected} at column {self.pos + 2}\n"
                           f"  [{self.text}]\n  {' ' * (self.pos + 1)}^")

    def token(self) -> tuple[str, str] | None:
        match = _TOKEN.match(self.text, self.pos)
        if not match or match.end() == self.pos:
            return None
        kind = match.lastgroup
        return kind, match.group(kind)

    def take(self, expected: str = "a value") -> tuple[str, str]:
        match = _TOKEN.match(self.text, self.pos)
        if not match:
            self.skip_space()
            raise self.fail(expected)
        self.last, self.pos = match.start(match.lastgroup), match.end()
        return match.lastgroup, match.group(match.lastgroup)

    def expect(self, punct: str) -> None:
        kind, value = self.take(f"'{punct}'")
        if kind != "punct" or value != punct:
            self.pos = self.last
            raise self.fail(f"'{punct}'")

    def skip_space(self) -> None:
        self.pos += len(self.text[self.pos:]) - len(self.text[self.pos:].lstrip())

    def whole(self) -> Node:
        node = self.value()
        self.skip_space()
        if self.pos < len(self.text):
            raise self.fail("the end of the expression (combine values with functions such as concat())")
        return node

    def value(self) -> Node:
        kind, text = self.take()
        if kind == "str":
            node: Node = Literal(text[1:-1].replace("''", "'"))
        elif kind == "num":
            node = Literal(int(text))
        elif kind == "name":
            self.expect("(")
            args = []
            if self.token() != ("punct", ")"):
                args.append(self.value())
                while self.token() == ("punct", ","):
                    self.take()
                    args.append(self.value())
            self.expect(")")
            node = Call(text, tuple(args))
        else:
            self.pos = self.last
            raise self.fail("a string, a number or a function call")
        while self.token() in (("punct", "."), ("punct", "[")):
            _, punct = self.take()
            if punct == ".":
                node = Member(node, self.take()[1])
            else:
                node = Member(node, self.value())
                self.expect("]")
        return node


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """Parse the text between the brackets of an ARM expression; DeployError with a ^ marker if malformed."""
    return _Parser(text).whole()


def calls(node: Node) -> Iterator[Call]:
    """Every function call in the tree, outermost first."""
    if isinstance(node, Call):
        yield node
        for arg in node.args:
            yield from calls(arg)
    elif isinstance(node, Member):
        yield from calls(node.target)
        if not isinstance(node.key, str):
            yield from calls(node.key)


def evaluate_node(node: Node, functions: dict[str, Callable[..., Any]]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Call):
        func = functions.get(node.name.lower())
        if func is None:  # checked before the arguments, as ARM reports the outermost unknown function
            raise DeployError(f"ARM function {node.name}() is not supported by the local deployer; "
                              f"supported: {', '.join(sorted(functions))}")
        return func(*(evaluate_node(arg, functions) for arg in node.args))
    target = evaluate_node(node.target, functions)
    return target[node.key if isinstance(node.key, str) else evaluate_node(node.key, functions)]


def resolve(template: dict, parameter_values: dict[str, Any]) -> list[dict]:
    """Resources of the template with every expression evaluated."""
    declared = template.get("parameters", {})
    params: dict[str, Any] = {}
    for name, decl in declared.items():
        if name in parameter_values:
            params[name] = parameter_values[name]
        elif "defaultValue" in decl:
            params[name] = decl["defaultValue"]
        else:
            raise DeployError(f"template parameter {name!r} has no value and no default; set it in the parameters file")
    unknown = sorted(set(parameter_values) - set(declared))
    if unknown:
        raise DeployError(f"parameters file sets {unknown}, which the template does not declare; "
                          "regenerate both with `make generate`")
    variables: dict[str, Any] = {}

    def parameter(name: str) -> Any:
        if name not in params:
            raise DeployError(f"template uses parameters('{name}') but does not declare it")
        return params[name]

    def variable(name: str) -> Any:
        if name not in variables:
            variables[name] = evaluate(template.get("variables", {})[name])
        return variables[name]

    functions: dict[str, Callable[..., Any]] = {
        "concat": lambda *a: "".join(map(str, a)) if all(not isinstance(x, list) for x in a) else sum(a, []),
        "parameters": parameter,
        "variables": variable,
        "tolower": lambda s: s.lower(),
        "toupper": lambda s: s.upper(),
        "replace": lambda s, old, new: s.replace(old, new),
        "string": lambda v: v if isinstance(v, str) else str(v),
    }

    def evaluate(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
            if value.startswith("[["):
                return value[1:]
            return evaluate_node(parse(value[1:-1]), functions)
        if isinstance(value, dict):
            return {k: evaluate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [evaluate(v) for v in value]
        return value

    return [evaluate(resource) for resource in template.get("resources", [])]
