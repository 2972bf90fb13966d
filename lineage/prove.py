"""`make prove`: re-derive every hash behind a model version from the stored bytes and compare.

Links checked, model version first: the record its tags name; the record chain (sequence numbers, each
record's hash held by its successor); every stored blob (archived input, contract, manifest, train, test:
sha256, size, rows, sorted-id digest); the MLflow model version's tags, run parameters, metrics and dataset
inputs against the record; the model artifact; the notebook at the recorded commit; and with
`reproduce=True` a re-run of the prep whose outputs must be byte-identical. Every check runs even after a
failure, so one report names every broken link with both hashes.
"""
from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from azure.core.exceptions import ResourceNotFoundError

from dataprep.manifest import REPO_ROOT, ids_sha256
from lineage.chain import Chain, ChainError, archive_root
from lineage.record import parse_record
from lineage.resolve import Anchored
from storage.blobs import download_bytes
from training.register import DIGEST_LENGTH

MODEL_FILE = "model.lgb"  # what mlflow.lightgbm writes; its sha256 is the record's model.sha256


@dataclass(frozen=True)
class Check:
    link: str
    ok: bool | None  # None: could not be checked here (said why); not a failure
    detail: str

    def line(self) -> str:
        mark = {True: "PASS", False: "FAIL", None: "SKIP"}[self.ok]
        return f"  {mark}  {self.link:<34} {self.detail}"


def _hash_check(link: str, expected: str | None, actual: str | None, what: str = "sha256",
                source: str = "the record") -> Check:
    if actual == expected:
        return Check(link, True, f"{what} {actual}")
    return Check(link, False, f"{what} mismatch: {source} says {expected}, the stored bytes give {actual}")


def _equal(link: str, expected: object, actual: object, what: str) -> Check:
    if str(expected) == str(actual):
        return Check(link, True, f"{what} {actual}")
    return Check(link, False, f"{what} mismatch: the record says {expected}, found {actual}")


def _download(url: str | None) -> bytes | None:
    try:
        return download_bytes(url) if url else None
    except ResourceNotFoundError:
        return None


def check_record(anchor: Anchored) -> list[Check]:
    name, version = anchor.version.name, anchor.version.version
    model = anchor.record.get("model", {})
    return [
        _hash_check("lineage record", anchor.record_sha256, anchor.stored_sha256,
                    source="the model version's lineage_record_sha256 tag"),
        _equal("record names this model version", f"{name}/{version}", f"{model.get('name')}/{model.get('version')}",
               "model"),
    ]


def check_chain(anchor: Anchored) -> list[Check]:
    """Every record from #1 to the head: canonical, numbered in order, holding its predecessor's hash."""
    try:
        chain = Chain(archive_root(anchor.record["prep"]["manifest_url"]))
        links = chain.links()
    except ChainError as exc:
        return [Check("record chain", False, str(exc))]
    checks, previous = [], None
    for position, link in enumerate(links, start=1):
        where = f"chain record #{link.sequence}"
        if link.sequence != position:
            checks.append(Check(where, False, f"sequence gap: expected #{position} ({chain.record_url(position)})"))
        try:
            record = parse_record(link.data, where=link.url)
        except ValueError as exc:
            checks.append(Check(where, False, str(exc)))
            previous = link
            continue
        expected_previous = previous.sha256 if previous else None
        if record.get("sequence") != link.sequence:
            checks.append(Check(where, False, f"says it is #{record.get('sequence')} but is stored as #{link.sequence}"))
        if record.get("previous_record_sha256") != expected_previous:
            checks.append(Check(where, False, f"previous-record hash mismatch: it holds "
                                f"{record.get('previous_record_sha256')}, record #{previous.sequence if previous else 0} hashes to "
                                f"{expected_previous}"))
        previous = link
    ours = [link for link in links if link.url == anchor.record_url]
    if not ours:
        checks.append(Check("record chain", False, f"{anchor.record_url} is not in the chain"))
    elif ours[0].sha256 != anchor.record_sha256:
        checks.append(Check("record chain", False, f"record #{ours[0].sequence} hashes to {ours[0].sha256}, "
                                                   f"the model version tag says {anchor.record_sha256}"))
    if not checks:  # only failures were collected above
        head = links[-1] if links else None
        checks.append(Check("record chain", True, f"{len(links)} record(s), each holding its predecessor's hash; "
                                                 f"head #{head.sequence if head else 0}"))
    return checks


def _table(data: bytes, url: str):
    return pq.read_table(io.BytesIO(data)) if url.endswith(".parquet") else pacsv.read_csv(io.BytesIO(data))


def check_blobs(record: dict) -> list[Check]:
    checks = []
    source, prep = record["input"], record["prep"]
    stored = _download(source.get("archived_url"))
    if stored is None:
        checks.append(Check("archived input", False, f"{source.get('archived_url')} is missing"))
    else:
        checks.append(_hash_check("archived input", source.get("sha256"), hashlib.sha256(stored).hexdigest()))
        checks.append(_equal("archived input size", source.get("bytes"), len(stored), "bytes"))
    for link, url, expected in (("data-prep manifest", prep.get("manifest_url"), prep.get("manifest_sha256")),
                                ("data contract", prep.get("contract_url"),
                                 prep.get("parameters", {}).get("contract_sha256"))):
        data = _download(url)
        checks.append(Check(link, False, f"{url} is missing") if data is None else
                      _hash_check(link, expected, hashlib.sha256(data).hexdigest()))
    for side, entry in record["outputs"].items():
        data = _download(entry.get("url"))
        if data is None:
            checks.append(Check(f"{side} output", False, f"{entry.get('url')} is missing"))
            continue
        checks.append(_hash_check(f"{side} output", entry.get("sha256"), hashlib.sha256(data).hexdigest()))
        if not checks[-1].ok:
            continue  # other bytes: their rows and ids prove nothing about the recorded ones
        table = _table(data, entry["url"])
        checks.append(_equal(f"{side} rows", entry.get("rows"), table.num_rows, "rows"))
        checks.append(_hash_check(f"{side} ids", entry.get("ids_sha256"),
                                  ids_sha256(table.column("id").to_numpy()), "sorted-id sha256"))
    return checks


def check_mlflow(anchor: Anchored, client, tracking_uri: str) -> list[Check]:
    record, tags = anchor.record, anchor.version.tags
    checks = []
    expected_tags = {
        "pipeline_run_id": record["pipeline_run_id"], "manifest_sha256": record["prep"]["manifest_sha256"],
        "input_sha256": record["input"]["sha256"], "train_sha256": record["outputs"]["train"]["sha256"],
        "test_sha256": record["outputs"]["test"]["sha256"], "model_sha256": record["model"]["sha256"],
        "mlflow_run_id": record["training"]["mlflow_run_id"],
    }
    for key, expected in expected_tags.items():
        checks.append(_equal(f"model version tag {key}", expected, tags.get(key), "tag"))
    run = client.get_run(record["training"]["mlflow_run_id"])
    params = {key: str(value) for key, value in record["training"]["params"].items()}
    differing = sorted(key for key in params.keys() | run.data.params.keys()
                       if params.get(key) != run.data.params.get(key))
    checks.append(Check("training run parameters", not differing,
                        f"{len(params)} parameters agree" if not differing else
                        "differ: " + ", ".join(f"{k} record={params.get(k)!r} run={run.data.params.get(k)!r}"
                                               for k in differing[:5])))
    metrics = record["training"]["metrics"]
    bad = sorted(k for k, v in metrics.items() if run.data.metrics.get(k) != v)
    checks.append(Check("training run metrics", not bad, f"{len(metrics)} metrics agree" if not bad else
                        "differ: " + ", ".join(f"{k} record={metrics[k]} run={run.data.metrics.get(k)}" for k in bad)))
    seen = {}
    for dataset_input in run.inputs.dataset_inputs:
        sha_tags = [t.value for t in dataset_input.tags if t.key == "sha256"]
        seen[dataset_input.dataset.name] = (dataset_input.dataset.digest, sha_tags[0] if sha_tags else None)
    for side in ("train", "test"):
        expected = record["outputs"][side]["sha256"]
        digest, sha = seen.get(side, (None, None))
        checks.append(_equal(f"training run input {side}", f"{expected[:DIGEST_LENGTH]}/{expected}",
                             f"{digest}/{sha}", "digest/sha256"))
    checks.append(check_model_artifact(anchor, tracking_uri))
    return checks


def check_model_artifact(anchor: Anchored, tracking_uri: str) -> Check:
    import mlflow

    name, version = anchor.version.name, anchor.version.version
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(tracking_uri)  # models:/ URIs resolve through the process-wide registry URI
    mlflow.set_registry_uri(tracking_uri)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}",
                                                                  dst_path=tmp))
            except Exception as exc:  # noqa: BLE001 - any failure to fetch is a broken link, reported as such
                return Check("model artifact", False, f"cannot download models:/{name}/{version}: {str(exc)[:200]}")
            path = folder / MODEL_FILE
            if not path.is_file():
                return Check("model artifact", False, f"models:/{name}/{version} has no {MODEL_FILE}")
            return _hash_check("model artifact", anchor.record["model"]["sha256"],
                               hashlib.sha256(path.read_bytes()).hexdigest())
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


def check_code(record: dict) -> list[Check]:
    prep = record["prep"]
    commit, notebook = prep.get("git_commit"), prep.get("notebook")
    if not commit or commit == "unknown" or not notebook:
        return [Check("notebook at recorded commit", None, "no git commit recorded")]
    done = subprocess.run(["git", "-C", str(REPO_ROOT), "show", f"{commit}:{notebook}"], capture_output=True)
    if done.returncode != 0:
        return [Check("notebook at recorded commit", None, f"commit {commit[:12]} is not in this clone")]
    check = _hash_check("notebook at recorded commit", prep.get("notebook_sha256"), hashlib.sha256(done.stdout).hexdigest())
    if not check.ok and prep.get("git_dirty"):
        return [Check(check.link, None, f"the recorded work tree was dirty, so commit {commit[:12]} does not hold the "
                                        "code that ran; the reproduction below is the proof")]
    return [check]


def check_reproduction(record: dict) -> list[Check]:
    from lineage.reproduce import reproduce

    try:
        again = reproduce(record)
    except Exception as exc:  # noqa: BLE001 - reported as the failed link
        return [Check("reproduction", False, str(exc)[:300])]
    checks = [_hash_check(f"reproduced {side}", record["outputs"][side]["sha256"], again.sha256[side])
              for side in ("train", "test")]
    return [*checks, Check("reproduction code", True, again.code)]


def prove(anchor: Anchored, client, tracking_uri: str, *, reproduce: bool = False) -> list[Check]:
    checks = check_record(anchor) + check_chain(anchor) + check_blobs(anchor.record)
    checks += check_mlflow(anchor, client, tracking_uri) + check_code(anchor.record)
    if reproduce:
        checks += check_reproduction(anchor.record)
    return checks
