"""The Porto Seguro column statistics (spec/porto_seguro_columns.tsv) as typed records.

The synthetic generator draws from these (means, missing rates); the data contract itself lives in
spec/factory.yaml (`data_contract:`, dataprep.contract_spec), and a test keeps the two in agreement.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "spec" / "porto_seguro_columns.tsv"
# Row count of the real train.csv the TSV's statistics were computed on.
SOURCE_ROWS = 595_212
MISSING = -1
DTYPES = ("int64", "float64")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: str  # pandas dtype: "int64" or "float64"
    kind: str  # id, label, bin, cat, ordinal, continuous, optionally with a hint: "continuous(step0.1)"
    min: float  # over all rows, so -1 when the column has missing values
    max: float
    mean: float  # over all rows, -1 (missing) entries included
    missing_rate: float  # share of rows that are -1 (missing)

    @property
    def has_missing(self) -> bool:
        return self.missing_rate > 0


def load_columns(path: str | Path = DEFAULT_PATH) -> list[ColumnSpec]:
    """The columns in file order; raises ValueError on a malformed or inconsistent line."""
    columns: list[ColumnSpec] = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            raise ValueError(f"{path}:{number}: expected 7 tab-separated fields, got {len(fields)}")
        name, dtype, kind, low, high, mean, missing = fields
        if dtype not in DTYPES:
            raise ValueError(f"{path}:{number}: dtype {dtype!r} is not one of {DTYPES}")
        spec = ColumnSpec(name, dtype, kind, float(low), float(high), float(mean), int(missing) / SOURCE_ROWS)
        if spec.has_missing and spec.min != MISSING:
            raise ValueError(f"{path}:{number}: {name} has missing values but its min is not {MISSING}")
        if not spec.min <= spec.mean <= spec.max:
            raise ValueError(f"{path}:{number}: {name} mean {spec.mean} is outside [{spec.min}, {spec.max}]")
        columns.append(spec)
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicate column names")
    return columns
