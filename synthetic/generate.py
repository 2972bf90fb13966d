"""Deterministic synthetic train.csv: the contract's marginals per column plus a planted target signal.

Every feature is drawn independently of the others; only `target` depends on a handful of non-calc
features, through a logistic model, so the `ps_calc_*` columns stay pure noise as in the real data.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dataprep.columns import MISSING, ColumnSpec, load_columns

DECIMALS = 6
# Spread of the (shifted) lognormal used for free continuous columns such as ps_car_13 and ps_reg_03.
LOGNORMAL_SIGMA = 0.4
# sqrt-like columns are square roots of a grid: the real ps_car_12 / ps_car_14 squared are multiples of
# 0.01 / 0.001, and 0.001 fits both maxima (1.6 and 0.405).
SQRT_LIKE_STEP = 0.001
_SQRT_OF_INT = re.compile(r"sqrt of int (\d+)\.\.(\d+)")


def generate(rows: int, seed: int) -> pd.DataFrame:
    """`rows` rows in the contract's column order and dtypes; same (rows, seed), same frame."""
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    specs = load_columns()
    rng = np.random.default_rng(seed)
    values: dict[str, np.ndarray] = {}
    for spec in specs:
        if spec.kind == "id":
            values[spec.name] = _ids(spec, rows, rng)
        elif spec.kind != "label":
            values[spec.name] = _feature(spec, rows, rng)
    # The label comes last so that it can read the finished (missing-injected) features.
    for spec in specs:
        if spec.kind == "label":
            values[spec.name] = _target(values, spec.mean, rng)
    return pd.DataFrame({spec.name: values[spec.name].astype(spec.dtype, copy=False) for spec in specs})


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Header plus rows, no index, "\\n" newlines; float cells always have a '.' so they read back as float64."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    cells = [_float_text(column) if pa.types.is_floating(column.type) else column for column in table.columns]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    options = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
    pacsv.write_csv(pa.table(cells, names=table.column_names), str(path), options)


def _float_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Arrow prints floats shortest-round-trip (deterministic) but writes 1.0 as "1"; put the ".0" back.
    text = pc.cast(column, pa.string())
    return pc.if_else(pc.match_substring_regex(text, r"[.e]"), text, pc.binary_join_element_wise(text, ".0", ""))


def _ids(spec: ColumnSpec, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted unique ids with random gaps, inside [min, max] when the range is wide enough."""
    low, high = int(spec.min), int(spec.max)
    if rows <= high - low + 1:
        return low + np.sort(rng.choice(high - low + 1, size=rows, replace=False, shuffle=False))
    return max(low, 1) - 1 + np.cumsum(rng.integers(1, 4, size=rows))


def _feature(spec: ColumnSpec, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Non-missing values matching the column's mean, then -1 at the column's missing rate."""
    low = 0.0 if spec.has_missing else spec.min  # -1 is the missing marker, not a value
    # The TSV mean counts the -1 entries; this is the mean the present values need.
    mean = (spec.mean + spec.missing_rate) / (1 - spec.missing_rate)
    support = _support(spec, low)
    if support is None:
        values = low + (mean - low) * rng.lognormal(-LOGNORMAL_SIGMA**2 / 2, LOGNORMAL_SIGMA, size=rows)
    else:
        values = rng.choice(support, size=rows, p=_tilted_probabilities(support, mean))
    if spec.dtype == "float64":
        values = np.clip(np.round(values, DECIMALS), low, spec.max)
    if spec.has_missing:
        values = np.where(rng.random(rows) < spec.missing_rate, MISSING, values)
    return values


def _support(spec: ColumnSpec, low: float) -> np.ndarray | None:
    """The finite set of values the column takes, or None for a free continuous column."""
    kind, _, hint = spec.kind.partition("(")
    hint = hint.rstrip(")")
    if kind in ("bin", "cat", "ordinal"):
        return np.arange(int(low), int(spec.max) + 1)
    if kind != "continuous":
        raise ValueError(f"{spec.name}: unknown kind {spec.kind!r}")
    if hint == "":
        return None
    if hint == "step0.1":
        return np.arange(round(low * 10), round(spec.max * 10) + 1) / 10
    if hint == "sqrt-like":
        squares = np.arange(round(low**2 / SQRT_LIKE_STEP), round(spec.max**2 / SQRT_LIKE_STEP) + 1) * SQRT_LIKE_STEP
        return np.sqrt(squares)
    if match := _SQRT_OF_INT.fullmatch(hint):
        return np.sqrt(np.arange(int(match[1]), int(match[2]) + 1))
    raise ValueError(f"{spec.name}: unknown continuous hint {hint!r}")


def _tilted_probabilities(support: np.ndarray, mean: float) -> np.ndarray:
    """The maximum-entropy distribution on `support` with the given mean: p_k ∝ exp(theta * x_k).

    For two values this is exactly Bernoulli(mean); for ranges it is a smooth, monotone shape.
    """
    scaled = (support - support.min()) / (support.max() - support.min())
    target = (mean - support.min()) / (support.max() - support.min())

    def distribution(theta: float) -> np.ndarray:
        weights = np.exp(theta * scaled - max(theta, 0.0))  # shifted by the largest exponent: no overflow
        return weights / weights.sum()

    low, high = -500.0, 500.0  # the mean is increasing in theta; bisect it
    for _ in range(60):
        theta = (low + high) / 2
        if distribution(theta) @ scaled < target:
            low = theta
        else:
            high = theta
    return distribution((low + high) / 2)


def _target(values: dict[str, np.ndarray], rate: float, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli draws from a planted logistic model whose intercept gives `rate` positives on average."""
    logit = _signal(values)
    low, high = -40.0, 40.0  # the expected positive rate is increasing in the intercept; bisect it
    for _ in range(50):
        intercept = (low + high) / 2
        if _sigmoid(logit + intercept).mean() < rate:
            low = intercept
        else:
            high = intercept
    return (rng.random(logit.size) < _sigmoid(logit + (low + high) / 2)).astype(np.int64)


def _signal(values: dict[str, np.ndarray]) -> np.ndarray:
    """Planted log-odds, up to the intercept; effect directions follow what is known of the real data."""
    reg_03 = values["ps_reg_03"]
    return (
        2.4 * values["ps_car_13"]
        + 0.7 * np.where(reg_03 == MISSING, 1.2, reg_03)  # a missing ps_reg_03 counts as a high one
        + 0.85 * (values["ps_ind_05_cat"] != 0)
        + 0.7 * values["ps_ind_17_bin"]
        + 0.7 * (values["ps_car_07_cat"] != 1)
        - 0.5 * values["ps_ind_06_bin"]
        - 0.06 * values["ps_ind_15"]
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))
