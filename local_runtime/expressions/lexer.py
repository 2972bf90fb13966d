"""Lexer: turns the text of one expression into tokens that carry their offsets.

The lexer works on a window of a larger text (the part after ``@``, or the inside of ``@{...}``) and
reports offsets into the *whole* text, so error carets line up with what the user wrote. It is lazy:
the parser pulls one token at a time, which lets ``@{...}`` stop at the ``}`` that closes it even when
string literals inside contain braces.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LexError

# Token kinds.
STRING, INTEGER, FLOAT, IDENTIFIER = "string", "integer", "float", "identifier"
LPAREN, RPAREN, LBRACKET, RBRACKET, RBRACE = "(", ")", "[", "]", "}"
COMMA, DOT, SAFE_DOT, SAFE_LBRACKET, EOF = ",", ".", "?.", "?[", "end of expression"

_PUNCTUATION = {"(": LPAREN, ")": RPAREN, "[": LBRACKET, "]": RBRACKET, "}": RBRACE, ",": COMMA, ".": DOT}
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class Token:
    kind: str
    value: object
    start: int  # offset of the first character in the whole text
    end: int  # offset just past the last character

    def describe(self) -> str:
        if self.kind == EOF:
            return "the end of the expression"
        if self.kind == STRING:
            return f"string '{self.value}'"
        if self.kind in (INTEGER, FLOAT):
            return f"number {self.value}"
        if self.kind == IDENTIFIER:
            return f"'{self.value}'"
        return f"'{self.kind}'"


class Lexer:
    """Produces tokens from ``text[start:end]`` on demand via :meth:`next_token`."""

    def __init__(self, text: str, start: int = 0, end: int | None = None):
        self.text = text
        self.pos = start
        self.end = len(text) if end is None else end

    def next_token(self) -> Token:
        text, end = self.text, self.end
        while self.pos < end and text[self.pos] in _WHITESPACE:
            self.pos += 1
        start = self.pos
        if start >= end:
            return Token(EOF, None, start, start)
        char = text[start]
        if char == "'":
            return self._string(start)
        if char in "-.0123456789" and _NUMBER.match(text, start, end):
            return self._number(start)
        if char == "?":
            following = text[start + 1] if start + 1 < end else ""
            if following in (".", "["):
                self.pos = start + 2
                return Token(SAFE_DOT if following == "." else SAFE_LBRACKET, "?" + following, start, start + 2)
            raise LexError("A '?' must be followed by '.' or '[' (safe navigation: a?.b or a?['b'])", text, start)
        if char in _PUNCTUATION:
            self.pos = start + 1
            return Token(_PUNCTUATION[char], char, start, start + 1)
        match = _IDENTIFIER.match(text, start, end)
        if match:
            self.pos = match.end()
            return Token(IDENTIFIER, match.group(), start, match.end())
        if char == '"':
            raise LexError('String literals use single quotes: write \'text\', not "text"', text, start)
        if char == "{":
            raise LexError("Unexpected '{': object literals are not part of the expression language "
                           "(use json('{...}') to build an object)", text, start)
        raise LexError(f"Unexpected character {char!r}: expected a string, a number, a name or one of ( ) [ ] , . ?.",
                       text, start)

    def _string(self, start: int) -> Token:
        text, end = self.text, self.end
        pieces: list[str] = []
        pos = start + 1
        while True:
            quote = text.find("'", pos, end)
            if quote == -1:
                raise LexError("Unterminated string literal: expected a closing ' "
                               "(write '' for a quote inside a string)", text, start)
            pieces.append(text[pos:quote])
            if quote + 1 < end and text[quote + 1] == "'":
                pieces.append("'")
                pos = quote + 2
                continue
            self.pos = quote + 1
            return Token(STRING, "".join(pieces), start, quote + 1)

    def _number(self, start: int) -> Token:
        match = _NUMBER.match(self.text, start, self.end)
        literal = match.group()
        self.pos = match.end()
        if self.pos < self.end and (self.text[self.pos].isalpha() or self.text[self.pos] == "_"):
            raise LexError(f"Malformed number {literal + self.text[self.pos]!r}...: a number cannot run into a name",
                           self.text, start)
        if any(c in literal for c in ".eE"):
            return Token(FLOAT, float(literal), start, self.pos)
        return Token(INTEGER, int(literal), start, self.pos)


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """All tokens of ``text[start:end]``, ending with an EOF token (handy for tests and tools)."""
    lexer = Lexer(text, start, end)
    tokens = [lexer.next_token()]
    while tokens[-1].kind != EOF:
        tokens.append(lexer.next_token())
    return tokens
