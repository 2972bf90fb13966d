"""Parser: recursive descent from tokens to the syntax tree in :mod:`.ast`.

Grammar (ADF has no operators; everything is a function call)::

    value       := '@' expression            -- the whole JSON string is one expression, any type
                 | template                  -- literal text with '@{' expression '}' parts, a string
    expression  := primary postfix*
    primary     := STRING | INTEGER | FLOAT | 'true' | 'false' | 'null'
                 | NAME '(' [expression (',' expression)*] ')'
    postfix     := '.' NAME | '?.' NAME | '[' expression ']' | '?[' expression ']'

Escapes: a value starting with ``@@`` is the literal text after the first ``@``; inside a template
``@@{`` is the literal text ``@{``; any other ``@`` is literal.
"""
from __future__ import annotations

from functools import lru_cache

from . import lexer as t
from .ast import Call, Index, Literal, Node, Property, Template, Text
from .errors import ParseError

_KEYWORDS = {"true": True, "false": False, "null": None}
_EXPECTED_PRIMARY = "expected an expression (a string, a number, true, false, null or a function call)"


class Parser:
    """Parses one expression starting at ``start`` of ``text``; see :func:`parse_value`."""

    def __init__(self, text: str, start: int):
        self.text = text
        self.lexer = t.Lexer(text, start)
        self.token = self.lexer.next_token()

    # -- helpers ---------------------------------------------------------------------------------
    def _advance(self) -> t.Token:
        token = self.token
        self.token = self.lexer.next_token()
        return token

    def _error(self, message: str, position: int | None = None) -> ParseError:
        return ParseError(message, self.text, self.token.start if position is None else position)

    def _expect(self, kind: str, context: str) -> t.Token:
        if self.token.kind != kind:
            raise self._error(f"Expected '{kind}' {context}, found {self.token.describe()}")
        return self._advance()

    # -- grammar ---------------------------------------------------------------------------------
    def expression(self) -> Node:
        node = self._primary()
        while True:
            kind = self.token.kind
            if kind in (t.DOT, t.SAFE_DOT):
                self._advance()
                if self.token.kind != t.IDENTIFIER:
                    raise self._error(f"Expected a property name after '{kind}', found {self.token.describe()} "
                                      f"(use ['name'] for names with other characters)")
                name = self._advance()
                node = Property(node, name.value, kind == t.SAFE_DOT, name.start)
            elif kind in (t.LBRACKET, t.SAFE_LBRACKET):
                opening = self._advance()
                index = self.expression()
                if self.token.kind != t.RBRACKET:
                    raise self._error(f"Expected ']' to close the '{opening.value}' at column "
                                      f"{opening.start + 1}, found {self.token.describe()}")
                self._advance()
                node = Index(node, index, kind == t.SAFE_LBRACKET, opening.start)
            else:
                return node

    def _primary(self) -> Node:
        token = self.token
        if token.kind in (t.STRING, t.INTEGER, t.FLOAT):
            self._advance()
            return Literal(token.value, token.start)
        if token.kind != t.IDENTIFIER:
            found = "Unexpected end of expression" if token.kind == t.EOF else f"Unexpected {token.describe()}"
            raise self._error(f"{found}: {_EXPECTED_PRIMARY}")
        self._advance()
        if self.token.kind == t.LPAREN:
            return self._call(token)
        if token.value in _KEYWORDS:
            return Literal(_KEYWORDS[token.value], token.start)
        if token.value.lower() in _KEYWORDS:
            raise self._error(f"Unknown name '{token.value}': the literal is written in lower case, "
                              f"'{token.value.lower()}'", token.start)
        raise self._error(f"Unknown name '{token.value}': expected '(' after a function name "
                          f"(e.g. {token.value}()); string literals need single quotes ('{token.value}')",
                          token.start)

    def _call(self, name: t.Token) -> Call:
        self._advance()  # '('
        args: list[Node] = []
        if self.token.kind == t.RPAREN:
            self._advance()
            return Call(name.value, (), name.start)
        while True:
            args.append(self.expression())
            if self.token.kind == t.RPAREN:
                self._advance()
                return Call(name.value, tuple(args), name.start)
            if self.token.kind != t.COMMA:
                raise self._error(f"Expected ',' or ')' after argument {len(args)} of {name.value}(), "
                                  f"found {self.token.describe()}")
            self._advance()

    # -- entry points ----------------------------------------------------------------------------
    def whole(self) -> Node:
        node = self.expression()
        if self.token.kind != t.EOF:
            raise self._error(f"Unexpected {self.token.describe()} after a complete expression: expected the end "
                              f"(ADF has no operators; combine values with functions such as concat() or add())")
        return node

    def interpolation(self, opened_at: int) -> tuple[Node, int]:
        node = self.expression()
        if self.token.kind != t.RBRACE:
            raise self._error(f"Expected '}}' to close the '@{{' at column {opened_at + 1}, "
                              f"found {self.token.describe()}")
        return node, self.token.end


@lru_cache(maxsize=4096)
def parse_value(text: str) -> Node:
    """Parse one JSON string value: ``@expr``, a template with ``@{...}``, or plain text.

    Plain text (no expression) comes back as a :class:`Literal` holding the unescaped string.
    """
    if text.startswith("@") and not text.startswith(("@@", "@{")):
        return Parser(text, 1).whole()
    return _template(text)


def parse_expression(text: str, start: int = 0) -> Node:
    """Parse ``text[start:]`` as a single expression (no leading ``@``)."""
    return Parser(text, start).whole()


def _template(text: str) -> Node:
    parts: list[Text | Node] = []
    escaped = text.startswith("@@")  # a leading '@@' stands for a literal '@'
    buffer: list[str] = ["@"] if escaped else []
    literal_start, pos = 0, 2 if escaped else 0
    while True:
        at = text.find("@", pos)
        if at == -1:
            buffer.append(text[pos:])
            break
        if text.startswith("@@{", at):  # escaped interpolation: literal '@{'
            buffer.append(text[pos:at] + "@{")
            pos = at + 3
        elif text.startswith("@{", at):
            buffer.append(text[pos:at])
            if any(buffer):
                parts.append(Text("".join(buffer), literal_start))
            buffer = []
            node, pos = Parser(text, at + 2).interpolation(at)
            parts.append(node)
            literal_start = pos
        else:
            buffer.append(text[pos:at + 1])
            pos = at + 1
    if not parts:
        return Literal("".join(buffer), 0)
    if any(buffer):
        parts.append(Text("".join(buffer), literal_start))
    return Template(tuple(parts), 0)
