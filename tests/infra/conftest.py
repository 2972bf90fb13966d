"""Builders for the infra tests: copies of the real terraform/ and spec to mutate, never the originals."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from infra.hcl import PROJECT_ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class TfCopy:
    """A copy of terraform/ and spec/ under tmp; `edit` replaces text and fails if the text is not there.

    Runs of spaces in `old` match any run of spaces, so `terraform fmt` re-aligning `=` breaks no test.
    """

    def __init__(self, root: Path):
        self.root = root
        self.terraform = root / "terraform"
        self.spec = root / "spec" / "factory.yaml"

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.terraform / relative
        text = path.read_text()
        pattern = "".join(" +" if part.startswith(" ") else re.escape(part) for part in re.split(r"( +)", old) if part)
        found = re.search(pattern, text)
        assert found, f"{old!r} not in {relative}: the test no longer matches the configuration"
        path.write_text(text[:found.start()] + new + text[found.end():])

    def append(self, relative: str, text: str) -> None:
        path = self.terraform / relative
        path.write_text(path.read_text() + text)


@pytest.fixture
def tf(tmp_path: Path) -> TfCopy:
    shutil.copytree(PROJECT_ROOT / "terraform", tmp_path / "terraform")
    shutil.copytree(PROJECT_ROOT / "spec", tmp_path / "spec")
    return TfCopy(tmp_path)
