"""The lineage picture: every node of a record with its short hash, verification marks, partial records drawn
with "?", and the same record rendering the same SVG bytes in any process."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest
from lineage_samples import sample_record, sha, short_hashes, without

from lineage.graph import render
from lineage.record import build_record, record_sha256

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
ALL_CHECKED = {"input": True, "archived_input": True, "manifest": True, "train": True, "test": True, "model": True,
               "record": True}


def texts(svg: bytes) -> list[str]:
    """Every <text> of the SVG (it is parsed, so this also proves it is well-formed XML)."""
    return ["".join(element.itertext()) for element in ET.fromstring(svg).iter(SVG_TEXT)]


def joined(svg: bytes) -> str:
    return "\n".join(texts(svg))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_svg_shows_every_node_with_its_short_hash_and_the_model_version():
    record = sample_record()
    shown = joined(render(record, "svg"))
    for node, digest in short_hashes(record).items():
        assert digest in shown, f"{node} short hash {digest} not in the picture"
        assert record["input"]["sha256"] not in shown  # short hashes, never whole ones
    assert "Lineage of porto-seguro-lgbm version 3" in shown
    assert "porto-seguro-lgbm v3" in shown
    for title in ("Dropped blob", "Archived input", "Data prep job", "Manifest", "Train output", "Test output",
                  "Training run (MLflow)", "Evaluation", "Model version"):
        assert title in texts(render(record, "svg"))
    assert "etag 0x8DD0A1B2C3D4E5F" in shown and "input/train.csv" in shown
    assert "split hash \u00b7 seed 20240601 \u00b7 test 0.2" in shown and "contract porto_seguro_train" in shown
    assert f"git {sha('commit')[:7]} dirty" in shown
    assert "rows 40,000 \u00b7 positive 3.64%" in shown and "AUC 0.6912 \u00b7 Gini 0.3824" in shown
    assert "PROMOTED" in shown and "production v2 AUC 0.6801" in shown and "alias production" in shown


def test_footer_chains_the_record_to_its_predecessor():
    record = sample_record(sequence=3)
    shown = joined(render(record, "svg"))
    assert f"record #3  sha256 {record_sha256(record)[:12]}  \u2190 previous {sha('record-2')[:12]}" in shown
    assert f"sha256 {'ab' * 6}" in joined(render(record, "svg", record_sha="ab" * 32))
    assert "\u2190 previous none (first record)" in joined(render(sample_record(sequence=1), "svg"))


def test_png_comes_from_the_same_drawing():
    png = render(sample_record(), "png")
    assert png.startswith(PNG_MAGIC)
    width, height = png_size(png)
    assert 2000 < width < 4000 and 400 < height < 1200 and width > 3 * height  # wide: left to right
    assert len(png) > 50_000  # drawn, not blank


def test_same_record_same_svg_bytes_even_in_another_process():
    record = sample_record()
    svg = render(record, "svg", ALL_CHECKED)
    assert render(record, "svg", ALL_CHECKED) == svg
    assert b"<dc:date>" not in svg
    script = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
              "from lineage_samples import sample_record\nfrom lineage.graph import render\n"
              "sys.stdout.buffer.write(render(sample_record(), 'svg', dict(" +
              ", ".join(f"{k}={v}" for k, v in ALL_CHECKED.items()) + ")))\n")
    other = subprocess.run([sys.executable, "-c", script, str(REPO), str(Path(__file__).parent)], cwd=REPO,
                           capture_output=True, check=True, env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert other == svg
    changed = sample_record()
    changed["model"]["version"] = "4"
    assert render(changed, "svg", ALL_CHECKED) != svg


@pytest.mark.parametrize("fmt", ["svg", "png"])
@pytest.mark.parametrize("partial", [
    without(sample_record(), "training", "model"),
    without(sample_record(), "evaluation", "outputs", "prep.parameters", "trigger", "previous_record_sha256"),
    {},
], ids=["no-training-no-model", "no-prep-details", "empty"])
def test_partial_records_render_with_question_marks(partial, fmt):
    picture = render(partial, fmt, {"record": None})
    if fmt == "png":
        assert picture.startswith(PNG_MAGIC)
        return
    shown = texts(picture)
    assert "?" in "".join(shown)
    assert "Model version" in shown and "Training run (MLflow)" in shown  # every box is drawn, empty or not


def test_missing_training_and_model_show_question_marks():
    record = without(sample_record(), "training", "model")
    shown = texts(render(record, "svg"))
    assert {"run ?", "sha256 ?", "? v?", "AUC ? \u00b7 Gini ?", "AUC ?", "Lineage of ? version ?"} <= set(shown)
    assert record["input"]["sha256"][:12] in "".join(shown)  # what is known is still drawn


def test_verification_marks_verified_mismatched_and_unknown_nodes():
    verification = {**ALL_CHECKED, "test": False, "model": None}
    shown = texts(render(sample_record(), "svg", verification))
    assert shown.count("\u2717 MISMATCH") == 1  # the test output's box
    assert "\u2717 sha256 MISMATCH" in shown  # and the edge that wrote it
    assert shown.count("\u2713 verified") == 5  # input, archived input, manifest, train output, the record
    assert shown.count("\u2713 sha256 verified") == 3  # archived, manifest, train edges
    assert shown.count("? unverified") == 1  # the model


def test_no_verification_no_marks():
    shown = joined(render(sample_record(), "svg"))
    for mark in ("verified", "MISMATCH", "unverified"):
        assert mark not in shown


def test_a_training_run_that_read_other_bytes_is_flagged_on_its_edge():
    record = sample_record()
    record["training"]["inputs"]["test"] = sha("something else")
    assert f"\u2717 read {sha('something else')[:12]}" in texts(render(record, "svg"))


def test_text_is_drawn_literally():
    record = sample_record()
    record["trigger"]["blob_path"] = "input/$cost$ <&> .csv"
    assert "input/$cost$ <&> .csv" in texts(render(record, "svg"))


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match=r"format must be one of svg, png; got 'pdf'"):
        render(sample_record(), "pdf")


def test_render_leaves_matplotlib_settings_alone():
    before = dict(matplotlib.rcParams)
    render(sample_record(), "svg")
    render(sample_record(), "png")
    assert dict(matplotlib.rcParams) == before
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


def test_a_complete_record_has_no_question_marks():
    assert "?" not in joined(render(sample_record(), "svg"))
    assert "?" not in joined(render(sample_record(first_model=True, sequence=1), "svg"))


def test_a_record_assembled_by_build_record_is_drawn_whole():
    """The picture reads the shape the pipeline writes (training git state under `code`, trigger from the
    manifest), not only the sample's."""
    sample = sample_record()
    prep = sample["prep"]
    manifest = {"pipeline_run_id": sample["pipeline_run_id"], "trigger": sample["trigger"], "input": sample["input"],
                "outputs": sample["outputs"], "parameters": prep["parameters"], "contract_url": prep["contract_url"],
                "started_at": prep["started_at"], "created_at": prep["ended_at"],
                "code": {key: prep[key] for key in ("notebook", "notebook_sha256", "git_commit", "git_dirty",
                                                    "packages")}}
    record = build_record(manifest=manifest, manifest_url=prep["manifest_url"], manifest_sha256=prep["manifest_sha256"],
                          training=sample["training"], evaluation=sample["evaluation"], model=sample["model"],
                          recorded_at=sample["recorded_at"])
    record.update(sequence=3, previous_record_sha256=sample["previous_record_sha256"])
    shown = joined(render(record, "svg"))
    assert "?" not in shown
    for digest in short_hashes(sample).values():
        assert digest in shown
