"""Syntax tree of the expression language: small immutable nodes that remember where they start.

``pos`` is an offset into the whole JSON string value the node was parsed from, so evaluation errors
can point at the failing function name, argument or property.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Literal:
    """A string, integer, float, true, false or null written in the expression."""
    value: Any
    pos: int


@dataclass(frozen=True)
class Call:
    """``name(arg, ...)``; function names are resolved case-insensitively at evaluation."""
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Property:
    """``target.name`` or, with ``safe``, ``target?.name`` (null instead of an error)."""
    target: Node
    name: str
    safe: bool
    pos: int  # offset of the name


@dataclass(frozen=True)
class Index:
    """``target[index]`` or, with ``safe``, ``target?[index]``; the index is any expression."""
    target: Node
    index: Node
    safe: bool
    pos: int  # offset of the '[' or '?['


@dataclass(frozen=True)
class Text:
    """Literal text between interpolations; ``@@{`` has already been unescaped."""
    value: str
    pos: int


@dataclass(frozen=True)
class Template:
    """A string with ``@{...}`` interpolations; always evaluates to a string."""
    parts: tuple[Text | Node, ...]
    pos: int


Node = Literal | Call | Property | Index | Template
