"""`make demo`: drop a synthetic file into `input`, wait for the triggered run, then print the run, the
registered model version and its lineage chain (model version -> record -> train/test blobs -> archived
input), each link with its sha256; `make prove` then re-hashes them all."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from local_runtime.report import format_run
from local_runtime.settings import load_settings
from local_runtime.store import Store
from local_runtime.timeline_svg import render as render_timeline
from local_runtime.triggers import blob_version
from ops.deployed import training_job
from storage import container_client, parse_blob_url, upload_bytes

TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def drop_file(settings, path: Path, container: str = "input") -> tuple[str, str]:
    url = f"{settings.azurite_account_url()}/{container}/{path.name}"
    upload_bytes(url, path.read_bytes())
    address = parse_blob_url(url)
    etag = container_client(address.account_url, address.container).get_blob_client(address.path) \
        .get_blob_properties().etag
    return f"{container}/{path.name}", blob_version(etag)


def wait_for_triggered_run(store: Store, blob_path: str, etag: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.connect() as db:
            row = db.execute("SELECT run_id FROM blob_events WHERE blob_path=? AND etag=?", [blob_path, etag]).fetchone()
        if row and row["run_id"]:
            return row["run_id"].split(",")[0]
        time.sleep(0.5)
    raise SystemExit(f"no run was triggered for {blob_path} within {timeout:.0f}s; is the runtime up (`make up`)? "
                     "see .local/logs/runtime.log")


def wait_for_end(store: Store, run_id: str, timeout: float) -> dict:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        run = store.run(run_id)
        if run["status"] != last:
            print(f"  {time.strftime('%H:%M:%S')} run {run_id}: {run['status']}", flush=True)
            last = run["status"]
        if run["status"] in TERMINAL:
            return run
        time.sleep(1)
    raise SystemExit(f"run {run_id} did not finish within {timeout:.0f}s")


def lineage_chain(store: Store, settings, run_id: str) -> str:
    """The trained model version's lineage as `make lineage` prints it, and where its picture was drawn."""
    from lineage.cli import draw_picture
    from lineage.resolve import anchored, client_for
    from lineage.show import text

    job = training_job(store, run_id)
    if not job or job["status"] != "Completed":
        return f"no completed training job for run {run_id}"
    outputs = job["outputs"]
    decision = outputs.get("decision") or {}
    anchor = anchored(client_for(settings.mlflow_tracking_uri), outputs["model_name"], str(outputs["model_version"]))
    picture = draw_picture(anchor, "svg", None, settings.mlflow_tracking_uri)
    return "\n".join([
        f"{'promoted to the production alias' if outputs.get('promoted') else 'not promoted'}: "
        f"{decision.get('reason', 'no decision recorded')}", "", text(anchor), f"lineage picture: {picture}"])


def openlineage_summary(settings, run_id: str) -> str:
    """How many OpenLineage events this run left, and where (the file transport; HTTP goes elsewhere)."""
    import json
    import os

    from generator.spec import load_spec
    from lineage.openlineage import OpenLineageConfig, run_uuid, transport_plan

    plan = transport_plan(OpenLineageConfig.from_spec(load_spec().data), settings.home, os.environ)
    if not plan or plan["type"] != "file":
        return "OpenLineage events: sent to the configured HTTP endpoint"
    path, root = Path(plan["log_file_path"]), run_uuid(run_id)
    events = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    ours = [e for e in events if e["run"]["runId"] == root
            or ((e["run"].get("facets") or {}).get("parent") or {}).get("root", {}).get("run", {}).get("runId") == root]
    kinds = sorted({e["eventType"] for e in ours})
    return f"OpenLineage events: {len(ours)} for this run ({', '.join(kinds)}) in {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    settings = load_settings()
    store = Store(settings.db_path)
    blob_path, etag = drop_file(settings, args.file)
    print(f"demo: dropped {args.file} as {blob_path} (etag {etag}); waiting for the trigger")
    run_id = wait_for_triggered_run(store, blob_path, etag, 60)
    print(f"demo: trigger started run {run_id}")
    run = wait_for_end(store, run_id, args.timeout)
    print()
    print(format_run(run, store.activity_runs(run_id)))
    picture = settings.home / "reports" / f"{run_id}-timeline.svg"
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_text(render_timeline(run, store.activity_runs(run_id)))
    print(f"timeline picture: {picture}")
    print()
    if run["status"] != "Succeeded":
        return 1
    print("lineage chain:")
    print(lineage_chain(store, settings, run_id))
    print(openlineage_summary(settings, run_id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
