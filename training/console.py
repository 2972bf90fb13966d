"""Console plumbing shared by the CLIs: keep stdout for the result JSON, keep failures to one line."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


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


def one_line(text: str) -> str:
    return " ".join(str(text).split())
