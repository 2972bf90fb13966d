"""What `make validate` reports: a problem names the file, the JSON path inside it and what to do."""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Segment = str | int
Path = tuple[Segment, ...]
Finding = tuple[Path, str]  # a problem inside one file, before the file is known

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")


@dataclass(frozen=True)
class Problem:
    file: str       # relative to the validated root, with forward slashes
    json_path: str  # like properties.activities[2].typeProperties.url; "$" for the whole file
    message: str    # what is wrong, what was expected, how to fix it

    def __str__(self) -> str:
        # Continuation lines (a ^ marker under an expression) stay indented under the first line.
        return f"{self.file}: {self.json_path}: " + self.message.replace("\n", "\n    ")


def json_path(path: Path) -> str:
    """`('properties', 'activities', 2, 'url')` -> `properties.activities[2].url`; odd keys as `['Content-Type']`."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _PLAIN_KEY.match(segment):
            out += f".{segment}" if out else segment
        else:
            out += "['" + segment.replace("'", "\\'") + "']"
    return out or "$"


def walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every node of a JSON document with its path, parents before children."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, path + (index,))


def near(name: object, names: object, listed: str = "declared", limit: int = 8) -> str:
    """A parenthesis for a message: the closest name (case-insensitively) or the first few names."""
    ordered = sorted(str(n) for n in names)
    by_lower = {n.lower(): n for n in ordered}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {by_lower[close[0]]!r}?)"
    more = f" and {len(ordered) - limit} more" if len(ordered) > limit else ""
    return f" ({listed}: {', '.join(ordered[:limit]) or 'none'}{more})"


def located(file: str, findings: list[Finding]) -> list[Problem]:
    return [Problem(file, json_path(path), message) for path, message in findings]


def format_problems(problems: list[Problem]) -> list[str]:
    """One `file: json.path: message` entry per problem, for the CLI to print."""
    return [str(problem) for problem in problems]
