"""Local development outside the pipeline: train on any contract-shaped CSV, evaluate any model on one.

    python -m training.dev train --csv data/x.csv [--config generated/azureml/training-config.json] [--out DIR]
    python -m training.dev evaluate --model-uri models:/porto-seguro-safe-driver@production --csv data/x.csv

Both split the CSV with data-prep's own split (``dataprep.split.split_table``, keyed on the id), so "the test
rows" here are the rows the pipeline would hold out for that file. ``train`` never
touches the MLflow registry: a dev model cannot be promoted by accident; it is saved as an MLflow model folder
that ``evaluate --model-uri <folder>`` reads. Progress goes to stderr, the result JSON is the last stdout line.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from training import features
from training.config import TrainingConfig, load_config
from training.console import one_line, stdout_to_stderr
from training.errors import DataError, TrainingError
from training.evaluate import evaluate, normalized_gini, score_other_model
from training.train import train_model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPEC = PROJECT_ROOT / "spec" / "factory.yaml"
GENERATED_CONFIG = PROJECT_ROOT / "generated" / "azureml" / "training-config.json"
ROWS = ("test", "train", "all")


@dataclass(frozen=True)
class SplitCsv:
    train: pd.DataFrame
    test: pd.DataFrame

    def rows(self, which: str) -> pd.DataFrame:
        if which == "all":
            return pd.concat([self.train, self.test], ignore_index=True)
        return self.train if which == "train" else self.test


def pipeline_split_parameters(spec: Path = SPEC) -> tuple[float, int]:
    """(test_fraction, split_seed) the deployed pipeline uses, from the spec; data-prep's defaults otherwise."""
    try:
        prepare = yaml.safe_load(spec.read_text())["pipeline"]["prepare"]
        return float(prepare["test_fraction"]), int(prepare["split_seed"])
    except (OSError, KeyError, TypeError, ValueError):
        return 0.2, 0


def split_csv(path: Path, *, test_fraction: float, seed: int) -> SplitCsv:
    """The CSV split by data-prep's own ``dataprep.split.split_table`` (id-hashed, so a row lands on the side the
    pipeline would put it). The shape check is training's (id, 0/1 target, numeric features); data-prep's
    contract check and cleaning (dropped columns, nulls) are not applied, so models trained here see every
    column of the file."""
    import pyarrow.csv as pacsv

    from dataprep.errors import DataPrepError
    from dataprep.split import split_table

    try:
        table = pacsv.read_csv(path)
        train, test = split_table(table, test_fraction=test_fraction, seed=seed)
    except FileNotFoundError:
        raise DataError(f"{path}: cannot read the CSV (no such file)") from None
    except (OSError, ValueError, KeyError, DataPrepError) as exc:  # pyarrow's parse errors are ValueErrors
        raise DataError(f"{path}: cannot read or split the CSV ({type(exc).__name__}: {one_line(exc)})") from None
    frames = SplitCsv(train.to_pandas(), test.to_pandas())
    for name, frame in (("train", frames.train), ("test", frames.test)):
        features.validate_frame(frame, name=f"{path} ({name} side)")
    return frames


def train_csv(path: Path, config: TrainingConfig, *, test_fraction: float, seed: int, out: Path | None) -> dict:
    frames = split_csv(path, test_fraction=test_fraction, seed=seed)
    x_train, y_train = features.split_xy(frames.train)
    x_test, y_test = features.split_xy(frames.test)
    model = train_model(x_train, y_train, config)
    metrics = evaluate(model.booster, x_test, y_test, best_iteration=model.best_iteration)
    result = {"csv": str(path), "train_rows": len(frames.train), "metrics": metrics.as_dict(),
              "model_sha256": model.model_sha256, "model_dir": None}
    if out is not None:
        result["model_dir"] = str(save_model(model.booster, x_train, out))
    return result


def save_model(booster, example: pd.DataFrame, out: Path) -> Path:
    import mlflow.lightgbm

    if out.exists():
        if not (out / "MLmodel").is_file():
            raise TrainingError(f"{out} exists and is not an MLflow model folder; choose another --out")
        shutil.rmtree(out)  # our own previous output: replace it
    mlflow.lightgbm.save_model(booster, str(out), input_example=example.head(5),
                               pip_requirements=mlflow.lightgbm.get_default_pip_requirements())
    return out


def evaluate_csv(model_uri: str, path: Path, *, rows: str, test_fraction: float, seed: int,
                 tracking_uri: str | None) -> dict:
    import mlflow
    import mlflow.lightgbm

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    frame = split_csv(path, test_fraction=test_fraction, seed=seed).rows(rows)
    try:
        booster = mlflow.lightgbm.load_model(model_uri)
    except Exception as exc:
        raise TrainingError(f"cannot load model {model_uri} ({type(exc).__name__}: {one_line(exc)[:200]}); a "
                            "models:/ URI needs the store holding the model (--tracking-uri or MLFLOW_TRACKING_URI), "
                            "and an alias exists once the pipeline has promoted a model") from None
    x, y = features.split_xy(frame)
    auc, why = score_other_model(booster, x, y)
    if auc is None:
        raise DataError(f"{model_uri} cannot score {path}: {why}")
    return {"model_uri": model_uri, "csv": str(path), "rows": rows, "row_count": len(frame),
            "auc": auc, "gini": normalized_gini(auc)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    fraction, seed = pipeline_split_parameters()
    parser = argparse.ArgumentParser(prog="python -m training.dev", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "evaluate"):
        p = sub.add_parser(name)
        p.add_argument("--csv", required=True, type=Path)
        p.add_argument("--test-fraction", type=float, default=fraction, help=f"default {fraction} (the spec's)")
        p.add_argument("--split-seed", type=int, default=seed, help=f"default {seed} (the spec's)")
    train = sub.choices["train"]
    train.add_argument("--config", type=Path, default=GENERATED_CONFIG if GENERATED_CONFIG.exists() else None,
                       help="training config JSON (default: the generated one from the spec)")
    train.add_argument("--out", type=Path, default=None, help="save the model here as an MLflow model folder")
    ev = sub.choices["evaluate"]
    ev.add_argument("--model-uri", required=True, help="models:/<name>@<alias>, models:/<name>/<version>, runs:/..."
                                                       " or a folder written by `train --out`")
    ev.add_argument("--rows", choices=ROWS, default="test", help="which side of the split to score (default test)")
    ev.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    split = {"test_fraction": args.test_fraction, "seed": args.split_seed}
    try:
        with stdout_to_stderr():  # LightGBM and MLflow print to stdout; keep it for the result
            if args.command == "train":
                config = load_config(args.config) if args.config else TrainingConfig()
                result = train_csv(args.csv, config, out=args.out, **split)
                m = result["metrics"]
                summary = (f"trained on {result['train_rows']} rows; test AUC {m['auc']:.4f}, normalized Gini "
                           f"{m['gini']:.4f} on {m['test_rows']} rows (best iteration {m['best_iteration']})")
            else:
                result = evaluate_csv(args.model_uri, args.csv, rows=args.rows, tracking_uri=args.tracking_uri,
                                      **split)
                summary = (f"{args.model_uri}: AUC {result['auc']:.4f}, normalized Gini {result['gini']:.4f} "
                           f"on {result['row_count']} {args.rows} rows of {args.csv}")
    except TrainingError as exc:
        print(f"{args.command} failed: {one_line(exc)}", file=sys.stderr)
        return 1
    print(summary, file=sys.stderr)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
