"""CLI: python -m synthetic --rows N --seed S --out PATH"""
from __future__ import annotations

import argparse
import hashlib

from dataprep.columns import SOURCE_ROWS
from synthetic.generate import generate, write_csv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m synthetic", description="Write a synthetic Porto Seguro train.csv")
    parser.add_argument("--rows", type=int, default=SOURCE_ROWS, help=f"row count (default {SOURCE_ROWS}, as real)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="CSV path to write")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")

    df = generate(args.rows, args.seed)
    write_csv(df, args.out)
    with open(args.out, "rb") as written:
        digest = hashlib.file_digest(written, "sha256").hexdigest()
    print(f"wrote {len(df)} rows ({df['target'].mean():.2%} positive) to {args.out} sha256={digest}")


if __name__ == "__main__":
    main()
