"""`make smoke ENV=local|dev|qa|prod`: the Invoke-ADFPipeline equivalent. Start the deployed pipeline with
parameters, poll through Queued and InProgress until it ends or the timeout passes, print the activity runs,
and exit non-zero unless the run Succeeded. Locally through the runtime's store; in Azure through the ADF API
(azure_deploy.runs.smoke)."""
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


def newest_azure_input(target, source) -> tuple[str, dict]:
    """The pipeline the blob trigger starts, with parameters pointing at the newest matching blob in the
    environment's storage account (azure-storage-blob with DefaultAzureCredential)."""
    from local_runtime.triggers import matches

    for (folder, name), body in sorted(source.objects.items()):
        props = body["properties"]
        if folder != "trigger" or props.get("type") != "BlobEventsTrigger":
            continue
        container = props["typeProperties"]["blobPathBeginsWith"].split("/")[1]
        blobs = [b for b in container_client(target.storage_account_url, container).list_blobs()
                 if matches(props, b.name, b.size)]
        if not blobs:
            raise SystemExit(f"the {container!r} container of {target.storage_account_url} has no file for trigger "
                             f"{name}; upload one or pass PARAMS=\"folderPath=... fileName=...\"")
        blob = max(blobs, key=lambda b: b.last_modified)
        folder_path, _, file_name = blob.name.rpartition("/")
        pipeline = props["pipelines"][0]["pipelineReference"]["referenceName"]
        return pipeline, {"folderPath": f"{container}/{folder_path}" if folder_path else container,
                          "fileName": file_name}
    raise SystemExit("the source has no blob trigger to take a pipeline and input from; pass PARAMS=...")


def azure_smoke(env: str, params: dict, timeout: float, credential=None, endpoints=None,
                poll_seconds: float = 15, sleep=time.sleep) -> int:
    from azure_deploy.clients import default_credential
    from azure_deploy.errors import AzureDeployError
    from azure_deploy.factory import FactoryOps
    from azure_deploy.runs import smoke, trigger_pipeline
    from azure_deploy.source import load_source
    from azure_deploy.target import Endpoints, load_target

    try:
        target = load_target(env, endpoints=endpoints or Endpoints.from_environ())
        source = load_source(target)
        pipeline = trigger_pipeline(source)
        if not {"folderPath", "fileName"} <= set(params):
            pipeline, found = newest_azure_input(target, source)
            params = {**found, **params}
        ops = FactoryOps(target, credential or default_credential())
        return smoke(ops, pipeline, params, timeout=timeout, poll_seconds=poll_seconds, sleep=sleep)
    except AzureDeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="local")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (default: 900 local, 3600 Azure)")
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE pipeline parameter")
    args = parser.parse_args(argv)
    if args.env != "local":
        return azure_smoke(args.env, dict(p.split("=", 1) for p in args.param), args.timeout or 3600)
    args.timeout = args.timeout or 900
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
