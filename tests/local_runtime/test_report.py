"""The run views: text table with durations, and the SVG timeline picture."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from local_runtime.report import format_run
from local_runtime.timeline_svg import render
from tests.local_runtime.builders import fail, run_pipeline, set_var


def test_text_and_svg_views_show_every_activity_with_status_and_error(tmp_path):
    status, store, run = run_pipeline(tmp_path, [set_var("A", "a"), fail("B", "bad input", depends={"A": ["Succeeded"]})])
    activities = store.activity_runs(run["run_id"])
    text = format_run(run, activities)
    assert "status Failed" in text and "error: bad input" in text
    assert [line.split()[0] for line in text.splitlines()[5:7]] == ["A", "B"]
    svg = ET.fromstring(render(run, activities))
    rects = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert [r.get("fill") for r in rects] == ["#2e7d32", "#c62828"]
    assert "B: Failed" in rects[1].find("{http://www.w3.org/2000/svg}title").text
