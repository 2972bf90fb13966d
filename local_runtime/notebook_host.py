"""Run a Databricks source-format notebook locally: cells in order, `dbutils.widgets` from the activity's
baseParameters, `dbutils.notebook.exit(value)` ends the run with that value.

Usage: python -m local_runtime.notebook_host <notebook.py> '<widgets json>' <result.json>
"""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

HEADER = "# Databricks notebook source"
CELL_SEPARATOR = "# COMMAND ----------"


class NotebookExit(Exception):
    def __init__(self, value: str):
        super().__init__(value)
        self.value = value


class _Widgets:
    def __init__(self, values: dict[str, str]):
        self._values = values

    def get(self, name: str) -> str:
        if name not in self._values:
            raise ValueError(f"widget {name!r} was not passed by the activity's baseParameters "
                             f"(passed: {', '.join(sorted(self._values)) or 'none'})")
        return self._values[name]

    def text(self, name: str, default: str = "", label: str | None = None) -> None:
        self._values.setdefault(name, default)


class _Notebook:
    @staticmethod
    def exit(value: str) -> None:
        raise NotebookExit(value)


class DBUtils:
    def __init__(self, widgets: dict[str, str]):
        self.widgets = _Widgets(dict(widgets))
        self.notebook = _Notebook()


def cells(source: str) -> list[str]:
    if not source.startswith(HEADER):
        raise ValueError(f"not a Databricks source notebook: the first line must be exactly {HEADER!r}")
    body = source[len(HEADER):]
    # `# MAGIC` cells (markdown, %sh, ...) are Databricks-only; skip them.
    return [c for c in body.split(CELL_SEPARATOR) if not c.strip().startswith("# MAGIC")]


def run_notebook(path: Path, widgets: dict[str, str]) -> str | None:
    namespace = {"dbutils": DBUtils(widgets), "spark": None, "__name__": "__main__", "__file__": str(path)}
    for index, cell in enumerate(cells(path.read_text(encoding="utf-8"))):
        try:
            exec(compile(cell, f"{path}#cell{index + 1}", "exec"), namespace)
        except NotebookExit as done:
            return done.value
    return None


def main(argv: list[str]) -> int:
    notebook, widgets, result_path = Path(argv[0]), json.loads(argv[1]), Path(argv[2])
    try:
        value = run_notebook(notebook, widgets)
        result_path.write_text(json.dumps({"exit_value": value}))
        return 0
    except Exception as exc:  # the notebook's failure becomes the activity's error message
        traceback.print_exc()
        result_path.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main(sys.argv[1:]))
