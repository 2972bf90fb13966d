"""terraform fmt -check through `infra validate`, when a terraform binary is installed."""
from __future__ import annotations

import shutil

import pytest

from infra.formatting import fmt_problems
from infra.hcl import TERRAFORM_DIR

TERRAFORM = shutil.which("terraform")
pytestmark = pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH (the check is then skipped)")


def test_the_committed_terraform_is_canonically_formatted():
    assert fmt_problems(TERRAFORM_DIR) == []


def test_a_misformatted_file_is_named_with_the_fix(tmp_path):
    (tmp_path / "main.tf").write_text('resource "x" "y" {\nname="a"\n    other   =   1\n}\n')
    [problem] = fmt_problems(tmp_path)
    assert problem.file.endswith("main.tf") and "canonical layout" in problem.problem
    assert problem.fix.startswith("run: terraform fmt ")
