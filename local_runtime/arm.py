"""Resolve an ARM template with its parameters the way Azure Resource Manager does, for the expressions an
ADF export uses: `[concat(...)]`, `[parameters('x')]`, `[variables('x')]`, string literals with '' escapes,
numbers, nested calls and `[[` escapes. An unsupported function is an error naming it, not a silent pass."""
from __future__ import annotations

import re
from typing import Any, Callable

from local_runtime.errors import DeployError

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),.\[\]]))")


class _Parser:
    def __init__(self, text: str, functions: dict[str, Callable[..., Any]]):
        self.text, self.pos, self.functions = text, 0, functions

    def fail(self, expected: str) -> DeployError:
        return DeployError(f"ARM expression [{self.text}]: expected {expected} at column {self.pos + 2}\n"
                           f"  [{self.text}]\n  {' ' * (self.pos + 1)}^")

    def token(self) -> tuple[str, str] | None:
        match = _TOKEN.match(self.text, self.pos)
        if not match or match.end() == self.pos:
            return None
        kind = match.lastgroup
        return kind, match.group(kind)

    def take(self) -> tuple[str, str]:
        match = _TOKEN.match(self.text, self.pos)
        if not match:
            raise self.fail("a value")
        self.pos = match.end()
        return match.lastgroup, match.group(match.lastgroup)

    def expect(self, punct: str) -> None:
        kind, value = self.take()
        if kind != "punct" or value != punct:
            raise self.fail(f"'{punct}'")

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            result: Any = text[1:-1].replace("''", "'")
        elif kind == "num":
            result = int(text)
        elif kind == "name":
            func = self.functions.get(text.lower())
            if func is None:
                raise DeployError(f"ARM function {text}() is not supported by the local deployer; "
                                  f"supported: {', '.join(sorted(self.functions))}")
            self.expect("(")
            args = []
            if self.token() != ("punct", ")"):
                args.append(self.value())
                while self.token() == ("punct", ","):
                    self.take()
                    args.append(self.value())
            self.expect(")")
            result = func(*args)
        else:
            raise self.fail("a string, a number or a function call")
        while self.token() in (("punct", "."), ("punct", "[")):
            _, punct = self.take()
            if punct == ".":
                _, prop = self.take()
                result = result[prop]
            else:
                index = self.value()
                self.expect("]")
                result = result[index]
        return result


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
            return _Parser(value[1:-1], functions).value()
        if isinstance(value, dict):
            return {k: evaluate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [evaluate(v) for v in value]
        return value

    return [evaluate(resource) for resource in template.get("resources", [])]
