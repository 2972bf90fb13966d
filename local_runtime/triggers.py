"""Triggers, locally: BlobEventsTrigger fed by the Event Grid stand-in's event log, and ScheduleTrigger.

A blob trigger reads the storage events logged since its cursor (so its cost is O(new events), however many
blobs the container holds) and starts one run per matching event. Event Grid delivers at least once and
sends duplicates, so a blob version (path + etag; a delete's own sequencer) is recorded with the run it
started, in one transaction: a duplicate or a replay starts nothing. Once per runtime start, `reconcile`
lists the trigger's containers for blobs created since the trigger started that no event reported (written
around the stand-in); that listing is the only O(container) work. A stopped trigger ignores what arrives
while it is stopped: its cursor restarts at its next start.

A schedule trigger fires its occurrences (local_runtime.schedule). After downtime it fires only the latest
missed occurrence, once, and skips the older ones: a runtime that was down for a day does not start 1,440
runs of a per-minute trigger when it comes back. ADF does not backfill schedule triggers either (a start
time in the past runs from the next occurrence); backfilling is what tumbling window triggers are for.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import ResourceNotFoundError

from local_runtime.deploy import storage_account_url
from local_runtime.errors import NotDeployedError, RuntimeErrorBase
from local_runtime.eventgrid.events import BLOB_CREATED, BLOB_DELETED, EventBlob, event_blob
from local_runtime.expressions import ExpressionContext, evaluate_value
from local_runtime.schedule import format_time, latest_occurrence, next_occurrences, parse_recurrence
from local_runtime.settings import Settings
from local_runtime.store import Store, utcnow
from storage import container_client, service_client

log = logging.getLogger("local_runtime.triggers")
EVENT_BATCH = 1000
# Consumed storage events are kept this long (Event Grid's default event time-to-live is 24 hours), then pruned
# at most once per PRUNE_EVERY, so the log grows with the recent traffic, not with the runtime's age.
EVENT_RETENTION = timedelta(hours=24)
PRUNE_EVERY = timedelta(minutes=10)
_last_prune: dict[str, datetime] = {}
_reported: set[tuple] = set()  # problems already logged once, so a broken trigger does not flood the log


def _instant(text: str) -> datetime:
    """A stored timestamp (7 fractional digits, Z) as an aware datetime."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")) \
        .astimezone(UTC)


def blob_version(etag: str) -> str:
    """List and get calls quote etags differently; compare them bare."""
    return etag.strip('"')


# --- filters ---------------------------------------------------------------------------------------------
def _container(tp: dict) -> str | None:
    """The container blobPathBeginsWith (`/<container>/blobs/<prefix>`) names, if it names one."""
    parts = (tp.get("blobPathBeginsWith") or "").split("/")
    return parts[1] if len(parts) > 2 and not parts[0] and parts[1] else None


def _prefix(tp: dict) -> str:
    begins = tp.get("blobPathBeginsWith") or ""
    return begins.split("/blobs/", 1)[1] if "/blobs/" in begins else ""


def path_matches(tp: dict, container: str, name: str) -> bool:
    """ADF filters the event subject's `/<container>/blobs/<name>` with blobPathBeginsWith / blobPathEndsWith."""
    path = EventBlob("", container, name).trigger_path
    return path.startswith(tp.get("blobPathBeginsWith") or "") and path.endswith(tp.get("blobPathEndsWith") or "")


def matches(props: dict, blob_name: str, size: int, container: str | None = None) -> bool:
    """Would a blob (of the container blobPathBeginsWith names, by default) fire this trigger when created?"""
    tp = props["typeProperties"]
    container = container or _container(tp) or ""
    return path_matches(tp, container, blob_name) and not (tp.get("ignoreEmptyBlobs", True) and size == 0)


def event_matches(props: dict, event: dict) -> bool:
    """Does an Event Grid blob event fire this trigger: its type, its account (the scope), its path filters,
    and for BlobCreated ignoreEmptyBlobs?"""
    tp = props["typeProperties"]
    if event.get("eventType") not in tp.get("events", []):
        return False
    blob = event_blob(event)
    if blob.account.lower() != tp.get("scope", "").rstrip("/").rsplit("/", 1)[-1].lower():
        return False
    if not path_matches(tp, blob.container, blob.name):
        return False
    empty = event["eventType"] == BLOB_CREATED and event["data"].get("contentLength") == 0
    return not (empty and tp.get("ignoreEmptyBlobs", True))


# --- firing ----------------------------------------------------------------------------------------------
def _parameters(name: str, props: dict, context: ExpressionContext) -> list[tuple[str, dict]] | None:
    try:
        return [(t["pipelineReference"]["referenceName"], evaluate_value(t.get("parameters", {}), context))
                for t in props.get("pipelines", [])]
    except Exception as exc:  # a broken mapping fails this trigger run, not the runtime
        log.error("trigger %s: cannot evaluate its pipeline parameters (%s); nothing started", name, exc)
        return None


def _fire_blob(store: Store, factory: str, name: str, props: dict, blob: EventBlob, version: str, body: dict) \
        -> str | None:
    context = ExpressionContext(trigger={"name": name, "startTime": utcnow(), "outputs": {"body": body}})
    targets = _parameters(name, props, context)
    if targets is None:
        return None
    path = f"{blob.container}/{blob.name}"
    with store.transaction() as db:
        if not store.record_blob_version(db, factory, name, path, version, body["eventTime"]):
            return None  # a duplicate delivery, or reconciliation and the event both saw this version
        run_ids = [store.queue_run(db, factory, pipeline, parameters, invoked_by="BlobEventsTrigger",
                                   trigger={"name": name, "body": body}) for pipeline, parameters in targets]
        db.execute("UPDATE blob_events SET run_id=? WHERE factory=? AND trigger=? AND blob_path=? AND etag=?",
                   [",".join(run_ids), factory, name, path, version])
    log.info("trigger %s: %s %s -> run(s) %s", name, body["eventType"].rsplit(".", 1)[1], path, ", ".join(run_ids))
    return run_ids[0] if run_ids else None


def _body(blob: EventBlob, event_type: str, etag: str | None, size: int | None, event_time: str, url: str) -> dict:
    """What `@triggerBody()` holds for a storage event."""
    return {"folderPath": blob.folder_path, "fileName": blob.file_name, "eventType": event_type, "url": url,
            "etag": etag, "contentLength": size, "eventTime": event_time}


def _fire_event(store: Store, factory: str, name: str, props: dict, event: dict) -> str | None:
    blob, data = event_blob(event), event["data"]
    version = f"deleted:{data['sequencer']}" if event["eventType"] == BLOB_DELETED else blob_version(data["eTag"])
    body = _body(blob, event["eventType"], data.get("eTag"), data.get("contentLength"), event["eventTime"],
                 data.get("url"))
    return _fire_blob(store, factory, name, props, blob, version, body)


def _started(store: Store, type_: str | None = None) -> Iterator[tuple[str, str, dict, dict]]:
    for factory in store.factories():
        states = store.trigger_states(factory)
        for (_, name), body in store.objects(factory, "trigger").items():
            state, props = states.get(name), body["properties"]
            if state and state["runtime_state"] == "Started" and type_ in (None, props.get("type")):
                yield factory, name, props, state


def _consume_events(store: Store, factory: str, name: str, props: dict, state: dict) -> tuple[list[str], int]:
    """Read the event log from the trigger's cursor to its end; returns the run ids it queued and the new
    cursor. Saving the cursor is the caller's (once per poll, after firing, so it adds nothing to detection);
    losing it is harmless: a re-read event is deduplicated."""
    cursor = store.trigger_progress(factory, name, state["started_at"])["event_seq"]
    queued = []
    while True:
        batch = store.storage_events_after(cursor, EVENT_BATCH)
        for _, event in batch:
            if event_matches(props, event):
                run_id = _fire_event(store, factory, name, props, event)
                if run_id:
                    queued.append(run_id)
        cursor = batch[-1][0] if batch else cursor
        if len(batch) < EVENT_BATCH:
            return queued, cursor


def _poll_schedule(store: Store, factory: str, name: str, props: dict, state: dict, now: datetime) -> str | None:
    recurrence = parse_recurrence(props.get("typeProperties", {}).get("recurrence"))
    progress = store.trigger_progress(factory, name, state["started_at"])
    after = _instant(progress["last_scheduled"] or state["started_at"])
    due = latest_occurrence(recurrence, after, now)
    if due is None:
        return None
    first = next_occurrences(recurrence, after, 1)
    if first and first[0] < due:
        log.warning("trigger %s: skipping the occurrences missed from %s to before %s (the runtime was down); "
                    "firing only the latest", name, format_time(first[0]), format_time(due))
    scheduled, fired = format_time(due), utcnow()
    trigger = {"name": name, "type": "ScheduleTrigger", "scheduledTime": scheduled, "startTime": fired}
    targets = _parameters(name, props, ExpressionContext(trigger={**trigger, "outputs": {"body": {}}}))
    if targets is None:
        return None
    with store.transaction() as db:
        if not store.mark_scheduled(db, factory, name, state["started_at"], scheduled):
            return None  # another poller fired it
        run_ids = [store.queue_run(db, factory, pipeline, parameters, invoked_by="ScheduleTrigger",
                                   trigger={**trigger, "body": {}}) for pipeline, parameters in targets]
    log.info("trigger %s: occurrence %s -> run(s) %s", name, scheduled, ", ".join(run_ids))
    return run_ids[0] if run_ids else None


def poll_once(store: Store, settings: Settings, now: datetime | None = None) -> list[str]:
    """One pass over every started trigger; returns the run ids it queued. Reads SQLite only."""
    now = now or datetime.now(UTC)
    queued: list[str] = []
    cursors = []
    for factory, name, props, state in _started(store):
        try:
            if props.get("type") == "BlobEventsTrigger":
                fired, cursor = _consume_events(store, factory, name, props, state)
                queued += fired
                cursors.append((factory, name, state["started_at"], cursor))
            elif props.get("type") == "ScheduleTrigger":
                run_id = _poll_schedule(store, factory, name, props, state, now)
                queued += [run_id] if run_id else []
            elif (factory, name, props.get("type")) not in _reported:
                _reported.add((factory, name, props.get("type")))
                log.warning("trigger %s: type %s does not run locally (BlobEventsTrigger and ScheduleTrigger do)",
                            name, props.get("type"))
        except Exception as exc:  # one broken trigger (or event) must not stop the others; retried next poll
            if (factory, name, state["started_at"], str(exc)) not in _reported:
                _reported.add((factory, name, state["started_at"], str(exc)))
                log.error("trigger %s: %s", name, exc, exc_info=not isinstance(exc, RuntimeErrorBase))
    store.advance_event_cursors(cursors)
    prune_events(store, now)
    return queued


def prune_events(store: Store, now: datetime, *, force: bool = False) -> int:
    """Drop storage events that every started blob trigger has read and that are older than EVENT_RETENTION."""
    if not force and now - _last_prune.get(str(store.path), datetime.min.replace(tzinfo=UTC)) < PRUNE_EVERY:
        return 0
    _last_prune[str(store.path)] = now
    cursors = [store.trigger_progress(factory, name, state["started_at"])["event_seq"]
               for factory, name, _, state in _started(store, "BlobEventsTrigger")]
    pruned = store.prune_storage_events(min(cursors) if cursors else None, format_time(now - EVENT_RETENTION))
    if pruned:
        log.info("pruned %d storage event(s) read by every blob trigger and older than %s", pruned, EVENT_RETENTION)
    return pruned


# --- reconciliation at runtime start ---------------------------------------------------------------------
def reconcile(store: Store, settings: Settings) -> list[str]:
    """Fire the blobs created since each started BlobCreated trigger started that no event reported (written
    straight to Azurite, or while the stand-in was down). Lists the trigger's containers: run it once per
    runtime start, not per poll."""
    queued = []
    for factory, name, props, state in _started(store, "BlobEventsTrigger"):
        tp = props["typeProperties"]
        if BLOB_CREATED not in tp.get("events", []):
            continue
        account_url = storage_account_url(settings, tp["scope"])
        account = tp["scope"].rstrip("/").rsplit("/", 1)[-1]
        started = _instant(state["started_at"]).replace(microsecond=0)  # storage keeps whole seconds
        seen = store.blob_versions(factory, name)
        containers = [_container(tp)] if _container(tp) else [c.name for c in service_client(account_url).list_containers()]
        for container in containers:
            try:
                blobs = list(container_client(account_url, container).list_blobs(name_starts_with=_prefix(tp) or None))
            except ResourceNotFoundError:  # no container, no blob to miss
                continue
            for blob in blobs:
                version = blob_version(blob.etag)
                if blob.last_modified < started or (f"{container}/{blob.name}", version) in seen \
                        or not matches(props, blob.name, blob.size, container):
                    continue
                where = EventBlob(account, container, blob.name)
                body = _body(where, BLOB_CREATED, blob.etag, blob.size, blob.last_modified.isoformat(),
                             f"{account_url}/{container}/{blob.name}")
                run_id = _fire_blob(store, factory, name, props, where, version, body)
                if run_id:
                    log.info("trigger %s: %s/%s had no event; reconciliation started run %s", name, container,
                             blob.name, run_id)
                    queued.append(run_id)
    return queued


def watch(store: Store, settings: Settings, stop: threading.Event) -> None:
    """The service's trigger loop: reconcile once (retried until storage answers), then poll the event log
    and the schedules every `poll_seconds`."""
    reconciled, failures = False, 0
    while not stop.is_set():
        if not reconciled:
            try:
                reconcile(store, settings)
                reconciled = True
            except Exception as exc:  # storage not up yet: events still flow, reconciliation retries next pass
                failures += 1
                log.log(logging.WARNING if failures == 1 else logging.DEBUG,
                        "trigger reconciliation failed (%s); retrying every poll", exc)
        try:
            poll_once(store, settings)
        except Exception:
            log.exception("trigger poll failed")
        stop.wait(settings.poll_seconds)


# --- start / stop ----------------------------------------------------------------------------------------
def _trigger(store: Store, factory: str | None, name: str) -> tuple[str, dict]:
    from local_runtime.runs import deployed_factory

    factory = deployed_factory(store, factory)
    body = store.get_object(factory, "trigger", name)
    if body is None:
        known = sorted(n for _, n in store.objects(factory, "trigger"))
        raise NotDeployedError(f"trigger {name!r} is not deployed in {factory} (triggers: {', '.join(known) or 'none'})")
    return factory, body["properties"]


def start_trigger(store: Store, factory: str | None, name: str) -> dict:
    """Start a trigger (Start-AzDataFactoryV2Trigger): it reacts to what happens from now on. Starting a
    started trigger changes nothing. Returns its state."""
    factory, props = _trigger(store, factory, name)
    if props.get("type") == "ScheduleTrigger":
        parse_recurrence(props.get("typeProperties", {}).get("recurrence"))  # refuse to start a broken one
    state = store.trigger_states(factory).get(name)
    if not state or state["runtime_state"] != "Started":
        with store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO trigger_state (factory, name, runtime_state, started_at) VALUES "
                       "(?,?,'Started',?)", [factory, name, utcnow()])
    return store.trigger_states(factory)[name]


def stop_trigger(store: Store, factory: str | None, name: str) -> dict:
    """Stop a trigger: events that arrived while it was started still fire (delivered now), later ones never
    will. Returns its state."""
    factory, props = _trigger(store, factory, name)
    state = store.trigger_states(factory).get(name)
    if state and state["runtime_state"] == "Started" and props.get("type") == "BlobEventsTrigger":
        _consume_events(store, factory, name, props, state)  # its cursor restarts at the next start anyway
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO trigger_state (factory, name, runtime_state, started_at) VALUES "
                   "(?,?,'Stopped',?)", [factory, name, state["started_at"] if state else None])
    return store.trigger_states(factory)[name]
