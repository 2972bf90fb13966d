"""`make smoke ENV=local`: the Invoke-ADFPipeline equivalent. Start the deployed pipeline with parameters,
poll through Queued and InProgress until it ends or the timeout passes, print the activity runs, and exit
non-zero unless the run Succeeded."""
from __future__ import annotations

import argparse
import sys
import time

from local_runtime.report import format_run
from local_runtime.runs import deployed_factory, start_run
from local_runtime.settings import load_settings
from local_runtime.store import Store
from storage import container_client

TERMINAL = {"Succeeded", "Failed", "Cancelled"}


def newest_input(store: Store, settings, factory: str) -> tuple[str, dict]:
    """The pipeline a blob trigger starts, and parameters pointing at the newest matching input blob."""
    from local_runtime.deploy import storage_account_url
    from local_runtime.triggers import matches

    for (_, name), body in store.objects(factory, "trigger").items():
        props = body["properties"]
        container = props["typeProperties"]["blobPathBeginsWith"].split("/")[1]
        client = container_client(storage_account_url(settings, props["typeProperties"]["scope"]), container)
        blobs = [b for b in client.list_blobs() if matches(props, b.name, b.size)]
        if not blobs:
            raise SystemExit(f"the {container!r} container has no file for trigger {name}; drop one first "
                             "(`make demo` does) or pass --param folderPath=... --param fileName=...")
        blob = max(blobs, key=lambda b: b.last_modified)
        folder, _, file_name = blob.name.rpartition("/")
        pipeline = props["pipelines"][0]["pipelineReference"]["referenceName"]
        return pipeline, {"folderPath": f"{container}/{folder}" if folder else container, "fileName": file_name}
    raise SystemExit("the deployed factory has no blob trigger to take a pipeline and input from")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="local")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE pipeline parameter")
    args = parser.parse_args(argv)
    if args.env != "local":
        raise SystemExit(f"smoke ENV={args.env}: Azure environments need the Azure deployer (not built yet); "
                         "use ENV=local")
    settings = load_settings()
    store = Store(settings.db_path)
    factory = deployed_factory(store)
    pipeline, params = newest_input(store, settings, factory)
    params.update(dict(p.split("=", 1) for p in args.param))
    run_id = start_run(store, pipeline, params, factory)
    print(f"smoke: started {pipeline} run {run_id} with {params}")
    deadline, last = time.monotonic() + args.timeout, None
    while True:
        run = store.run(run_id)
        if run["status"] != last:
            print(f"  {time.strftime('%H:%M:%S')} {run['status']}", flush=True)
            last = run["status"]
        if run["status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            print(f"smoke: gave up after {args.timeout:.0f}s with the run still {run['status']}", file=sys.stderr)
            print(format_run(run, store.activity_runs(run_id)))
            return 1
        time.sleep(1)
    print(format_run(run, store.activity_runs(run_id)))
    return 0 if run["status"] == "Succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
