"""prepare() end to end against a real Azurite: outputs, lineage, determinism, rejection, retries."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
import pytest

from dataprep.errors import ContractViolation, InputNotFound, ParameterError, RunConflict
from dataprep.job import prepare
from dataprep_builders import BROKEN, to_csv, valid_frame
from storage.blobs import download_bytes

ROWS, POSITIVES = 2000, 0.1


def run(store, url: str, run_id: str, **options) -> dict:
    return prepare(url, pipeline_run_id=run_id, storage_account_url=store.account_url, containers=store.containers,
                   split_seed=options.pop("split_seed", 0), **options)


def frame_of(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(pa.BufferReader(data))


@pytest.fixture
def delivered(store, columns):
    """A valid 2000-row file delivered to the inbox: (url, bytes, frame)."""
    df = valid_frame(columns, ROWS, seed=1, positives=POSITIVES)
    data = to_csv(df)
    return store.put("train.csv", data), data, df


def test_valid_file_becomes_train_test_and_a_manifest(store, columns, delivered):
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
        "rows": {"input": ROWS, "train": 1600, "test": 400},
    }
    assert json.dumps(result)  # the notebook exit value must be JSON
    train_bytes, test_bytes = download_bytes(result["train_url"]), download_bytes(result["test_url"])
    train, test = frame_of(train_bytes), frame_of(test_bytes)

    # Rows, exact per-class quotas, similar positive rates, disjoint ids, same columns and dtypes.
    assert len(train) + len(test) == len(df)
    for label, count in df["target"].value_counts().items():
        assert (test["target"] == label).sum() == round(0.2 * count)
    assert abs(train["target"].mean() - df["target"].mean()) < 0.005
    assert abs(test["target"].mean() - df["target"].mean()) < 0.005
    assert not set(train["id"]) & set(test["id"])
    assert set(train["id"]) | set(test["id"]) == set(df["id"])
    for side in (train, test):
        assert list(side.columns) == [c.name for c in columns]
        assert side.dtypes.astype(str).tolist() == [c.dtype for c in columns]
        assert side["id"].is_monotonic_increasing
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
        "bytes": len(data), "rows": ROWS, "positive_rate": POSITIVES, "columns": [c.name for c in columns]}
    for name, blob, side in (("train", train_bytes, train), ("test", test_bytes, test)):
        entry = manifest["outputs"][name]
        assert entry["url"] == result[f"{name}_url"]
        assert entry["sha256"] == hashlib.sha256(blob).hexdigest() and entry["bytes"] == len(blob)
        assert entry["rows"] == len(side) and entry["positive_rate"] == side["target"].mean()
        ids = "\n".join(str(i) for i in sorted(side["id"]))
        assert entry["ids_sha256"] == hashlib.sha256(ids.encode()).hexdigest()
    assert manifest["parameters"] == {"test_fraction": 0.2, "split_seed": 0, "stratify_on": "target",
                                      "output_format": "parquet"}
    assert manifest["code"]["notebook"] == "notebooks/data_prepare.py"
    assert set(manifest["code"]) == {"notebook", "notebook_sha256", "git_commit", "git_dirty", "packages"}
    assert manifest_bytes == json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    # The archive holds the exact input bytes; nothing went to the rejected area.
    assert download_bytes(manifest["input"]["archived_url"]) == data
    assert store.blobs(c.rejected) == {}


def test_shuffled_rows_give_the_same_split_and_identical_output_bytes(store, delivered):
    url, _, df = delivered
    shuffled_url = store.put("train-shuffled.csv", to_csv(df.sample(frac=1.0, random_state=7)))
    first, second = run(store, url, "run-a"), run(store, shuffled_url, "run-b")
    for key in ("train_url", "test_url"):
        assert download_bytes(first[key]) == download_bytes(second[key])
    manifests = [json.loads(download_bytes(r["manifest_url"])) for r in (first, second)]
    assert manifests[0]["outputs"]["test"]["ids_sha256"] == manifests[1]["outputs"]["test"]["ids_sha256"]
    assert manifests[0]["input"]["sha256"] != manifests[1]["input"]["sha256"]  # different files, same data


def test_another_seed_gives_another_split(store, delivered):
    url, _, _ = delivered
    first, second = run(store, url, "seed-0"), run(store, url, "seed-1", split_seed=1)
    assert download_bytes(first["test_url"]) != download_bytes(second["test_url"])
    assert first["rows"] == second["rows"]


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
    later = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert run(store, url, "run-1", now=lambda: later) == first
    assert store.etags()[f"{store.containers.archive}/runs/run-1/manifest.json"] == manifest_etag


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_broken_file_is_rejected_and_nothing_else_is_written(case, store, columns):
    data = case.build(valid_frame(columns, 40))
    url = store.put("train.csv", data)
    with pytest.raises(ContractViolation) as caught:
        run(store, url, "run-bad")
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
