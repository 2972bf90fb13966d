"""The state an expression is evaluated against: pipeline run, variables, activity outputs, sources
of time and randomness.

The context holds references, not copies: the pipeline engine mutates ``variables`` and
``activity_outputs`` as the run progresses and the evaluator reads them live. Clock, GUIDs and random
numbers are injectable so runs can be reproduced.
"""
from __future__ import annotations

import dataclasses
import random as _random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ExpressionContext:
    """Everything ``pipeline()``, ``variables()``, ``activity()``, ``item()``, ``trigger()``,
    ``linkedService()``, ``dataset()``, ``utcNow()``, ``guid()`` and ``rand()`` read."""

    pipeline: dict = field(default_factory=dict)
    """System variables (RunId, Pipeline, DataFactory, TriggerTime, ...) plus ``parameters``."""
    variables: dict = field(default_factory=dict)
    """Pipeline variables by name; read live."""
    activity_outputs: dict = field(default_factory=dict)
    """Activity name -> {"output": ..., "status": ..., "error": ...}; read live."""
    item: Any = None
    """The current ForEach item; None outside a ForEach (``item()`` then fails)."""
    trigger: dict | None = None
    """What ``trigger()`` returns; ``triggerOutputs()`` is trigger["outputs"], ``triggerBody()`` its "body"."""
    linked_service_parameters: dict = field(default_factory=dict)
    dataset_parameters: dict = field(default_factory=dict)
    global_parameters: dict = field(default_factory=dict)
    clock: Callable[[], datetime] = _utc_now
    new_guid: Callable[[], uuid.UUID] = uuid.uuid4
    random: _random.Random = field(default_factory=_random.Random)

    def with_item(self, item: Any) -> ExpressionContext:
        """A context for one ForEach iteration: same (shared) state, another ``item()``."""
        return dataclasses.replace(self, item=item)

    def pipeline_object(self) -> dict:
        """What ``pipeline()`` returns: the system variables, ``parameters`` and ``globalParameters``."""
        result = dict(self.pipeline)
        result.setdefault("parameters", {})
        result.setdefault("globalParameters", self.global_parameters)
        return result
