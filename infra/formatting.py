"""`terraform fmt -check` when a terraform binary is on PATH (it needs no provider, so it works offline)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infra.errors import Problem


def fmt_problems(terraform_dir: Path, binary: str | None = None) -> list[Problem]:
    binary = binary or shutil.which("terraform")
    if binary is None:
        return []
    done = subprocess.run([binary, "fmt", "-check", "-recursive", "-list=true", str(terraform_dir)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode == 0:
        return []
    files = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if not files:  # not a formatting verdict: fmt itself failed (syntax the structural checks report better)
        return [Problem(str(terraform_dir), "<fmt>", f"terraform fmt failed: {done.stderr.strip()[:300]}",
                        "fix the HCL syntax, then run terraform fmt -recursive terraform/")]
    return [Problem(file, "<fmt>", "is not in terraform fmt's canonical layout",
                    f"run: terraform fmt {file}") for file in files]
