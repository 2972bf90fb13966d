"""prepare() end to end against a real Azurite: outputs, lineage, determinism, rejection, quarantine, retries."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pytest

from dataprep.contract_spec import DataContract
from dataprep.errors import ContractViolation, InputNotFound, ParameterError, RunConflict
from dataprep.job import prepare
from dataprep.split import in_test
from dataprep_builders import BROKEN, FILE_LEVEL, set_cell, to_csv, valid_frame
from storage.blobs import download_bytes

ROWS, POSITIVES = 2000, 0.1


def run(store, url: str, run_id: str, **options) -> dict:
    return prepare(url, pipeline_run_id=run_id, storage_account_url=store.account_url, containers=store.containers,
                   split_seed=options.pop("split_seed", 0), **options)


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("id").reset_index(drop=True)


def frame_of(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(pa.BufferReader(data))


@pytest.fixture
def delivered(store, columns):
    """A valid 2000-row file delivered to the inbox: (url, bytes, frame)."""
    df = valid_frame(columns, ROWS, seed=1, positives=POSITIVES)
    data = to_csv(df)
    return store.put("train.csv", data), data, df


def test_valid_file_becomes_train_test_and_a_manifest(store, columns, contract, delivered):
    url, data, df = delivered
    result = run(store, url, "run-1")
    acct, c = store.account_url, store.containers

    assert result == {
        "manifest_url": f"{acct}/{c.archive}/runs/run-1/manifest.json",
        "manifest_sha256": result["manifest_sha256"],
        "training_url": f"{acct}/{c.training}/run-1",
        "testing_url": f"{acct}/{c.testing}/run-1",
        "train_url": f"{acct}/{c.training}/run-1/train.parquet",
        "test_url": f"{acct}/{c.testing}/run-1/test.parquet",
        "quarantine_url": None,
        "rows": {"input": ROWS, "accepted": ROWS, "quarantined": 0, "train": result["rows"]["train"],
                 "test": result["rows"]["test"]},
    }
    assert json.dumps(result)  # the notebook exit value must be JSON
    train_bytes, test_bytes = download_bytes(result["train_url"]), download_bytes(result["test_url"])
    train, test = frame_of(train_bytes), frame_of(test_bytes)

    # Rows, the spec's split (method hash: each row by its own keyed hash), disjoint ids, same columns and dtypes.
    assert len(train) + len(test) == len(df)
    assert set(test["id"]) == set(df["id"][in_test(df["id"].to_numpy(), 0, 0.2)])
    assert not set(train["id"]) & set(test["id"])
    assert set(train["id"]) | set(test["id"]) == set(df["id"])
    for side in (train, test):
        assert list(side.columns) == [c.name for c in columns]
        assert side.dtypes.astype(str).tolist() == [c.dtype for c in columns]
    merged = pd.concat([train, test]).set_index("id").sort_index()
    pd.testing.assert_frame_equal(merged, df.set_index("id").sort_index())

    # The manifest describes exactly the stored blobs.
    manifest_bytes = download_bytes(result["manifest_url"])
    assert hashlib.sha256(manifest_bytes).hexdigest() == result["manifest_sha256"]
    manifest = json.loads(manifest_bytes)
    digest = hashlib.sha256(data).hexdigest()
    assert manifest["manifest_version"] == 1 and manifest["pipeline_run_id"] == "run-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", manifest["created_at"])
    assert manifest["input"] == {
        "url": url, "archived_url": f"{acct}/{c.archive}/inputs/sha256/{digest}.csv", "sha256": digest,
        "bytes": len(data), "rows": ROWS, "rows_accepted": ROWS, "rows_quarantined": 0, "quarantine": None,
        "positive_rate": POSITIVES, "columns": [c.name for c in columns], "schema_sha256": contract.schema_sha256}
    assert manifest["trigger"]["blob_path"] == url.removeprefix(acct + "/")
    assert manifest["trigger"]["etag"] and manifest["trigger"]["last_modified"].endswith("Z")
    assert manifest["started_at"] <= manifest["created_at"]
    assert DataContract.from_json(download_bytes(manifest["contract_url"]).decode()) == contract
    for name, blob, side in (("train", train_bytes, train), ("test", test_bytes, test)):
        entry = manifest["outputs"][name]
        assert entry["url"] == result[f"{name}_url"]
        assert entry["sha256"] == hashlib.sha256(blob).hexdigest() and entry["bytes"] == len(blob)
        assert entry["rows"] == len(side) and entry["positive_rate"] == pytest.approx(side["target"].mean())
        assert entry["columns"] == [c.name for c in columns]
        ids = "\n".join(str(i) for i in sorted(side["id"]))
        assert entry["ids_sha256"] == hashlib.sha256(ids.encode()).hexdigest()
    assert manifest["parameters"] == {
        "test_fraction": 0.2, "split_seed": 0, "stratify_on": "target", "output_format": "parquet",
        "split_rule": "keyed_hash(seed, id) < cutoff[target]", "contract": "porto_seguro_train",
        "contract_sha256": contract.sha256, "row_policy": "quarantine", "split_method": "hash"}
    assert manifest["code"]["notebook"] == "notebooks/data_prepare.py"
    assert set(manifest["code"]) == {"notebook", "notebook_sha256", "git_commit", "git_dirty", "packages"}
    assert manifest_bytes == json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    # The archive holds the exact input bytes; nothing went to the rejected area.
    assert download_bytes(manifest["input"]["archived_url"]) == data
    assert store.blobs(c.rejected) == {}


def test_shuffled_rows_give_the_same_split_and_the_same_rows(store, delivered):
    url, _, df = delivered
    shuffled_url = store.put("train-shuffled.csv", to_csv(df.sample(frac=1.0, random_state=7)))
    first, second = run(store, url, "run-a"), run(store, shuffled_url, "run-b")
    for key in ("train_url", "test_url"):
        # Same rows with the same values; the files keep the delivery's row order (streaming, no global sort).
        pd.testing.assert_frame_equal(by_id(frame_of(download_bytes(first[key]))),
                                      by_id(frame_of(download_bytes(second[key]))))
    manifests = [json.loads(download_bytes(r["manifest_url"])) for r in (first, second)]
    for side in ("train", "test"):
        assert manifests[0]["outputs"][side]["ids_sha256"] == manifests[1]["outputs"][side]["ids_sha256"]
    assert manifests[0]["input"]["sha256"] != manifests[1]["input"]["sha256"]  # different files, same data


def test_redelivery_with_more_rows_keeps_every_original_rows_side(store, columns, contract, delivered):
    """split.method hash: the fixed cutoff makes a row's side independent of every other row."""
    url, _, df = delivered
    contract = replace(contract, split_method="hash")
    extra = valid_frame(columns, 3000, seed=9)
    extra = extra[~extra["id"].isin(df["id"])]
    bigger = pd.concat([extra.iloc[:700], df, extra.iloc[700:]]).sample(frac=1.0, random_state=3)
    first = run(store, url, "run-small", contract=contract)
    second = run(store, store.put("bigger.csv", to_csv(bigger)), "run-big", contract=contract)
    assert set(frame_of(download_bytes(first["test_url"]))["id"]) == set(df["id"][in_test(df["id"].to_numpy(), 0, 0.2)])
    small_test = set(frame_of(download_bytes(first["test_url"]))["id"])
    big_test = set(frame_of(download_bytes(second["test_url"]))["id"])
    assert small_test == big_test & set(df["id"])  # no original row changed side
    assert second["rows"]["input"] == len(bigger)


def test_another_seed_gives_another_split(store, delivered):
    url, _, _ = delivered
    first, second = run(store, url, "seed-0"), run(store, url, "seed-1", split_seed=1)
    assert download_bytes(first["test_url"]) != download_bytes(second["test_url"])
    assert first["rows"]["input"] == second["rows"]["input"]


def test_redelivered_bytes_reuse_the_archived_object(store, delivered):
    url, data, _ = delivered
    again_url = store.put("train-again.csv", data)  # Event Grid duplicate / re-upload under another name
    run(store, url, "run-1")
    run(store, again_url, "run-2")
    digest = hashlib.sha256(data).hexdigest()
    archived = [name for name in store.blobs(store.containers.archive) if name.startswith("inputs/")]
    assert archived == [f"inputs/sha256/{digest}.csv"]
    # written once, by the first run: the second did not overwrite it
    assert store.metadata(store.containers.archive, archived[0]) == {"pipeline_run_id": "run-1"}


def test_retry_of_a_completed_run_returns_its_result_and_writes_nothing(store, delivered, columns):
    url, _, df = delivered
    first = run(store, url, "run-1")
    before = store.etags()
    assert run(store, url, "run-1") == first
    assert store.etags() == before

    other_url = store.put("other.csv", to_csv(valid_frame(columns, 100, seed=5)))
    with pytest.raises(RunConflict, match=r"pipeline run run-1 already completed .* Start a new pipeline run"):
        run(store, other_url, "run-1")
    with pytest.raises(RunConflict):
        run(store, url, "run-1", test_fraction=0.3)


def test_a_concurrent_attempt_that_finished_first_keeps_its_manifest(store, delivered, monkeypatch):
    url, _, _ = delivered
    first = run(store, url, "run-1")
    manifest_etag = store.etags()[f"{store.containers.archive}/runs/run-1/manifest.json"]
    # This attempt started before the other one wrote its manifest, so it did not see it.
    monkeypatch.setattr("dataprep.job._download_optional", lambda url: None)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert run(store, url, "run-1", now=lambda: later) == first
    assert store.etags()[f"{store.containers.archive}/runs/run-1/manifest.json"] == manifest_etag


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_broken_file_is_rejected_and_nothing_else_is_written(case, store, columns, strict):
    data = case.build(valid_frame(columns, 40))
    url = store.put("train.csv", data)
    with pytest.raises(ContractViolation) as caught:
        run(store, url, "run-bad", contract=strict)
    message = str(caught.value)
    for pattern in case.expect:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"

    c = store.containers
    rejected = store.blobs(c.rejected)
    assert set(rejected) == {"run-bad/train.csv", "run-bad/train.csv.reason.json"}
    assert rejected["run-bad/train.csv"] == data
    reason = json.loads(rejected["run-bad/train.csv.reason.json"])
    assert reason["reason"] == message
    assert reason["problems"] == [p.to_dict() for p in caught.value.problems]
    assert reason["input_url"] == url and reason["pipeline_run_id"] == "run-bad"
    assert reason["sha256"] == hashlib.sha256(data).hexdigest() and reason["bytes"] == len(data)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", reason["rejected_at"])
    assert store.blobs(c.training) == store.blobs(c.testing) == store.blobs(c.archive) == {}


def test_missing_input_blob_is_named(store):
    url = f"{store.account_url}/{store.inbox}/deliveries/nope.csv"
    with pytest.raises(InputNotFound, match=r"nope\.csv does not exist; check that the trigger's folderPath"):
        run(store, url, "run-1")


@pytest.mark.parametrize(("options", "message"), [
    ({"pipeline_run_id": "../escape"}, "is not a plain run id"),
    ({"pipeline_run_id": ""}, "is not a plain run id"),
    ({"test_fraction": 1.0}, "strictly between 0 and 1"),
    ({"split_seed": "0"}, "split_seed must be an integer"),
])
def test_bad_parameters_are_refused_before_any_write(store, delivered, options, message):
    url, _, _ = delivered
    kwargs = {"pipeline_run_id": "run-1", **options}
    with pytest.raises(ParameterError, match=message):
        run(store, url, kwargs.pop("pipeline_run_id"), **kwargs)
    assert all(store.blobs(name) == {} for name in vars(store.containers).values())


def test_output_bytes_do_not_depend_on_the_run(store, delivered):
    url, _, _ = delivered
    a, b = run(store, url, "run-1"), run(store, url, "run-2")
    for key in ("train_url", "test_url"):
        assert download_bytes(a[key]) == download_bytes(b[key])


def test_bad_rows_under_the_threshold_are_quarantined_with_a_reason_per_row(store, columns, contract):
    df = valid_frame(columns, ROWS, seed=2)
    data = set_cell(set_cell(to_csv(df), 10, "ps_ind_02_cat", "9"), 20, "ps_reg_01", "abc")
    result = run(store, store.put("train.csv", data), "run-q", contract=replace(contract, max_quarantined_share=0.01))
    acct, c = store.account_url, store.containers
    assert result["rows"]["input"] == ROWS and result["rows"]["accepted"] == ROWS - 2
    assert result["rows"]["quarantined"] == 2
    assert result["rows"]["train"] + result["rows"]["test"] == ROWS - 2
    assert result["quarantine_url"] == f"{acct}/{c.rejected}/run-q/train.csv.quarantine.csv"
    quarantined = pd.read_csv(pa.BufferReader(download_bytes(result["quarantine_url"])), dtype=str)
    assert quarantined[["line", "column", "rule", "value"]].values.tolist() == [
        ["12", "ps_ind_02_cat", "values", "9"], ["22", "ps_reg_01", "type", "abc"]]
    assert quarantined["row"][0] == data.split(b"\n")[11].decode()  # the original line, to fix and re-send
    assert "Fix: " not in quarantined["fix"][0] and quarantined["fix"][0].startswith("use one of [0, 1, 2, 3, 4]")
    bad_ids = {int(df["id"][10]), int(df["id"][20])}
    kept = set(frame_of(download_bytes(result["train_url"]))["id"]) | set(frame_of(download_bytes(result["test_url"]))["id"])
    assert not kept & bad_ids and len(kept) == ROWS - 2
    manifest = json.loads(download_bytes(result["manifest_url"]))
    assert manifest["input"]["quarantine"]["url"] == result["quarantine_url"]
    assert manifest["input"]["quarantine"]["rows"] == 2
    assert download_bytes(manifest["input"]["archived_url"]) == data  # the original bytes, bad rows included


def test_bad_rows_over_the_threshold_reject_the_file(store, columns, contract):
    data = to_csv(valid_frame(columns, 100))
    for row in (3, 30, 60):
        data = set_cell(data, row, "ps_ind_01", "99")
    url = store.put("train.csv", data)
    with pytest.raises(ContractViolation, match=r"3 of 100 rows \(3\.00%\) break it, more than the 1\.00% the "
                                                r"quarantine policy sets aside") as caught:
        run(store, url, "run-over", contract=contract)
    assert "lines 5, 32, 62, column 'ps_ind_01': value 99 is outside the allowed range [0, 7]" in str(caught.value)
    assert set(store.blobs(store.containers.rejected)) == {"run-over/train.csv", "run-over/train.csv.reason.json"}
    assert store.blobs(store.containers.rejected)["run-over/train.csv"] == data
    assert store.blobs(store.containers.training) == store.blobs(store.containers.testing) == {}


@pytest.mark.parametrize("case", [c for c in BROKEN if c.name in FILE_LEVEL], ids=lambda case: case.name)
def test_file_level_violations_reject_even_under_the_quarantine_policy(case, store, columns, contract):
    url = store.put("train.csv", case.build(valid_frame(columns, 400)))
    with pytest.raises(ContractViolation):
        run(store, url, "run-file", contract=replace(contract, max_quarantined_share=0.5))
    assert store.blobs(store.containers.training) == store.blobs(store.containers.testing) == {}


def test_cleaning_and_csv_output_follow_the_contract(store, columns, contract):
    df = valid_frame(columns, 300, seed=4)
    cleaned = replace(contract, drop_columns=("ps_calc_*",), missing_to_null=("ps_*_cat",), output_format="csv")
    result = run(store, store.put("train.csv", to_csv(df)), "run-clean", contract=cleaned)
    assert result["train_url"].endswith("/run-clean/train.csv") and result["test_url"].endswith("/run-clean/test.csv")
    train = pd.read_csv(pa.BufferReader(download_bytes(result["train_url"])))
    assert not [n for n in train.columns if n.startswith("ps_calc_")] and "ps_car_13" in train.columns
    assert train["ps_car_03_cat"].isna().any() and not (train["ps_car_03_cat"] == -1).any()
    assert (train["ps_car_11"] == -1).any() or (df["ps_car_11"] != -1).all()  # not a _cat column: code kept
    manifest = json.loads(download_bytes(result["manifest_url"]))
    assert manifest["outputs"]["train"]["columns"] == list(train.columns)
