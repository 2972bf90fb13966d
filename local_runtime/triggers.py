"""BlobEventsTrigger, locally: poll the trigger's container in Azurite and start one pipeline run per new
blob version that matches the trigger's filters.

Event Grid delivers at least once; here a blob version is (path, etag) and each is recorded with the run it
started in one transaction, so a restart neither re-runs a processed blob nor misses one dropped while the
runtime was down (anything created since the trigger started and not yet recorded fires).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from local_runtime.deploy import storage_account_url
from local_runtime.expressions import ExpressionContext, evaluate_value
from local_runtime.settings import Settings
from local_runtime.store import Store, utcnow
from storage import container_client

log = logging.getLogger("local_runtime.triggers")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


def trigger_body(container: str, blob_name: str, blob) -> dict:
    """What `@triggerBody()` holds for a storage event: folderPath is `<container>/<folder>`, no `/blobs/`."""
    folder, _, file_name = blob_name.rpartition("/")
    return {"folderPath": f"{container}/{folder}" if folder else container, "fileName": file_name,
            "url": blob_name, "etag": blob.etag, "contentLength": blob.size,
            "eventTime": blob.last_modified.isoformat()}


def matches(props: dict, blob_name: str, size: int) -> bool:
    """blobPathBeginsWith is `/<container>/blobs/<prefix>`; blobPathEndsWith a suffix; empty blobs may not fire."""
    tp = props["typeProperties"]
    begins = tp.get("blobPathBeginsWith", "")
    prefix = begins.split("/blobs/", 1)[1] if "/blobs/" in begins else ""
    if not blob_name.startswith(prefix):
        return False
    if tp.get("blobPathEndsWith") and not blob_name.endswith(tp["blobPathEndsWith"]):
        return False
    return not (tp.get("ignoreEmptyBlobs", True) and size == 0)


def poll_once(store: Store, settings: Settings) -> list[str]:
    """One pass over every started blob trigger; returns the run ids it queued."""
    queued = []
    for factory in store.factories():
        states = store.trigger_states(factory)
        for (_, name), body in store.objects(factory, "trigger").items():
            props = body["properties"]
            state = states.get(name)
            if props.get("type") != "BlobEventsTrigger" or not state or state["runtime_state"] != "Started":
                continue
            if "Microsoft.Storage.BlobCreated" not in props["typeProperties"].get("events", []):
                continue
            started = _parse_time(state["started_at"])
            container = props["typeProperties"]["blobPathBeginsWith"].split("/")[1]
            client = container_client(storage_account_url(settings, props["typeProperties"]["scope"]), container)
            for blob in client.list_blobs():
                if blob.last_modified < started.replace(microsecond=0) or not matches(props, blob.name, blob.size):
                    continue
                run_id = _fire(store, factory, name, props, container, blob)
                if run_id:
                    queued.append(run_id)
    return queued


def blob_version(etag: str) -> str:
    """List and get calls quote etags differently; compare them bare."""
    return etag.strip('"')


def _fire(store: Store, factory: str, trigger: str, props: dict, container: str, blob) -> str | None:
    body = trigger_body(container, blob.name, blob)
    etag = blob_version(blob.etag)
    context = ExpressionContext(trigger={"name": trigger, "startTime": utcnow(), "outputs": {"body": body}})
    with store.transaction() as db:
        seen = db.execute("SELECT 1 FROM blob_events WHERE factory=? AND trigger=? AND blob_path=? AND etag=?",
                          [factory, trigger, f"{container}/{blob.name}", etag]).fetchone()
        if seen:
            return None
        run_ids = []
        for target in props.get("pipelines", []):
            parameters = evaluate_value(target.get("parameters", {}), context)
            run_ids.append(store.queue_run(db, factory, target["pipelineReference"]["referenceName"], parameters,
                                           invoked_by="BlobEventsTrigger",
                                           trigger={"name": trigger, "body": body}))
        db.execute("INSERT INTO blob_events (factory, trigger, blob_path, etag, event_time, run_id) VALUES (?,?,?,?,?,?)",
                   [factory, trigger, f"{container}/{blob.name}", etag, utcnow(), ",".join(run_ids)])
    log.info("trigger %s: %s/%s -> run(s) %s", trigger, container, blob.name, ", ".join(run_ids))
    return run_ids[0] if run_ids else None
