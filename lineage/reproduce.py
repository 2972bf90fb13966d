"""Re-run a recorded data prep: the archived input, the archived contract, the recorded parameters and the
recorded code (the git commit, exported from this clone), in a child process; return the outputs' sha256s.

The recorded commit is used when this clone has it and the recorded work tree was clean; otherwise the
current work tree runs and the result says so (the byte comparison still decides).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dataprep.manifest import REPO_ROOT
from storage.blobs import download_bytes

# Runs inside the exported code tree: only the data-prep functions of that commit are used.
WORKER = """
import json, pathlib, sys
from dataprep.contract_spec import DataContract
from dataprep.stream import prepare_stream
a = json.loads(sys.argv[1])
contract = DataContract.from_json(pathlib.Path(a["contract"]).read_text())
with open(a["input"], "rb") as f:
    p = prepare_stream(f, contract, seed=a["seed"], test_fraction=a["test_fraction"],
                       out_dir=pathlib.Path(a["out"]), source_name=a["name"])
print(json.dumps({"train": str(p.train_path), "test": str(p.test_path)}))
"""


@dataclass(frozen=True)
class Reproduction:
    code: str  # which code ran, in words
    sha256: dict[str, str]  # train/test -> sha256 of the re-made output


def _export(commit: str, into: Path) -> bool:
    """`git archive <commit>` into `into`; False when this clone does not have the commit."""
    archive = into.parent / "code.tar"
    with open(archive, "wb") as out:
        done = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit], stdout=out,
                              stderr=subprocess.PIPE)
    if done.returncode != 0:
        return False
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return True


def code_tree(prep: dict, scratch: Path) -> tuple[Path, str]:
    commit, dirty = prep.get("git_commit") or "unknown", prep.get("git_dirty")
    if commit != "unknown" and dirty is False:
        tree = scratch / "code"
        tree.mkdir()
        if _export(commit, tree):
            return tree, f"git commit {commit} (recorded)"
        return REPO_ROOT, f"current work tree (recorded commit {commit} is not in this clone)"
    why = "was a dirty checkout" if dirty else "is unknown"
    return REPO_ROOT, f"current work tree (the recorded code {why}: commit {commit})"


def reproduce(record: dict) -> Reproduction:
    prep, parameters = record["prep"], record["prep"]["parameters"]
    with tempfile.TemporaryDirectory(prefix="lineage-reproduce-") as tmp:
        scratch = Path(tmp)
        (scratch / "input.csv").write_bytes(download_bytes(record["input"]["archived_url"]))
        (scratch / "contract.json").write_bytes(download_bytes(prep["contract_url"]))
        tree, code = code_tree(prep, scratch)
        args = {"input": str(scratch / "input.csv"), "contract": str(scratch / "contract.json"),
                "out": str(scratch / "out"), "seed": parameters["split_seed"],
                "test_fraction": parameters["test_fraction"],
                "name": record["input"]["url"].rsplit("/", 1)[-1]}
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(args)], cwd=tree, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"re-running the prep with {code} failed: {tail}")
        paths = json.loads(done.stdout.strip().splitlines()[-1])
        return Reproduction(code, {side: hashlib.sha256(Path(paths[side]).read_bytes()).hexdigest()
                                   for side in ("train", "test")})
