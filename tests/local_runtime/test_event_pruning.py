"""The storage event log is pruned: events every started blob trigger has read, once older than the retention."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from local_runtime import triggers
from local_runtime.schedule import format_time
from local_runtime.store import Store


def event(seq_time: datetime, name: str) -> dict:
    return {"id": name, "eventType": "Microsoft.Storage.BlobCreated", "subject": f"/blobServices/default/containers/"
            f"input/blobs/{name}", "eventTime": format_time(seq_time), "data": {"url": f"http://x/input/{name}"},
            "topic": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1"}


def remaining(store: Store) -> list[int]:
    with store.connect() as db:
        return [row[0] for row in db.execute("SELECT seq FROM storage_events ORDER BY seq")]


def test_only_old_events_below_every_cursor_go(tmp_path, monkeypatch):
    store = Store(tmp_path / "runtime.db")
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    old, recent = now - timedelta(days=2), now - timedelta(hours=1)
    store.append_storage_events([event(old, "a.csv"), event(old, "b.csv"), event(old, "c.csv"),
                                 event(recent, "d.csv")])
    # One started blob trigger that has read up to event 2: event 3 is old but unread, event 4 is recent.
    monkeypatch.setattr(triggers, "_started", lambda store, type_=None: iter(
        [("factory", "OnInput", {"type": "BlobEventsTrigger"}, {"started_at": format_time(old)})]))
    store.trigger_progress("factory", "OnInput", format_time(old))
    store.advance_event_cursors([("factory", "OnInput", format_time(old), 2)])
    assert triggers.prune_events(store, now, force=True) == 2
    assert remaining(store) == [3, 4]
    # Without started triggers nothing needs the log: only the retention window stays.
    monkeypatch.setattr(triggers, "_started", lambda store, type_=None: iter([]))
    assert triggers.prune_events(store, now, force=True) == 1
    assert remaining(store) == [4]


def test_pruning_runs_at_most_once_per_interval(tmp_path, monkeypatch):
    store = Store(tmp_path / "runtime.db")
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    monkeypatch.setattr(triggers, "_started", lambda store, type_=None: iter([]))
    store.append_storage_events([event(now - timedelta(days=3), "a.csv"), event(now - timedelta(days=3), "z.csv")])
    assert triggers.prune_events(store, now) == 1
    store.append_storage_events([event(now - timedelta(days=3), "b.csv")])
    assert triggers.prune_events(store, now + timedelta(minutes=1)) == 0  # too soon
    assert triggers.prune_events(store, now + triggers.PRUNE_EVERY) == 1


def test_positions_never_restart_after_pruning(tmp_path, monkeypatch):
    store = Store(tmp_path / "runtime.db")
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    monkeypatch.setattr(triggers, "_started", lambda store, type_=None: iter([]))
    store.append_storage_events([event(now - timedelta(days=3), f"{n}.csv") for n in range(3)])
    assert triggers.prune_events(store, now, force=True) == 2  # the newest stays as the high-water mark
    store.append_storage_events([event(now, "new.csv")])
    assert remaining(store) == [3, 4]
