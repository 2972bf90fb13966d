"""The runner registry: one function per ADF activity type, no if/elif chain."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

# type -> (runner, evaluates_inputs). Container activities (Until, IfCondition, ...) evaluate their own
# properties as they go; the others get their typeProperties evaluated once, which is also the recorded input.
RUNNERS: dict[str, tuple[Callable[..., Any], bool]] = {}


def register(activity_type: str, *, container: bool = False) -> Callable:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        RUNNERS[activity_type] = (func, not container)
        return func

    return decorate


def flag(value: Any, default: bool = False) -> bool:
    """An ADF boolean property: a JSON boolean, or text ("true"), as ADF's own samples write it."""
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).lower() == "true"
