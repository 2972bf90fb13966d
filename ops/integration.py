"""`make integration-test ENV=local|dev|qa|prod`: check the data of the latest successful run, not just that
files exist. Locally the run and its manifest come from the runtime's store; in Azure from the ADF run API (the
data-prep activity's output, or the archive's runs/<run id>/manifest.json) and the environment's storage
account (azure-storage-blob with DefaultAzureCredential). The checks are the same (`check_manifest`).

train rows + test rows = input rows; the test share and both positive rates agree with the input within four
standard errors of the split the manifest records (split.method hash decides each row alone, so the shares are
binomial: 0.2 point at 595,212 rows, wider for small files; split.method quota is exact); no id on both sides;
columns preserved; every hash in the manifest equals the stored blob's.
"""
from __future__ import annotations

import argparse
import io
import math
import sys
from collections.abc import Callable

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from local_runtime.settings import load_settings
from local_runtime.store import Store
from ops.deployed import latest_run, manifest
from storage import download_bytes, sha256_hex


def check_run(store: Store, run_id: str) -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for every property the prepared data of a local run must have."""
    man, _ = manifest(store, run_id)
    return check_manifest(man)


def check_manifest(man: dict, fetch: Callable[[str], bytes] = download_bytes) -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for every property the data a manifest names must have, wherever it is stored."""
    raw = {"input": fetch(man["input"]["archived_url"])}
    raw.update({side: fetch(man["outputs"][side]["url"]) for side in ("train", "test")})
    source = pacsv.read_csv(io.BytesIO(raw["input"]))
    train, test = (pq.read_table(io.BytesIO(raw[s])) for s in ("train", "test"))
    # Quarantined rows (if the contract's row policy allows any) are set aside, not split.
    n_in = man["input"].get("rows_accepted", source.num_rows)
    n_train, n_test = train.num_rows, test.num_rows
    rate = {name: sum(t.column("target").to_pylist()) / t.num_rows for name, t in
            (("input", source), ("train", train), ("test", test))}
    share = n_test / n_in
    fraction = man.get("parameters", {}).get("test_fraction", 0.2)
    p = rate["input"]
    # Four standard errors: the share is Binomial(n, f) / n; given the test size, a side's positive rate is
    # hypergeometric, variance p (1 - p) (share of the other side) / side rows.
    tol = {"share": 4 * math.sqrt(fraction * (1 - fraction) / n_in),
           "train": 4 * math.sqrt(p * (1 - p) * share / max(n_train, 1)),
           "test": 4 * math.sqrt(p * (1 - p) * (1 - share) / max(n_test, 1))}
    common = set(train.column("id").to_pylist()) & set(test.column("id").to_pylist())
    checks = [
        ("rows add up", n_train + n_test == n_in, f"{n_train} + {n_test} = {n_train + n_test} vs input {n_in}"),
        (f"test share {fraction:.0%} within 4 std errors", abs(share - fraction) <= tol["share"],
         f"{share:.4%} (+/- {tol['share']:.2%})"),
        ("train positive rate within 4 std errors", abs(rate["train"] - p) <= tol["train"],
         f"{rate['train']:.4%} vs input {p:.4%} (+/- {tol['train']:.2%})"),
        ("test positive rate within 4 std errors", abs(rate["test"] - p) <= tol["test"],
         f"{rate['test']:.4%} vs input {p:.4%} (+/- {tol['test']:.2%})"),
        ("no id on both sides", not common, f"{len(common)} shared id(s)"),
        ("columns as the contract declares", train.column_names == test.column_names ==
         man["outputs"]["train"].get("columns", source.column_names), f"{train.num_columns} output columns"),
        ("archived input sha256 matches manifest", sha256_hex(raw["input"]) == man["input"]["sha256"],
         man["input"]["sha256"][:16]),
    ]
    for side in ("train", "test"):
        checks.append((f"{side} sha256 matches manifest", sha256_hex(raw[side]) == man["outputs"][side]["sha256"],
                       man["outputs"][side]["sha256"][:16]))
        checks.append((f"{side} rows match manifest", man["outputs"][side]["rows"] == (n_train if side == "train" else n_test),
                       str(man["outputs"][side]["rows"])))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="local")
    parser.add_argument("--run-id")
    args = parser.parse_args(argv)
    if args.env != "local":
        return azure_main(args.env, args.run_id)
    settings = load_settings()
    store = Store(settings.db_path)
    run_id = args.run_id or latest_run(store)["run_id"]
    return report(run_id, check_run(store, run_id))


def azure_main(env: str, run_id: str | None, credential=None, endpoints=None,
               fetch: Callable[[str], bytes] = download_bytes) -> int:
    from azure_deploy.clients import default_credential
    from azure_deploy.errors import AzureDeployError
    from azure_deploy.factory import FactoryOps
    from azure_deploy.runs import find_manifest, trigger_pipeline
    from azure_deploy.source import load_source
    from azure_deploy.target import Endpoints, load_target

    try:
        target = load_target(env, endpoints=endpoints or Endpoints.from_environ())
        ops = FactoryOps(target, credential or default_credential())
        run_id, man = find_manifest(ops, target, trigger_pipeline(load_source(target)), run_id, fetch)
    except AzureDeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return report(run_id, check_manifest(man, fetch))


def report(run_id: str, checks: list[tuple[str, bool, str]]) -> int:
    print(f"integration checks on run {run_id}:")
    for name, passed, detail in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {name:<42} {detail}")
    failed = sum(not passed for _, passed, _ in checks)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
