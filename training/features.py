"""From the data-prep parquet outputs to model inputs (pure functions)."""
from __future__ import annotations

import io

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from training.errors import DataError

ID_COLUMN = "id"
TARGET_COLUMN = "target"
CATEGORICAL_SUFFIX = "_cat"


def read_parquet(data: bytes, *, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for corrupt input
        raise DataError(f"{name}: not a readable parquet file ({type(exc).__name__}: {exc})") from None


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every column except the id and the label, in file order."""
    return [c for c in frame.columns if c not in (ID_COLUMN, TARGET_COLUMN)]


def categorical_columns(features: list[str]) -> list[str]:
    # The `_cat` columns go to LightGBM as categorical features, kept as their raw non-negative integer codes
    # (no pandas `category` dtype). Why: they are nominal codes (ps_car_11_cat has 104 levels), so ordering
    # them is meaningless; LightGBM treats negative categorical values as missing, which is exactly the
    # data set's -1 convention; and raw int codes mean the logged model scores raw rows with no category
    # mapping to carry to serving. Other -1s (ordinal/continuous) stay as values: trees isolate them anyway.
    return [c for c in features if c.endswith(CATEGORICAL_SUFFIX)]


def _integer_codes(column: pd.Series) -> bool:
    # Integers, or floats that are whole numbers or null: data-prep may turn -1 into null, and a nullable int
    # column reads back as float. LightGBM takes NaN as missing, like a negative code.
    if column.dtype.kind in "iu":
        return True
    values = column.dropna().to_numpy(dtype="float64", na_value=float("nan"))
    return column.dtype.kind == "f" and bool((values == values.round()).all())


def validate_frame(frame: pd.DataFrame, *, name: str, expected_rows: int | None = None) -> None:
    """The shape training relies on: id + binary target + numeric features, both classes present."""
    missing = [c for c in (ID_COLUMN, TARGET_COLUMN) if c not in frame.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}; found {list(frame.columns)[:8]}...")
    if expected_rows is not None and len(frame) != expected_rows:
        raise DataError(f"{name}: manifest says {expected_rows} rows, the file has {len(frame)}")
    features = feature_columns(frame)
    if not features:
        raise DataError(f"{name}: no feature columns besides {ID_COLUMN!r} and {TARGET_COLUMN!r}")
    bad = [c for c in features if not is_numeric_dtype(frame[c]) or is_bool_dtype(frame[c])]
    if bad:
        raise DataError(f"{name}: feature columns must be int or float (-1 = missing); not numeric: {bad}")
    not_int = [c for c in categorical_columns(features) if not _integer_codes(frame[c])]
    if not_int:
        raise DataError(f"{name}: categorical columns must hold integer codes (or nulls), found {not_int}")
    labels = set(pd.unique(frame[TARGET_COLUMN]).tolist())
    if not labels <= {0, 1}:
        raise DataError(f"{name}: {TARGET_COLUMN!r} must be 0/1, found values {sorted(labels)[:5]}")
    if labels != {0, 1}:
        raise DataError(f"{name}: {TARGET_COLUMN!r} holds a single class {sorted(labels)}; AUC needs both")


def check_same_features(train: pd.DataFrame, test: pd.DataFrame) -> None:
    a, b = feature_columns(train), feature_columns(test)
    if a != b:
        only_train, only_test = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        raise DataError(
            f"train and test features differ: only in train {only_train}, only in test {only_test}"
            + ("" if only_train or only_test else " (same names, different order)")
        )


def split_xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Features (all columns but id and target, file order) and the 0/1 label."""
    return frame[feature_columns(frame)], frame[TARGET_COLUMN].astype("int64")
