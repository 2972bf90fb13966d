"""Deterministic synthetic Porto Seguro safe-driver data (the real set is not reachable here).

Same 59 columns, dtypes, ranges, means and missing rates as the real train.csv (spec/porto_seguro_columns.tsv),
with a planted logistic signal behind `target`. CLI: ``python -m synthetic --rows N --seed S --out PATH``.
"""
from synthetic.generate import generate, write_csv

__all__ = ["generate", "write_csv"]
