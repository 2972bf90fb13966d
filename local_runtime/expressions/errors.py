"""Exceptions of the expression language: one root, one subclass per phase.

Every error can carry the text it was raised for and the offset of the failing character; ``str(error)``
then shows the message, the line of the expression and a ``^`` under the failing column::

    Unexpected ')': expected an expression (a string, a number, true, false, null or a function call)
      @concat('a',)
                  ^
"""
from __future__ import annotations


class ExpressionError(Exception):
    """Root of every error raised while lexing, parsing or evaluating an ADF expression."""

    def __init__(self, message: str, expression: str | None = None, position: int | None = None):
        self.message = message
        self.expression = expression
        self.position = position
        super().__init__(message)

    @property
    def located(self) -> bool:
        return self.expression is not None and self.position is not None

    @property
    def line(self) -> int | None:
        """1-based line of the failing character (expressions may span lines)."""
        if not self.located:
            return None
        return self.expression.count("\n", 0, self.position) + 1

    @property
    def column(self) -> int | None:
        """1-based column of the failing character within its line."""
        if not self.located:
            return None
        return self.position - (self.expression.rfind("\n", 0, self.position) + 1) + 1

    def locate(self, expression: str, position: int) -> ExpressionError:
        """Attach the text and offset, unless a more precise location is already known."""
        if not self.located:
            self.expression = expression
            self.position = position
        return self

    def __str__(self) -> str:
        if not self.located:
            return self.message
        start = self.expression.rfind("\n", 0, self.position) + 1
        end = self.expression.find("\n", self.position)
        text = self.expression[start:] if end == -1 else self.expression[start:end]
        where = f" (line {self.line}, column {self.column})" if "\n" in self.expression else ""
        caret = " " * (self.column - 1) + "^"
        return f"{self.message}{where}\n  {text}\n  {caret}"


class LexError(ExpressionError):
    """A character sequence that is not a token: an unterminated string, a stray character."""


class ParseError(ExpressionError):
    """Tokens in an order the grammar does not allow: a missing ')', a dangling ',', a bare name."""


class EvaluationError(ExpressionError):
    """A well-formed expression that cannot be evaluated against the given state: an unknown
    function or property, a wrong argument count or type, a division by zero."""
