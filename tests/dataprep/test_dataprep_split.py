"""The split: a per-row keyed-hash rule, disjoint, blind to row order and to the other rows of the file."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from dataprep.errors import ParameterError
from dataprep.split import in_test, keyed_hash, quota, split_indices, split_table, splitmix64


def table(rows: int = 1000, positives: int = 100, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(1, rows * 10), size=rows, replace=False).astype(np.int64)
    target = np.zeros(rows, dtype=np.int64)
    target[rng.choice(rows, size=positives, replace=False)] = 1
    return pa.table({"id": ids, "target": target, "x": rng.random(rows)})


def test_splitmix64_matches_the_reference_outputs():
    # First outputs of Vigna's splitmix64 generator seeded with 0 and with 1234567.
    out = splitmix64(np.array([0, 1234567], dtype=np.uint64))
    assert out.tolist() == [0xE220A8397B1DCDAF, 6457827717110365317]


def test_keyed_hash_is_a_bijection_per_seed_and_depends_on_the_seed():
    ids = np.arange(1, 100_001, dtype=np.int64)
    assert np.unique(keyed_hash(ids, 0)).size == ids.size
    assert not np.array_equal(keyed_hash(ids, 0), keyed_hash(ids, 1))
    assert np.array_equal(keyed_hash(ids, -1), keyed_hash(ids, 2**64 - 1))


@pytest.mark.parametrize(("rows", "positives", "fraction"), [(1000, 100, 0.2), (997, 37, 0.2), (10, 3, 0.5), (7, 1, 0.25)])
def test_the_rank_variant_gives_each_class_exactly_its_quota(rows, positives, fraction):
    data = table(rows, positives)
    labels = data.column("target").to_numpy()
    _, test_rows = split_indices(data.column("id").to_numpy(), labels, test_fraction=fraction, seed=0)
    for label, count in ((0, rows - positives), (1, positives)):
        assert int(np.sum(labels[test_rows] == label)) == quota(count, fraction) == round(fraction * count)


def test_a_row_keeps_its_side_whatever_else_is_in_the_file():
    ids = np.random.default_rng(1).choice(np.arange(1, 10**7), size=200_000, replace=False)
    whole = in_test(ids, 7, 0.2)
    assert np.array_equal(in_test(ids[:1000], 7, 0.2), whole[:1000])  # a smaller delivery
    assert np.array_equal(in_test(ids[::-1], 7, 0.2), whole[::-1])  # another order


def test_the_test_share_is_binomial_around_the_fraction():
    ids = np.arange(1, 1_000_001, dtype=np.int64)
    for fraction in (0.2, 0.5, 0.05):
        share = in_test(ids, 3, fraction).mean()
        assert abs(share - fraction) < 4 * np.sqrt(fraction * (1 - fraction) / ids.size)


def test_sides_are_disjoint_complete_sorted_by_id_and_keep_the_columns():
    data = table()
    train, test = split_table(data, test_fraction=0.2, seed=42)
    train_ids, test_ids = train.column("id").to_numpy(), test.column("id").to_numpy()
    assert not set(train_ids) & set(test_ids)
    assert sorted([*train_ids, *test_ids]) == sorted(data.column("id").to_numpy())
    assert np.all(np.diff(train_ids) > 0) and np.all(np.diff(test_ids) > 0)
    assert train.schema == data.schema == test.schema
    # whole rows move together
    x_by_id = dict(zip(data.column("id").to_pylist(), data.column("x").to_pylist()))
    assert all(x_by_id[i] == x for i, x in zip(test.column("id").to_pylist(), test.column("x").to_pylist()))


def test_row_order_does_not_change_the_split():
    data = table()
    shuffled = data.take(np.random.default_rng(9).permutation(data.num_rows))
    assert split_table(data, test_fraction=0.2, seed=5) == split_table(shuffled, test_fraction=0.2, seed=5)


def test_the_seed_changes_the_split():
    data = table()
    _, test_a = split_table(data, test_fraction=0.2, seed=0)
    _, test_b = split_table(data, test_fraction=0.2, seed=1)
    assert set(test_a.column("id").to_pylist()) != set(test_b.column("id").to_pylist())


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_fraction_outside_zero_one_is_refused(fraction):
    with pytest.raises(ParameterError, match="strictly between 0 and 1"):
        split_indices(np.array([1, 2]), np.array([0, 1]), test_fraction=fraction, seed=0)
