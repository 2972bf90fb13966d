"""notebooks/data_prepare.py: Databricks source format, widgets in, dataprep.job.prepare, JSON exit value."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dataprep.errors import ContractViolation
from dataprep_builders import set_cell, to_csv, valid_frame
from storage.blobs import download_bytes

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "data_prepare.py"
SEPARATOR = "\n# COMMAND ----------\n"
WIDGETS = {"input_folder_path", "input_file_name", "pipeline_run_id", "storage_account_url", "training_container",
           "testing_container", "rejected_container", "archive_container", "test_fraction", "split_seed",
           "data_contract", "trigger_name", "trigger_type", "trigger_time"}


class NotebookExit(Exception):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class FakeDbutils:
    """The two dbutils calls the notebook makes; exit stops the notebook like Databricks does."""

    def __init__(self, widgets: dict[str, str]) -> None:
        self.requested: list[str] = []
        outer = self

        class Widgets:
            def get(self, name: str) -> str:
                outer.requested.append(name)
                return widgets[name]

            def text(self, name: str, default: str) -> None:  # Databricks: declares the widget, passed value wins
                widgets.setdefault(name, default)

        class Notebook:
            def exit(self, value: str) -> None:
                raise NotebookExit(value)

        self.widgets, self.notebook = Widgets(), Notebook()


def run_notebook(widgets: dict[str, str], **names) -> tuple[str, FakeDbutils]:
    dbutils = FakeDbutils(widgets)
    scope = {"dbutils": dbutils, "__name__": "__main__", **names}
    with pytest.raises(NotebookExit) as exited:
        for cell in NOTEBOOK.read_text().split(SEPARATOR):
            exec(compile(cell, str(NOTEBOOK), "exec"), scope)
    return exited.value.value, dbutils


def widgets_for(store, run_id: str) -> dict[str, str]:
    c = store.containers
    return {"input_folder_path": f"{store.inbox}/deliveries", "input_file_name": "train.csv",
            "pipeline_run_id": run_id, "storage_account_url": store.account_url,
            "training_container": c.training, "testing_container": c.testing, "rejected_container": c.rejected,
            "archive_container": c.archive, "test_fraction": "0.2", "split_seed": "0",
            "data_contract": pipeline_contract_parameter()}


def pipeline_contract_parameter() -> str:
    """The contract exactly as the generated pipeline passes it (the widget the notebook gets on Databricks)."""
    pipeline = json.loads((NOTEBOOK.parents[1] / "generated/factory/pipeline/PrepareAndTrain.json").read_text())
    return pipeline["properties"]["activities"][0]["typeProperties"]["baseParameters"]["data_contract"]


def test_notebook_is_in_databricks_source_format_and_only_wires():
    text = NOTEBOOK.read_text()
    assert text.splitlines()[0] == "# Databricks notebook source"
    cells = text.split(SEPARATOR)
    assert len(cells) >= 3 and "# MAGIC %md" in cells[0]
    assert set(re.findall(r'dbutils\.widgets\.get\("([a-z_]+)"\)', text)) == WIDGETS
    assert "dataprep.job import" in text and "prepare(" in text
    assert cells[-1].strip() == "dbutils.notebook.exit(json.dumps(result))"
    assert 'globals().get("spark")' in text and "spark=session" in text  # Databricks' session picks the Spark path


def test_notebook_prepares_the_delivered_file_and_exits_with_the_result(store, columns):
    store.put("train.csv", to_csv(valid_frame(columns, 200)))
    value, dbutils = run_notebook(widgets_for(store, "nb-run"))
    result = json.loads(value)
    assert set(dbutils.requested) == WIDGETS
    assert result["rows"]["input"] == result["rows"]["accepted"] == 200 and result["rows"]["quarantined"] == 0
    assert result["rows"]["train"] + result["rows"]["test"] == 200
    assert result["training_url"] == f"{store.account_url}/{store.containers.training}/nb-run"
    assert json.loads(download_bytes(result["manifest_url"]))["pipeline_run_id"] == "nb-run"


def test_notebook_lets_a_contract_violation_fail_the_run(store, columns):
    store.put("train.csv", set_cell(to_csv(valid_frame(columns, 20)), 3, "target", "2"))
    with pytest.raises(ContractViolation, match=r"line 5, column 'target'"):
        run_notebook(widgets_for(store, "nb-bad"))
    assert set(store.blobs(store.containers.rejected)) == {"nb-bad/train.csv", "nb-bad/train.csv.reason.json"}


def test_notebook_hands_databricks_spark_session_to_the_job(store, columns, monkeypatch):
    seen = {}

    def fake_prepare(url, **options):
        seen.update(options)
        return {"rows": {}}

    monkeypatch.setattr("dataprep.job.prepare", fake_prepare)
    session = object()
    run_notebook(widgets_for(store, "nb-spark"), spark=session)
    assert seen["spark"] is session and seen["contract"].name == "porto_seguro_train"
