"""Builders for the lineage tests: a complete version-1 lineage record (the shape `lineage.record.build_record`
assembles) with distinct, recognisable hashes, and partial copies of it (older records leave sections out)."""
from __future__ import annotations

import copy
import hashlib

ACCOUNT = "http://127.0.0.1:10000/devstoreaccount1"
RUN_ID = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"


def sha(label: str) -> str:
    """A stable 64-hex digest per label, so every node of the sample has its own recognisable hash."""
    return hashlib.sha256(label.encode()).hexdigest()


def output(name: str, rows: int, positive_rate: float) -> dict:
    return {"url": f"{ACCOUNT}/{'training' if name == 'train' else 'testing'}/{RUN_ID}/{name}.parquet",
            "sha256": sha(f"{name}-output"), "bytes": rows * 240, "rows": rows, "positive_rate": positive_rate,
            "ids_sha256": sha(f"{name}-ids")}


def sample_record(*, sequence: int = 3, promoted: bool = True, first_model: bool = False) -> dict:
    """A complete record (shape of lineage record version 1). `promoted=False` records a candidate that lost to
    production; `first_model=True` one with no production model to compare against."""
    input_sha = sha("input")
    production = None if first_model else {"version": "2", "auc": 0.6801}
    candidate_auc = 0.6912 if promoted else 0.6790
    reason = ("no model holds the alias 'production' yet; the first model above min_auc is promoted" if first_model
              else f"test AUC {candidate_auc:.4f} vs production version 2 0.6801 on the same test data")
    return {
        "record_version": 1,
        "sequence": sequence,
        "previous_record_sha256": sha(f"record-{sequence - 1}") if sequence > 1 else None,
        "recorded_at": "2026-11-25T19:00:00.000Z",
        "pipeline_run_id": RUN_ID,
        "trigger": {"name": "InputCsvCreated", "type": "BlobEventsTrigger", "time": "2026-11-25T18:58:01.123Z",
                    "blob_path": "input/train.csv", "etag": "0x8DD0A1B2C3D4E5F", "version_id": None,
                    "last_modified": "2026-11-25T18:58:00.000Z"},
        "input": {"url": f"{ACCOUNT}/input/train.csv",
                  "archived_url": f"{ACCOUNT}/archive/inputs/sha256/{input_sha}.csv",
                  "sha256": input_sha, "bytes": 12_345_678, "rows": 50_000, "rows_accepted": 49_990,
                  "rows_quarantined": 10, "schema_sha256": sha("schema"), "columns": ["id", "target", "ps_car_13"]},
        "prep": {"manifest_url": f"{ACCOUNT}/archive/runs/{RUN_ID}/manifest.json", "manifest_sha256": sha("manifest"),
                 "notebook": "notebooks/data_prepare.py", "notebook_sha256": sha("notebook"),
                 "git_commit": sha("commit")[:40], "git_dirty": True,
                 "packages": {"pandas": "3.1.1", "numpy": "2.4.6", "pyarrow": "25.0.1"},
                 "parameters": {"test_fraction": 0.2, "split_seed": 20240601, "split_method": "hash",
                                "contract": "porto_seguro_train", "contract_sha256": sha("contract")},
                 "contract_url": f"{ACCOUNT}/archive/contracts/{sha('contract')}.json",
                 "started_at": "2026-11-25T18:58:05.000Z", "ended_at": "2026-11-25T18:58:17.500Z"},
        "outputs": {"train": output("train", 40_000, 0.0364), "test": output("test", 9_990, 0.0361)},
        "training": {"mlflow_run_id": sha("mlflow-run")[:32], "experiment": "porto-seguro-training",
                     "params": {"learning_rate": 0.05, "num_leaves": 31, "num_boost_round": 400, "seed": 42,
                                "objective": "binary", "dataprep.split_seed": 20240601},
                     "inputs": {"train": sha("train-output"), "test": sha("test-output")},
                     "metrics": {"auc": candidate_auc, "gini": 2 * candidate_auc - 1, "best_iteration": 212},
                     "started_at": "2026-11-25T18:58:20.000Z", "ended_at": "2026-11-25T18:59:40.000Z",
                     "code": {"git_commit": sha("commit")[:40], "git_dirty": True,
                              "packages": {"lightgbm": "4.7.0", "mlflow": "3.17.2"}}},
        "evaluation": {"outcome": "promoted" if promoted else "not_promoted", "reason": reason, "alias": "production",
                       "margin": 0.001, "candidate_auc": candidate_auc,
                       "production_version": production and production["version"],
                       "production_auc": production and production["auc"],
                       "auc_improvement": production and round(candidate_auc - production["auc"], 4),
                       "promote": promoted, "production": production},
        "model": {"name": "porto-seguro-lgbm", "version": "3",
                  "artifact_uri": "mlflow-artifacts:/1/abc/artifacts/model", "sha256": sha("model")},
    }


def without(record: dict, *paths: str) -> dict:
    """A deep copy of `record` with the dotted `paths` removed ("training", "prep.git_commit", ...)."""
    partial = copy.deepcopy(record)
    for path in paths:
        *parents, leaf = path.split(".")
        node = partial
        for key in parents:
            node = node[key]
        del node[leaf]
    return partial


def short_hashes(record: dict) -> dict[str, str]:
    """The 12-hex prefixes the picture must show, by node."""
    return {"input": record["input"]["sha256"][:12], "manifest": record["prep"]["manifest_sha256"][:12],
            "prep": record["prep"]["notebook_sha256"][:12], "train": record["outputs"]["train"]["sha256"][:12],
            "test": record["outputs"]["test"]["sha256"][:12], "training": record["training"]["mlflow_run_id"][:12],
            "model": record["model"]["sha256"][:12]}
