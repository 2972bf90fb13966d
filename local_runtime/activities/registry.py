"""The runner registry: one function per ADF activity type, no if/elif chain."""
from __future__ import annotations

from typing import Any, Callable

# type -> (runner, evaluates_inputs). Container activities (Until, IfCondition, ...) evaluate their own
# properties as they go; the others get their typeProperties evaluated once, which is also the recorded input.
RUNNERS: dict[str, tuple[Callable[..., Any], bool]] = {}


def register(activity_type: str, *, container: bool = False) -> Callable:
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        RUNNERS[activity_type] = (func, not container)
        return func

    return decorate
