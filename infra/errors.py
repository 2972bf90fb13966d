"""One root error; every problem names the file, the key, what is wrong and how to fix it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class InfraError(Exception):
    """Root of every error `python -m infra` reports to a user."""


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    problem: str
    fix: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.problem}\n  fix: {self.fix}"


class ProblemsFound(InfraError):
    """Several problems at once, so they are fixed in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class OutputsError(InfraError):
    """A Terraform outputs file that cannot be written into the spec."""


def line_of(path: Path, needle: str) -> int | None:
    """First line of `path` containing `needle` (for pointing at the place), or None."""
    try:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if needle in text:
                return number
    except OSError:
        return None
    return None
