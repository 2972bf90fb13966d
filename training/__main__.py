"""CLI: ``python -m training --manifest-url URL [--config FILE] [--manifest-sha256 H] [--tracking-uri URI]``.

``--config`` is the training config the generator renders from the spec (generated/azureml/training-config.json);
without it the built-in defaults (the same baseline) apply. ``--model-name``/``--experiment`` override it.

Progress goes to stderr; the result JSON is the last stdout line. Failures exit non-zero with one line.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from training.config import TrainingConfig, load_config
from training.console import one_line, stdout_to_stderr
from training.errors import TrainingError
from training.pipeline import run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train, evaluate and register the Porto Seguro model from a data-prep lineage manifest.",
    )
    parser.add_argument("--manifest-url", required=True, help="blob URL of the data-prep manifest.json")
    parser.add_argument("--manifest-sha256", default=None, help="refuse the manifest unless its bytes hash to this")
    parser.add_argument(
        "--tracking-uri",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI), e.g. sqlite:///runtime/mlflow/mlflow.db",
    )
    parser.add_argument("--config", default=None, help="training config JSON rendered from the spec")
    parser.add_argument("--model-name", default=None, help="override the config's model_name")
    parser.add_argument("--experiment", default=None, help="override the config's experiment")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("training: %(message)s"))
    logger = logging.getLogger("training")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        config = load_config(args.config) if args.config else TrainingConfig()
        with stdout_to_stderr():
            result = run(
                args.manifest_url,
                tracking_uri=args.tracking_uri or "",
                model_name=args.model_name,
                expected_manifest_sha256=args.manifest_sha256,
                config=config,
                experiment=args.experiment,
            )
    except TrainingError as exc:
        print(f"training failed: {one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # an unexpected failure still ends as one line; the type says where to look
        print(f"training failed unexpectedly: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
