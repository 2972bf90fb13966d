"""Deterministic stratified train/test split that depends only on (seed, id, target), never on row order.

Each row gets a keyed hash of its id; within each target class the rows with the smallest hashes go to
test, exactly round(test_fraction * class size) of them. Shuffling, re-exporting or re-delivering the
same rows therefore yields the same split, and a row's side does not change when other rows are added
to its class unless the quota moves past it.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from dataprep.errors import ParameterError

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser over uint64 values (wrapping arithmetic); a bijection, so no collisions."""
    z = x.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def keyed_hash(ids: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64(id XOR splitmix64(seed)): distinct ids get distinct hashes for any seed."""
    key = splitmix64(np.array([seed % 2**64], dtype=np.uint64))[0]
    return splitmix64(ids.astype(np.int64).view(np.uint64) ^ key)


def quota(class_rows: int, test_fraction: float) -> int:
    """Test rows for a class of `class_rows` rows (Python's round: half to even)."""
    return round(test_fraction * class_rows)


def split_indices(ids: np.ndarray, labels: np.ndarray, *, test_fraction: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(train row indices, test row indices), each ordered by id."""
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    hashes = keyed_hash(ids, seed)
    is_test = np.zeros(ids.size, dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        # Hashes are unique per id; the id is only a tie-breaker should ids repeat.
        ranked = members[np.lexsort((ids[members], hashes[members]))]
        is_test[ranked[: quota(members.size, test_fraction)]] = True
    by_id = np.argsort(ids, kind="stable")
    return by_id[~is_test[by_id]], by_id[is_test[by_id]]


def split_table(table: pa.Table, *, test_fraction: float, seed: int, stratify_on: str = "target",
                id_column: str = "id") -> tuple[pa.Table, pa.Table]:
    """(train, test) tables with the input's columns and types, rows ordered by id."""
    ids = table.column(id_column).to_numpy()
    labels = table.column(stratify_on).to_numpy()
    train_rows, test_rows = split_indices(ids, labels, test_fraction=test_fraction, seed=seed)
    return table.take(train_rows), table.take(test_rows)
