"""Semantic diff of ADF objects for reviewers: what changed at readable JSON paths, and what that means for
triggers when the new version is deployed over the old (Microsoft's PrePostDeploymentScript semantics).

Pure and deterministic: callers pass `{(folder, name): body}` mappings in; nothing here reads files or a store.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.layout import FOLDERS

ObjectKey = tuple[str, str]  # (folder, name), as in the ADF git layout


class _Absent:
    """A value that is not there at all (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Key:
    """An array item picked by one of its fields rather than its index, e.g. the activity named PrepareData."""
    label: str   # shown to people: "activity", "pipeline", "dependsOn", "case"
    field: str   # the field it is keyed by, for tools: "name", "pipelineReference.referenceName"
    value: str


Segment = str | int | Key

# Array property -> (label, key field). Activity names are unique in a pipeline, a trigger's pipelines are keyed by
# the pipeline they start (as ADF's ARM export keys them), dependsOn entries by the activity they wait for.
KEYED_ARRAYS = {
    "activities": ("activity", "name"),
    "ifTrueActivities": ("activity", "name"),
    "ifFalseActivities": ("activity", "name"),
    "defaultActivities": ("activity", "name"),
    "cases": ("case", "value"),
    "pipelines": ("pipeline", "pipelineReference.referenceName"),
    "dependsOn": ("dependsOn", "activity"),
}
# Array names the label already says; the branch names (ifTrueActivities, ...) stay visible.
IMPLIED_ARRAYS = {"activities", "cases", "pipelines", "dependsOn"}
WRAPPERS = {"properties", "typeProperties"}
SHOW_LIMIT = 120


@dataclass(frozen=True)
class Change:
    path: tuple[Segment, ...]
    old: Any = ABSENT
    new: Any = ABSENT

    @property
    def where(self) -> str:
        return render_path(self.path)


@dataclass(frozen=True)
class ObjectDiff:
    folder: str
    name: str
    kind: str  # "added" | "removed" | "changed"
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class TriggerStep:
    trigger: str
    action: str  # "stop" before deploy, "start" after deploy, "keep" running untouched
    reason: str


@dataclass(frozen=True)
class ParameterChange:
    scope: str  # "env qa" (a parameters file value) or "template" (a declared parameter)
    name: str
    old: Any = ABSENT
    new: Any = ABSENT


@dataclass(frozen=True)
class Diff:
    objects: tuple[ObjectDiff, ...] = ()
    triggers: tuple[TriggerStep, ...] = ()
    parameters: tuple[ParameterChange, ...] = ()

    def keys(self, kind: str) -> list[ObjectKey]:
        return [(o.folder, o.name) for o in self.objects if o.kind == kind]


# --- computing -------------------------------------------------------------------------------------------------
def json_equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1 and "1" is not 1, which Python's == would blur.
    if a is ABSENT or b is ABSENT:
        return a is b
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _field(item: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def _by_key(items: list, dotted: str) -> dict[str, Any] | None:
    keyed = {}
    for item in items:
        key = _field(item, dotted)
        if not isinstance(key, str) or key in keyed:
            return None  # not keyable (or ambiguous): fall back to indexes
        keyed[key] = item
    return keyed


def _walk(path: tuple[Segment, ...], old: Any, new: Any) -> Iterator[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in [*new, *(k for k in old if k not in new)]:
            yield from _walk(path + (k,), old.get(k, ABSENT), new.get(k, ABSENT))
        return
    if isinstance(old, list) and isinstance(new, list):
        label, dotted = KEYED_ARRAYS.get(path[-1] if path and isinstance(path[-1], str) else "", (None, ""))
        olds, news = (_by_key(old, dotted), _by_key(new, dotted)) if label else (None, None)
        if olds is not None and news is not None:
            for k in [*news, *(k for k in olds if k not in news)]:
                yield from _walk(path + (Key(label, dotted, k),), olds.get(k, ABSENT), news.get(k, ABSENT))
        else:
            for i in range(max(len(old), len(new))):
                yield from _walk(path + (i,), old[i] if i < len(old) else ABSENT, new[i] if i < len(new) else ABSENT)
        return
    if not json_equal(old, new):
        yield Change(path, old, new)


def diff_bodies(old: dict, new: dict) -> tuple[Change, ...]:
    """Leaf differences between two bodies of one object, in the new body's document order."""
    return tuple(_walk((), old, new))


def _order(key: ObjectKey) -> tuple:
    folders = list(FOLDERS)
    return (folders.index(key[0]) if key[0] in folders else len(folders), key[0], key[1])


def _runtime_state(body: dict | None) -> str | None:
    return (body or {}).get("properties", {}).get("runtimeState")


def _pipelines_of(trigger: dict) -> list[str]:
    return sorted({_field(p, "pipelineReference.referenceName") or "?"
                   for p in trigger.get("properties", {}).get("pipelines", [])})


def trigger_steps(old: Mapping[ObjectKey, dict], new: Mapping[ObjectKey, dict], objects: tuple[ObjectDiff, ...],
                  running: set[str] | None = None) -> tuple[TriggerStep, ...]:
    """What a deploy of `new` over `old` does to triggers: stops first, then starts, then the ones left running.

    `running` is the set of triggers started in the target now; without it, the old bodies' runtimeState says.
    """
    kinds = {(o.folder, o.name): o.kind for o in objects}
    changed_pipelines = {o.name for o in objects if o.folder == "pipeline"}
    stops, starts, keeps = [], [], []
    for name in sorted({n for f, n in [*old, *new] if f == "trigger"}):
        before, after = old.get(("trigger", name)), new.get(("trigger", name))
        kind = kinds.get(("trigger", name))
        is_running = name in running if running is not None else _runtime_state(before) == "Started"
        wants = after is not None and _runtime_state(after) == "Started"
        if is_running and kind == "removed":
            stops.append(TriggerStep(name, "stop", "removed: stopped before it is deleted"))
        elif is_running and not wants:
            stops.append(TriggerStep(name, "stop", f"runtimeState Started → {_runtime_state(after)}"))
        elif is_running and kind == "changed":
            stops.append(TriggerStep(name, "stop", "changed: a started trigger cannot be updated"))
        if wants and (kind or not is_running):
            why = {"added": "new", "changed": "changed"}.get(kind or "", "not running")
            starts.append(TriggerStep(name, "start", f"{why}, runtimeState Started"))
        elif wants:
            touched = [p for p in _pipelines_of(after) if p in changed_pipelines]
            if touched:  # the script only restarts triggers that changed themselves
                keeps.append(TriggerStep(name, "keep", f"pipeline {', '.join(touched)} changed, the trigger did not: "
                                                       "it keeps running and is not restarted"))
    return tuple(stops + starts + keeps)


def diff_objects(old: Mapping[ObjectKey, dict], new: Mapping[ObjectKey, dict],
                 running: set[str] | None = None) -> Diff:
    """Added, removed and changed objects (sorted by folder in dependency order, then name) and trigger steps."""
    objects = []
    for key in sorted({*old, *new}, key=_order):
        if key not in old:
            objects.append(ObjectDiff(*key, "added"))
        elif key not in new:
            objects.append(ObjectDiff(*key, "removed"))
        else:
            changes = diff_bodies(old[key], new[key])
            if changes:
                objects.append(ObjectDiff(*key, "changed", changes))
    objects_t = tuple(objects)
    return Diff(objects_t, trigger_steps(old, new, objects_t, running))


# --- rendering -------------------------------------------------------------------------------------------------
def render_path(path: tuple[Segment, ...]) -> str:
    """("properties", "activities", Key(activity PrepareData), "typeProperties", "x") ->
    "activity PrepareData: typeProperties.x". Wrapper keys and implied array names are left out."""
    parts, plain = [], []
    for i, seg in enumerate(path):
        if isinstance(seg, Key):
            shown = [s for s in plain if s not in WRAPPERS]
            if shown and shown[-1] in IMPLIED_ARRAYS:
                shown.pop()
            parts += [".".join(shown)] if shown else []
            parts.append(f"{seg.label} {seg.value}")
            plain = []
        elif isinstance(seg, int):
            plain[-1:] = [f"{plain[-1] if plain else ''}[{seg}]"]
        elif not (i == 0 and seg == "properties"):  # every body is {"name", "properties"}
            plain.append(seg)
    if plain:
        parts.append(".".join(plain))
    return ": ".join(parts)


def _show(value: Any, start: int = 0) -> str:
    text = ("…" + json.dumps(value[start:], ensure_ascii=False)) if start else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOW_LIMIT else text[:SHOW_LIMIT - 1] + "…"


def render_values(old: Any, new: Any) -> str:
    if old is ABSENT:
        return f"added: {_show(new)}"
    if new is ABSENT:
        return f"removed (was {_show(old)})"
    start = 0
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > SHOW_LIMIT:
        # Long strings (expressions, request bodies): show both from just before where they first differ.
        first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        start = max(0, first - 20)
    return f"{_show(old, start)} → {_show(new, start)}"


def render_lines(diff: Diff) -> list[str]:
    """One line per change, grouped by object; the order of `diff` is already stable."""
    lines = []
    for obj in diff.objects:
        head = f"{obj.folder} {obj.name}"
        if obj.kind != "changed":
            lines.append(f"{head}: {obj.kind}")
        lines += [f"{head}: {c.where} {render_values(c.old, c.new)}" for c in obj.changes]
    lines += [f"{p.scope}: {p.name} {render_values(p.old, p.new)}" for p in diff.parameters]
    when = {"stop": "before deploy", "start": "after deploy", "keep": "untouched"}
    lines += [f"{s.action} trigger {s.trigger} {when[s.action]}: {s.reason}" for s in diff.triggers]
    return lines


def render_text(diff: Diff) -> str:
    return "\n".join(render_lines(diff)) or "no changes"


def _values_json(old: Any, new: Any) -> dict:
    return {**({} if old is ABSENT else {"old": old}), **({} if new is ABSENT else {"new": new})}


def _segment_json(seg: Segment) -> Any:
    return {seg.field: seg.value} if isinstance(seg, Key) else seg


def to_json(diff: Diff) -> dict:
    """The same diff for tools; an absent side has no "old"/"new" key (null is a value)."""
    return {
        "objects": [{"folder": o.folder, "name": o.name, "kind": o.kind,
                     "changes": [{"path": c.where, "segments": [_segment_json(s) for s in c.path],
                                  **_values_json(c.old, c.new)} for c in o.changes]} for o in diff.objects],
        "parameters": [{"scope": p.scope, "name": p.name, **_values_json(p.old, p.new)} for p in diff.parameters],
        "triggers": [{"trigger": s.trigger, "action": s.action, "reason": s.reason} for s in diff.triggers],
    }


def render_json(diff: Diff) -> str:
    return json.dumps(to_json(diff), indent=2, ensure_ascii=False)
