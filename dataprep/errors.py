"""Exceptions raised by data preparation: one root, a few domain subclasses."""
from __future__ import annotations

from dataclasses import asdict, dataclass


class DataPrepError(Exception):
    """Root of every data-preparation error."""


class ParameterError(DataPrepError, ValueError):
    """A job parameter (widget value) is unusable."""


class InputNotFound(DataPrepError):
    """The input blob named by the trigger does not exist."""


class RunConflict(DataPrepError):
    """A pipeline run id already completed for different input bytes."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with where it is and how to fix it.

    `lines` holds up to a few example line numbers (1-based, header = line 1); `count` is how many rows
    (or bytes, header fields...) share the problem, so one bad column does not use up the whole report.
    """

    what: str
    fix: str
    column: str | None = None
    lines: tuple[int, ...] = ()
    count: int = 1

    def __str__(self) -> str:
        where = []
        if self.lines:
            shown = ", ".join(map(str, self.lines))
            more = f" (+{self.count - len(self.lines)} more)" if self.count > len(self.lines) else ""
            where.append(f"line{'s' if len(self.lines) > 1 else ''} {shown}{more}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where) + ": " if where else ""
        stop = "" if self.what.endswith((".", "?", "!")) else "."
        return f"{prefix}{self.what}{stop} Fix: {self.fix}"

    def to_dict(self) -> dict:
        return {**asdict(self), "lines": list(self.lines)}


class ContractViolation(DataPrepError):
    """The input CSV breaks the data contract; `problems` lists what, where and how to fix it."""

    def __init__(self, source: str, problems: list[Problem], *, unreported: int = 0, contract: str = "porto_seguro_train",
                 note: str = "") -> None:
        self.source = source
        self.problems = list(problems)
        self.unreported = unreported
        total = len(self.problems) + unreported
        lines = [f"{source} breaks the data contract '{contract}' (data_contract in spec/factory.yaml): "
                 f"{total} problem{'s' if total != 1 else ''}{note}"]
        lines += [f"  - {problem}" for problem in self.problems]
        if unreported:
            lines.append(f"  ... and {unreported} more problem(s) not listed; fix the ones above and re-check")
        super().__init__("\n".join(lines))
