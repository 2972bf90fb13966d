"""A run's activity timeline as a standalone SVG (no dependencies): one bar per activity run, coloured by
status, on a shared time axis; activity runs inside a container (ForEach, Until, If, Switch) are listed
under it, indented."""
from __future__ import annotations

from html import escape

from local_runtime.report import duration, nested, parse_stamp

COLOURS = {"Succeeded": "#2e7d32", "Failed": "#c62828", "Skipped": "#9e9e9e", "InProgress": "#1565c0",
           "Queued": "#90caf9", "Canceling": "#ffb74d", "Cancelled": "#ef6c00"}
ROW, LABEL, WIDTH, INDENT = 22, 260, 640, 14


def render(run: dict, activities: list[dict]) -> str:
    tree = nested(activities)
    origin = parse_stamp(run["run_start"] or run["queued_at"])
    end = parse_stamp(run["run_end"]) or max((parse_stamp(a["end"] or a["start"]) for _, a in tree), default=origin)
    span = max((end - origin).total_seconds(), 0.001)
    height = ROW * (len(tree) + 3)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL + WIDTH + 90}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<text x="8" y="16" font-weight="bold" fill="{COLOURS.get(run["status"], "#000")}">'
             f'{escape(run["pipeline"])} run {escape(run["run_id"])}: {escape(run["status"])} in {span:.1f}s</text>']
    for tick in range(0, 11):
        x = LABEL + WIDTH * tick / 10
        parts.append(f'<line x1="{x:.1f}" y1="{ROW * 1.3:.1f}" x2="{x:.1f}" y2="{height - ROW:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="#666">{span * tick / 10:.1f}s</text>')
    for i, (depth, a) in enumerate(tree):
        y = ROW * (i + 1.5)
        start = max((parse_stamp(a["start"]) - origin).total_seconds(), 0.0)
        took = duration(a["start"], a["end"]) or 0.0
        x, w = LABEL + WIDTH * start / span, max(WIDTH * took / span, 2)
        colour = COLOURS.get(a["status"], "#555")
        parts.append(f'<text x="{8 + INDENT * depth}" y="{y + 14}">{escape(a["name"])} '
                     f'<tspan fill="#888">({escape(a["type"])})</tspan></text>')
        parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW - 6}" fill="{colour}">'
                     f'<title>{escape(a["name"])}: {escape(a["status"])}, {took:.2f}s</title></rect>')
        parts.append(f'<text x="{x + w + 4:.1f}" y="{y + 14}" fill="#444">{took:.1f}s</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
