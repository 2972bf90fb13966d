"""CLI: ``python -m training --manifest-url URL [--manifest-sha256 H] [--tracking-uri URI] [--model-name NAME]``.

Progress goes to stderr; the result JSON is the last stdout line. Failures exit non-zero with one line.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from training.errors import TrainingError
from training.pipeline import DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, run


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
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    return parser.parse_args(argv)


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at stderr while training runs, so stdout carries only the result JSON.

    LightGBM's native code prints some warnings straight to stdout from its worker threads (its log level and
    callback are thread-local, so ``verbose=-1`` does not reach them); MLflow prints too.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("training: %(message)s"))
    logger = logging.getLogger("training")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with stdout_to_stderr():
            result = run(
                args.manifest_url,
                tracking_uri=args.tracking_uri or "",
                model_name=args.model_name,
                expected_manifest_sha256=args.manifest_sha256,
                experiment=args.experiment,
            )
    except TrainingError as exc:
        print(f"training failed: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # an unexpected failure still ends as one line; the type says where to look
        print(f"training failed unexpectedly: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
