"""The lineage picture: one lineage record drawn left to right, from the dropped blob to the model version.

`plan` turns a record (and an optional verification) into plain nodes and edges; `render` lays them out and
draws them with matplotlib, so SVG and PNG come from one drawing. Nothing global is touched: a bare `Figure`
with its own Agg canvas, rc settings only inside `rc_context`. The same inputs give the same bytes (no date
in the SVG, a fixed hash salt for its ids, text kept as text). A field missing from an older or partial record
is drawn as "?"; it never fails the picture.
"""
from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from lineage.record import record_sha256

FORMATS = ("svg", "png")
KINDS = {"data": ("#1565c0", "#e3f2fd"), "job": ("#ef6c00", "#fff3e0"), "model": ("#2e7d32", "#e8f5e9")}
OK, FAIL, GREY, INK, MUTED = "#2e7d32", "#c62828", "#9e9e9e", "#212121", "#555555"
VERDICTS = {True: ("\u2713 verified", OK), False: ("\u2717 MISMATCH", FAIL), None: ("? unverified", GREY)}
NOT_CHECKED = "not checked"  # no verification given: no marks at all
SANS, MONO = "DejaVu Sans", "DejaVu Sans Mono"
RC = {"svg.hashsalt": "lineage-graph", "svg.fonttype": "none", "font.family": SANS, "text.usetex": False}
KEY_PARAMS = ("learning_rate", "num_leaves", "num_boost_round", "seed")
PNG_DPI = 120

# Geometry in inches (the axes run 1:1 in inches, y downwards); font sizes in points.
MARGIN, BOX_W, GAP_X, GAP_Y, PAD = 0.3, 2.4, 1.2, 0.45, 0.1
HEADER, FOOTER = 0.7, 0.75
TITLE_H, HASH_H, LINE_H = 0.22, 0.19, 0.14
TITLE_PT, HASH_PT, LINE_PT, EDGE_PT, BADGE_PT = 9.5, 8.0, 7.0, 6.5, 7.0
LINE_CHARS = 37  # DejaVu Sans Mono at LINE_PT across BOX_W - 2 * PAD


@dataclass(frozen=True)
class Line:
    text: str
    colour: str = INK


@dataclass(frozen=True)
class Node:
    key: str
    kind: str  # data | job | model
    title: str
    column: int
    hash_label: str  # the short hash (or the decision) on the node's second row
    lines: tuple[Line, ...] = ()
    verdict: bool | None | str = NOT_CHECKED  # True / False / None (unknown), see `state`
    hash_colour: str = INK


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    notes: tuple[Line, ...] = field(default=())
    down: bool = False  # from the source's bottom to the target's top (the manifest hangs off the prep)


# ---------------------------------------------------------------------------------------------- record reading

def first(record: dict, *paths: str) -> Any:
    """The value at the first of `paths` that is present (a field that moved between record shapes)."""
    return next((value for path in paths if (value := get(record, path)) is not None), None)


def get(record: dict, path: str) -> Any:
    """The value at a dotted path, or None when any step is missing or not a mapping."""
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, dict) or value.get(key) is None:
            return None
        value = value[key]
    return value


def show(value: Any, spec: str = "") -> str:
    """A value for the picture: "?" when missing, formatted with `spec` when it is a number."""
    if value is None or value == "":
        return "?"
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def short(digest: Any, n: int = 12) -> str:
    return str(digest)[:n] if digest else "?"


def clip(text: str, limit: int = LINE_CHARS) -> str:
    """Shorten in the middle, keeping both ends (a URL's host and its file name)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (limit - 1 - head):]


def commit_line(commit: Any, dirty: Any) -> Line:
    text = "git " + (short(commit, 7) if commit != "unknown" else "unknown")
    if dirty is True:
        return Line(text + " dirty", FAIL)
    return Line(text + (" (dirty?)" if dirty is None else " clean"), INK if dirty is False else MUTED)


def seconds_between(start: Any, end: Any) -> str | None:
    try:
        return f"{(datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds():.1f}s"
    except (TypeError, ValueError):
        return None


def state(verification: dict | None, key: str) -> bool | None | str:
    """True or False as verified, None when unknown, NOT_CHECKED when there was no verification."""
    if verification is None:
        return NOT_CHECKED
    value = verification.get(key)
    return value if value is True or value is False else None


# -------------------------------------------------------------------------------------------------------- plan

def plan(record: dict, verification: dict | None = None) -> tuple[list[Node], list[Edge]]:
    """The picture as data: which boxes, what they say, which arrows with which labels."""
    def verdict(key: str) -> bool | None | str:
        return state(verification, key)

    def edge_notes(key: str) -> tuple[Line, ...]:
        return {True: (Line("\u2713 sha256 verified", OK),), False: (Line("\u2717 sha256 MISMATCH", FAIL),)}.get(
            verdict(key), ())

    r = record
    output_nodes = [_output(r, side, verdict(side)) for side in ("train", "test")]
    nodes = [
        Node("input", "data", "Dropped blob", 0, "sha256 " + short(get(r, "input.sha256")), (
            Line(clip(show(get(r, "trigger.blob_path")))),
            Line("etag " + show(get(r, "trigger.etag"))),
            Line(clip("event " + show(get(r, "trigger.time")))),
            Line(clip("trigger " + show(get(r, "trigger.name")))),
            *([Line(clip("version " + str(get(r, "trigger.version_id"))))] if get(r, "trigger.version_id") else []),
        ), verdict("input")),
        Node("archived_input", "data", "Archived input", 1, "sha256 " + short(get(r, "input.sha256")), (
            Line(clip(show(get(r, "input.archived_url")))),
            Line(f"rows {show(get(r, 'input.rows'), ',')} \u00b7 "
                 f"quarantined {show(get(r, 'input.rows_quarantined'), ',')}"),
            Line(f"bytes {show(get(r, 'input.bytes'), ',')}"),
            Line("schema " + short(get(r, "input.schema_sha256"))),
        ), verdict("archived_input")),
        _prep(r),
        Node("manifest", "data", "Manifest", 2, "sha256 " + short(get(r, "prep.manifest_sha256")), (
            Line(clip(show(get(r, "prep.manifest_url")))),
            Line(clip("pipeline run " + show(get(r, "pipeline_run_id")))),
        ), verdict("manifest")),
        *output_nodes,
        _training(r),
        _evaluation(r),
        Node("model", "model", "Model version", 6, "sha256 " + short(get(r, "model.sha256")), (
            Line(clip(f"{show(get(r, 'model.name'))} v{show(get(r, 'model.version'))}")),
            Line(clip(show(get(r, "model.artifact_uri")))),
            *([Line("alias " + show(get(r, "evaluation.alias")), OK)] if get(r, "evaluation.promote") else []),
        ), verdict("model")),
    ]
    edges = [
        Edge("input", "archived_input", "archived", edge_notes("archived_input")),
        Edge("archived_input", "prep", "read"),
        Edge("prep", "manifest", "writes", edge_notes("manifest"), down=True),
        Edge("prep", "train", "writes", edge_notes("train")),
        Edge("prep", "test", "writes", edge_notes("test")),
        Edge("train", "training", "trains on", _consumed(r, "train")),
        Edge("test", "training", "tests on", _consumed(r, "test")),
        Edge("training", "evaluation", "AUC " + show(get(r, "training.metrics.auc"), ".4f")),
        Edge("evaluation", "model", "registers", edge_notes("model")),
    ]
    return nodes, edges


def _prep(r: dict) -> Node:
    took = seconds_between(get(r, "prep.started_at"), get(r, "prep.ended_at"))
    return Node("prep", "job", "Data prep job", 2, "notebook " + short(get(r, "prep.notebook_sha256")), (
        Line(clip(show(get(r, "prep.notebook")))),
        commit_line(get(r, "prep.git_commit"), get(r, "prep.git_dirty")),
        Line(clip(f"split {show(get(r, 'prep.parameters.split_method'))} \u00b7 "
                  f"seed {show(get(r, 'prep.parameters.split_seed'))} \u00b7 "
                  f"test {show(get(r, 'prep.parameters.test_fraction'))}")),
        Line(clip("contract " + show(get(r, "prep.parameters.contract")))),
        Line("contract sha " + short(get(r, "prep.parameters.contract_sha256"))),
        *([Line("ran " + took)] if took else []),
    ))


def _output(r: dict, side: str, verdict: bool | None | str) -> Node:
    base = f"outputs.{side}"
    rate = get(r, f"{base}.positive_rate")
    return Node(side, "data", f"{side.capitalize()} output", 3, "sha256 " + short(get(r, f"{base}.sha256")), (
        Line(f"rows {show(get(r, f'{base}.rows'), ',')} \u00b7 positive {show(rate, '.2%')}"),
        Line(f"bytes {show(get(r, f'{base}.bytes'), ',')}"),
        Line("ids " + short(get(r, f"{base}.ids_sha256"))),
        Line(clip(show(get(r, f"{base}.url")))),
    ), verdict)


def _training(r: dict) -> Node:
    params = get(r, "training.params")
    params = params if isinstance(params, dict) else {}
    chosen = [k for k in KEY_PARAMS if k in params] or sorted(k for k in params if "." not in k)[:4]
    pairs = " ".join(f"{k}={params[k]}" for k in chosen) or "params ?"
    return Node("training", "job", "Training run (MLflow)", 4, "run " + short(get(r, "training.mlflow_run_id")), (
        Line(clip("experiment " + show(get(r, "training.experiment")))),
        Line(f"AUC {show(get(r, 'training.metrics.auc'), '.4f')} \u00b7 "
             f"Gini {show(get(r, 'training.metrics.gini'), '.4f')}", OK if get(r, "training.metrics.auc") else INK),
        *(Line(text) for text in textwrap.wrap(pairs, LINE_CHARS)[:2]),
        commit_line(first(r, "training.code.git_commit", "training.git_commit"),
                    first(r, "training.code.git_dirty", "training.git_dirty")),
    ))


def _evaluation(r: dict) -> Node:
    promote, production = get(r, "evaluation.promote"), get(r, "evaluation.production")
    decision = {True: ("PROMOTED", OK), False: ("NOT PROMOTED", MUTED)}.get(promote, ("decision ?", MUTED))
    if isinstance(production, dict):
        against = f"production v{show(production.get('version'))} AUC {show(production.get('auc'), '.4f')}"
    else:
        against = "production: none" if "production" in (r.get("evaluation") or {}) else "production ?"
    return Node("evaluation", "job", "Evaluation", 5, decision[0], (
        Line(f"candidate AUC {show(get(r, 'evaluation.candidate_auc'), '.4f')}"),
        Line(clip(against)),
        Line(clip("outcome " + show(get(r, "evaluation.outcome")))),
        *(Line(text, MUTED) for text in textwrap.wrap(show(get(r, "evaluation.reason")), LINE_CHARS)[:2]),
    ), hash_colour=decision[1])


def _consumed(r: dict, side: str) -> tuple[Line, ...]:
    """The training run names the sha256 it read; flag it when that is not the output the prep wrote."""
    read, written = get(r, f"training.inputs.{side}"), get(r, f"outputs.{side}.sha256")
    if read and written and read != written:
        return (Line("\u2717 read " + short(read), FAIL),)
    return ()


# ------------------------------------------------------------------------------------------------------ layout

def height(node: Node) -> float:
    return 2 * PAD + TITLE_H + HASH_H + LINE_H * len(node.lines)


def layout(nodes: list[Node]) -> tuple[dict[str, tuple[float, float, float, float]], float, float]:
    """Box (x, y, w, h) per node key, and the figure's width and height; the main line runs through the middle."""
    by_key = {n.key: n for n in nodes}
    h = {key: height(node) for key, node in by_key.items()}
    above = max([h[k] / 2 for k in h if k not in ("train", "test", "manifest")] + [h["train"] + GAP_Y / 2])
    below = max([h[k] / 2 for k in h if k not in ("train", "test", "manifest")]
                + [h["test"] + GAP_Y / 2, h["prep"] / 2 + GAP_Y + h["manifest"]])
    middle = HEADER + above
    boxes = {}
    for key, node in by_key.items():
        x = MARGIN + node.column * (BOX_W + GAP_X)
        top = {"train": middle - GAP_Y / 2 - h[key], "test": middle + GAP_Y / 2,
               "manifest": middle + h["prep"] / 2 + GAP_Y}.get(key, middle - h[key] / 2)
        boxes[key] = (x, top, BOX_W, h[key])
    columns = max(n.column for n in nodes) + 1
    return boxes, 2 * MARGIN + columns * BOX_W + (columns - 1) * GAP_X, middle + below + FOOTER


# -------------------------------------------------------------------------------------------------------- draw

def render(record: dict, fmt: str, verification: dict | None = None, *, record_sha: str | None = None) -> bytes:
    """The record's lineage graph as SVG or PNG bytes. `verification` maps node keys ("input",
    "archived_input", "manifest", "train", "test", "model", "record") to True / False / None; without it no
    verification marks are drawn. `record_sha` is the record's own sha256 (computed when not given)."""
    if fmt not in FORMATS:
        raise ValueError(f"lineage picture format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    nodes, edges = plan(record, verification)
    boxes, width, total_height = layout(nodes)
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, total_height), facecolor="white")
        FigureCanvasAgg(figure)
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(total_height, 0)
        ax.set_axis_off()
        _header(ax, record)
        for edge in edges:
            _edge(ax, edge, boxes)
        for node in nodes:
            _node(ax, node, boxes[node.key])
        _footer(ax, record, record_sha or record_sha256(record), verification, width, total_height)
        out = io.BytesIO()
        if fmt == "svg":
            figure.savefig(out, format="svg", metadata={"Date": None})
        else:
            figure.savefig(out, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return out.getvalue()


def _text(ax, x: float, y: float, text: str, **style) -> None:
    ax.text(x, y, text, parse_math=False, va=style.pop("va", "center"), **style)


def _header(ax, record: dict) -> None:
    model = f"{show(get(record, 'model.name'))} version {show(get(record, 'model.version'))}"
    _text(ax, MARGIN, 0.25, f"Lineage of {model}", fontsize=12, fontweight="bold", color=INK)
    _text(ax, MARGIN, 0.5, f"pipeline run {show(get(record, 'pipeline_run_id'))} \u00b7 "
          f"recorded {show(get(record, 'recorded_at'))}", fontsize=8, color=MUTED, family=MONO)


def _node(ax, node: Node, box: tuple[float, float, float, float]) -> None:
    x, y, w, h = box
    edge_colour, face = KINDS[node.kind]
    failed = node.verdict is False
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.08", facecolor=face,
                                edgecolor=FAIL if failed else edge_colour, linewidth=2.4 if failed else 1.2))
    row = y + PAD + TITLE_H / 2
    _text(ax, x + PAD, row, node.title, fontsize=TITLE_PT, fontweight="bold", color=edge_colour)
    if node.verdict != NOT_CHECKED:
        label, colour = VERDICTS[node.verdict]
        _text(ax, x + w - PAD, row, label, ha="right", fontsize=BADGE_PT, fontweight="bold", color=colour)
    row += TITLE_H / 2 + HASH_H / 2
    _text(ax, x + PAD, row, node.hash_label, fontsize=HASH_PT, fontweight="bold", family=MONO,
          color=node.hash_colour)
    row += HASH_H / 2 + LINE_H / 2
    for line in node.lines:
        _text(ax, x + PAD, row, line.text, fontsize=LINE_PT, family=MONO, color=line.colour)
        row += LINE_H


def _edge(ax, edge: Edge, boxes: dict) -> None:
    sx, sy, sw, sh = boxes[edge.source]
    tx, ty, tw, th = boxes[edge.target]
    if edge.down:
        start, end = (sx + sw / 2, sy + sh), (tx + tw / 2, ty)
    else:
        start, end = (sx + sw, sy + sh / 2), (tx, ty + th / 2)
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#616161", linewidth=1.1,
                                 linestyle="--" if edge.down else "-", shrinkA=2, shrinkB=2))
    lines = (Line(edge.label, MUTED), *edge.notes)
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    if edge.down:  # beside the arrow
        mx, my, ha = mx + 0.08, my - 0.07 * (len(lines) - 1), "left"
    else:  # above it, so the arrow stays visible
        my, ha = my - 0.1 - 0.14 * (len(lines) - 1), "center"
    for i, line in enumerate(lines):
        _text(ax, mx, my + i * 0.14, line.text, ha=ha, fontsize=EDGE_PT, color=line.colour,
              fontweight="bold" if i else "normal",
              bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})


def _footer(ax, record: dict, sha: str, verification: dict | None, width: float, total_height: float) -> None:
    y = total_height - FOOTER / 2
    ax.plot([MARGIN, width - MARGIN], [total_height - FOOTER + 0.1] * 2, color="#e0e0e0", linewidth=1)
    previous = get(record, "previous_record_sha256")
    chain = (f"record #{show(get(record, 'sequence'))}  sha256 {short(sha)}  \u2190 previous "
             + (short(previous) if previous else "none (first record)"))
    _text(ax, MARGIN, y, chain, fontsize=8.5, family=MONO, color=INK)
    if (verdict := state(verification, "record")) != NOT_CHECKED:
        label, colour = VERDICTS[verdict]
        _text(ax, MARGIN + 0.071 * len(chain) + 0.15, y, label, fontsize=BADGE_PT + 1, fontweight="bold", color=colour)
    x = width - MARGIN - 5.0
    for kind, (edge_colour, face) in KINDS.items():
        ax.add_patch(Rectangle((x, y - 0.08), 0.22, 0.16, facecolor=face, edgecolor=edge_colour, linewidth=1.2))
        _text(ax, x + 0.3, y, kind, fontsize=8, color=MUTED)
        x += 0.95
    _text(ax, x, y, "hashes: first 12 hex of sha256", fontsize=7, color=MUTED)
