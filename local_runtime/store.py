"""Durable state of the local runtime in one SQLite file: the deployed factory, trigger state and progress,
the storage event log the Event Grid stand-in appends to, seen blob versions, pipeline runs, activity runs
and Azure ML stand-in jobs. WAL mode so the services, the CLI and the tests read while one writes."""
from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS deployments (
    factory TEXT PRIMARY KEY, deployed_at TEXT NOT NULL, template_sha256 TEXT NOT NULL, parameters TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    factory TEXT NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (factory, folder, name));
CREATE TABLE IF NOT EXISTS trigger_state (
    factory TEXT NOT NULL, name TEXT NOT NULL, runtime_state TEXT NOT NULL, started_at TEXT,
    PRIMARY KEY (factory, name));
CREATE TABLE IF NOT EXISTS blob_events (
    factory TEXT NOT NULL, trigger TEXT NOT NULL, blob_path TEXT NOT NULL, etag TEXT NOT NULL,
    event_time TEXT NOT NULL, run_id TEXT, PRIMARY KEY (factory, trigger, blob_path, etag));
CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id TEXT PRIMARY KEY, factory TEXT NOT NULL, pipeline TEXT NOT NULL, status TEXT NOT NULL,
    parameters TEXT NOT NULL, invoked_by TEXT NOT NULL, trigger TEXT, queued_at TEXT NOT NULL,
    run_start TEXT, run_end TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS activity_runs (
    activity_run_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, start TEXT NOT NULL, end TEXT, input TEXT, output TEXT, error TEXT, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS activity_runs_by_run ON activity_runs (run_id, seq);
CREATE TABLE IF NOT EXISTS storage_events (
    seq INTEGER PRIMARY KEY, account TEXT NOT NULL, event_type TEXT NOT NULL, event_time TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS storage_events_by_time ON storage_events (event_time);
CREATE TABLE IF NOT EXISTS trigger_progress (
    factory TEXT NOT NULL, trigger TEXT NOT NULL, started_at TEXT NOT NULL, event_seq INTEGER NOT NULL,
    last_scheduled TEXT, PRIMARY KEY (factory, trigger));
CREATE TABLE IF NOT EXISTS ml_jobs (
    name TEXT PRIMARY KEY, endpoint TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
    created_at TEXT NOT NULL, start TEXT, end TEXT, outputs TEXT, error TEXT);
"""


# Columns added after the first release: (table, column, type). Added in place to existing databases.
MIGRATIONS = [
    ("pipeline_runs", "parent_run_id", "TEXT"),     # set for runs started by an ExecutePipeline activity
    ("pipeline_runs", "rerun_of", "TEXT"),
    ("pipeline_runs", "rerun_mode", "TEXT"),        # 'full' or 'from_failed'
    ("pipeline_runs", "return_value", "TEXT"),      # the pipelineReturnValue system variable, JSON
    ("activity_runs", "parent", "TEXT"),            # activity run id of the enclosing container activity
]
RUNNING = ("InProgress", "Canceling")
TERMINAL = ("Succeeded", "Failed", "Cancelled")


def utcnow() -> str:
    """ADF's timestamp shape: ISO 8601 UTC with 7 fractional digits."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.executescript(SCHEMA)
            for table, column, type_ in MIGRATIONS:
                if column not in {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}:
                    try:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {type_}")
                    except sqlite3.OperationalError as exc:  # another process added it first
                        if "duplicate column" not in str(exc):
                            raise

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # --- deployed factory -------------------------------------------------------------------------
    def factories(self) -> list[str]:
        with self.connect() as db:
            return [r["factory"] for r in db.execute("SELECT factory FROM deployments ORDER BY deployed_at")]

    def objects(self, factory: str, folder: str | None = None) -> dict[tuple[str, str], dict]:
        query, args = "SELECT folder, name, body FROM objects WHERE factory=?", [factory]
        if folder:
            query, args = query + " AND folder=?", args + [folder]
        with self.connect() as db:
            return {(r["folder"], r["name"]): json.loads(r["body"]) for r in db.execute(query, args)}

    def get_object(self, factory: str, folder: str, name: str) -> dict | None:
        return self.objects(factory, folder).get((folder, name))

    def trigger_states(self, factory: str) -> dict[str, dict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM trigger_state WHERE factory=?", [factory])
            return {r["name"]: dict(r) for r in rows}

    # --- storage event log (appended by the Event Grid stand-in) and trigger progress ----------------
    def append_storage_event(self, event: dict) -> dict:
        """Append an Event Grid blob event. A new event's `data.sequencer` is its log position (32 hex digits,
        so string order is log order); a redelivered one keeps its own. Returns the event as stored."""
        return self.append_storage_events([event])[0]

    def append_storage_events(self, events: list[dict]) -> list[dict]:
        """Append several events in one transaction (see append_storage_event)."""
        stored = []
        with self.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM storage_events").fetchone()[0]
            for event in events:
                seq += 1
                if not event["data"].get("sequencer"):
                    event = {**event, "data": {**event["data"], "sequencer": f"{seq:032X}"}}
                account = event["topic"].rstrip("/").rsplit("/", 1)[-1]
                db.execute("INSERT INTO storage_events (seq, account, event_type, event_time, body) VALUES (?,?,?,?,?)",
                           [seq, account, event["eventType"], event["eventTime"], json.dumps(event)])
                stored.append(event)
        return stored

    def storage_events_after(self, seq: int, limit: int = 1000) -> list[tuple[int, dict]]:
        """The next events of the log after position `seq`, oldest first: (position, event)."""
        with self.connect() as db:
            rows = db.execute("SELECT seq, body FROM storage_events WHERE seq > ? ORDER BY seq LIMIT ?",
                              [seq, limit]).fetchall()
        return [(r["seq"], json.loads(r["body"])) for r in rows]

    def trigger_progress(self, factory: str, trigger: str, started_at: str) -> dict:
        """How far a trigger has got since it was started at `started_at`. A trigger (re)started since its
        progress was recorded begins at the first event logged after its start: what arrived while it was
        stopped is not its business."""
        query = "SELECT * FROM trigger_progress WHERE factory=? AND trigger=?"
        with self.connect() as db:  # the common case reads only: no write lock on every poll
            row = db.execute(query, [factory, trigger]).fetchone()
        if row is not None and row["started_at"] == started_at:
            return dict(row)
        with self.transaction() as db:
            row = db.execute(query, [factory, trigger]).fetchone()
            if row is not None and row["started_at"] == started_at:
                return dict(row)
            # Just before the first event stamped at or after the start (not the last one stamped before it:
            # concurrent writers may commit slightly out of time order, and a missed event is worse).
            seq = db.execute("SELECT COALESCE((SELECT MIN(seq) - 1 FROM storage_events WHERE event_time >= ?),"
                             " (SELECT MAX(seq) FROM storage_events), 0)", [started_at]).fetchone()[0]
            db.execute("INSERT OR REPLACE INTO trigger_progress (factory, trigger, started_at, event_seq, last_scheduled)"
                       " VALUES (?,?,?,?,NULL)", [factory, trigger, started_at, seq])
            return {"factory": factory, "trigger": trigger, "started_at": started_at, "event_seq": seq,
                    "last_scheduled": None}

    def advance_event_cursors(self, cursors: list[tuple[str, str, str, int]]) -> None:
        """Move cursors ((factory, trigger, started_at, seq)) forward in one transaction: forward only (two
        pollers may race), and only within the same start."""
        if cursors:
            with self.transaction() as db:
                db.executemany("UPDATE trigger_progress SET event_seq=MAX(event_seq, ?4) WHERE factory=?1 AND "
                               "trigger=?2 AND started_at=?3", cursors)

    def prune_storage_events(self, up_to_seq: int | None, older_than: str) -> int:
        """Delete events every started trigger has read (seq <= up_to_seq; None: no trigger needs any) and that
        are older than `older_than`; returns how many went. A later start reads only events after it. The newest
        event always stays: positions continue from it (MAX(seq) + 1), so cursors never see a reused number."""
        with self.transaction() as db:
            cur = db.execute("DELETE FROM storage_events WHERE seq <= ? AND event_time < ? AND "
                             "seq < (SELECT MAX(seq) FROM storage_events)",
                             [up_to_seq if up_to_seq is not None else 2**62, older_than])
            return cur.rowcount

    @staticmethod
    def mark_scheduled(db: sqlite3.Connection, factory: str, trigger: str, started_at: str, scheduled: str) -> bool:
        """Record that the occurrence `scheduled` fired; False if it (or a later one) already had."""
        cur = db.execute("UPDATE trigger_progress SET last_scheduled=? WHERE factory=? AND trigger=? AND started_at=? "
                         "AND (last_scheduled IS NULL OR last_scheduled < ?)",
                         [scheduled, factory, trigger, started_at, scheduled])
        return cur.rowcount == 1

    @staticmethod
    def record_blob_version(db: sqlite3.Connection, factory: str, trigger: str, blob_path: str, version: str,
                            event_time: str) -> bool:
        """Claim a blob version for a trigger; False if it was claimed before (a duplicate event)."""
        cur = db.execute("INSERT OR IGNORE INTO blob_events (factory, trigger, blob_path, etag, event_time) "
                         "VALUES (?,?,?,?,?)", [factory, trigger, blob_path, version, event_time])
        return cur.rowcount == 1

    def blob_versions(self, factory: str, trigger: str) -> set[tuple[str, str]]:
        with self.connect() as db:
            rows = db.execute("SELECT blob_path, etag FROM blob_events WHERE factory=? AND trigger=?", [factory, trigger])
            return {(r["blob_path"], r["etag"]) for r in rows}

    # --- runs -------------------------------------------------------------------------------------
    def queue_run(self, db: sqlite3.Connection, factory: str, pipeline: str, parameters: dict,
                  invoked_by: str, trigger: dict | None = None, *, parent_run_id: str | None = None,
                  rerun_of: str | None = None, rerun_mode: str | None = None) -> str:
        run_id = str(uuid.uuid4())
        db.execute("INSERT INTO pipeline_runs (run_id, factory, pipeline, status, parameters, invoked_by, trigger,"
                   " queued_at, parent_run_id, rerun_of, rerun_mode) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   [run_id, factory, pipeline, "Queued", json.dumps(parameters), invoked_by,
                    json.dumps(trigger) if trigger else None, utcnow(), parent_run_id, rerun_of, rerun_mode])
        return run_id

    @staticmethod
    def _has_slot(db: sqlite3.Connection, factory: str, pipeline: str) -> bool:
        """The pipeline's `concurrency` property: at most that many runs in progress; the rest stay Queued."""
        row = db.execute("SELECT body FROM objects WHERE factory=? AND folder='pipeline' AND name=?",
                         [factory, pipeline]).fetchone()
        limit = json.loads(row["body"]).get("properties", {}).get("concurrency") if row else None
        if not limit:
            return True
        running = db.execute(f"SELECT COUNT(*) FROM pipeline_runs WHERE factory=? AND pipeline=? AND status IN "
                             f"({','.join('?' * len(RUNNING))})", [factory, pipeline, *RUNNING]).fetchone()[0]
        return running < int(limit)

    def _claim(self, db: sqlite3.Connection, run_id: str) -> None:
        db.execute("UPDATE pipeline_runs SET status='InProgress', run_start=? WHERE run_id=?", [utcnow(), run_id])

    def claim_next_run(self) -> dict | None:
        """The oldest queued run whose pipeline has a free concurrency slot. Runs started by an ExecutePipeline
        activity are left to that activity (it executes them itself, see `claim_run`)."""
        with self.transaction() as db:
            rows = db.execute("SELECT run_id, factory, pipeline FROM pipeline_runs WHERE status='Queued' AND "
                              "parent_run_id IS NULL ORDER BY queued_at").fetchall()
            row = next((r for r in rows if self._has_slot(db, r["factory"], r["pipeline"])), None)
            if row is None:
                return None
            self._claim(db, row["run_id"])
        return self.run(row["run_id"])

    def claim_run(self, run_id: str) -> dict | None:
        """Claim one queued run if its pipeline has a free concurrency slot; None while it must keep waiting."""
        with self.transaction() as db:
            row = db.execute("SELECT factory, pipeline FROM pipeline_runs WHERE run_id=? AND status='Queued'",
                             [run_id]).fetchone()
            if row is None or not self._has_slot(db, row["factory"], row["pipeline"]):
                return None
            self._claim(db, run_id)
        return self.run(run_id)

    def request_cancel(self, run_id: str) -> str | None:
        """A queued run is Cancelled at once; a running one becomes Canceling and its executor finishes it as
        Cancelled. Returns the status after the request (None for an unknown run)."""
        with self.transaction() as db:
            row = db.execute("SELECT status FROM pipeline_runs WHERE run_id=?", [run_id]).fetchone()
            if row is None:
                return None
            if row["status"] == "Queued":
                db.execute("UPDATE pipeline_runs SET status='Cancelled', run_end=?, message=? WHERE run_id=?",
                           [utcnow(), "cancelled before it started", run_id])
                return "Cancelled"
            if row["status"] == "InProgress":
                db.execute("UPDATE pipeline_runs SET status='Canceling' WHERE run_id=?", [run_id])
                return "Canceling"
            return row["status"]

    def child_runs(self, run_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT run_id FROM pipeline_runs WHERE parent_run_id=? ORDER BY queued_at",
                              [run_id]).fetchall()
        return [self.run(r["run_id"]) for r in rows]

    def set_return_value(self, run_id: str, value: dict) -> None:
        with self.connect() as db:
            db.execute("UPDATE pipeline_runs SET return_value=? WHERE run_id=?", [json.dumps(value), run_id])

    def finish_run(self, run_id: str, status: str, message: str | None) -> None:
        with self.connect() as db:
            db.execute("UPDATE pipeline_runs SET status=?, run_end=?, message=? WHERE run_id=?",
                       [status, utcnow(), message, run_id])

    def fail_interrupted_runs(self) -> int:
        """Runs left InProgress by a stopped runtime cannot resume: mark them Failed, say how to rerun."""
        with self.connect() as db:
            cur = db.execute("UPDATE pipeline_runs SET status='Failed', run_end=?, message=? WHERE status='InProgress'",
                             [utcnow(), "the local runtime stopped during this run; start it again with "
                                         "`python -m local_runtime run`"])
            db.execute("UPDATE pipeline_runs SET status='Cancelled', run_end=? WHERE status='Canceling'", [utcnow()])
            # A queued child run belongs to an ExecutePipeline activity that no longer exists.
            db.execute("UPDATE pipeline_runs SET status='Failed', run_end=?, message=? WHERE status='Queued' AND "
                       "parent_run_id IS NOT NULL",
                       [utcnow(), "the local runtime stopped before this child run started"])
            db.execute("UPDATE activity_runs SET status='Failed', end=?, error=? WHERE status='InProgress'",
                       [utcnow(), json.dumps({"message": "the local runtime stopped during this activity"})])
            db.execute("UPDATE ml_jobs SET status='Failed', end=?, error=? WHERE status IN ('Queued','Running')",
                       [utcnow(), "the local runtime stopped during this job"])
            return cur.rowcount

    def run(self, run_id: str) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM pipeline_runs WHERE run_id=?", [run_id]).fetchone()
        if row is None:
            return None
        run = dict(row)
        for key in ("parameters", "trigger", "return_value"):
            run[key] = _loads(run[key])
        return run

    def runs(self, limit: int = 20) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT run_id FROM pipeline_runs ORDER BY queued_at DESC LIMIT ?", [limit]).fetchall()
        return [self.run(r["run_id"]) for r in rows]

    def start_activity(self, run_id: str, name: str, type_: str, input_: Any, parent: str | None = None) -> str:
        """Record an activity run; `parent` is the activity run id of its container (ForEach, If, ...)."""
        activity_run_id = str(uuid.uuid4())
        with self.transaction() as db:  # branches start in parallel: count and insert atomically
            seq = db.execute("SELECT COUNT(*) FROM activity_runs WHERE run_id=?", [run_id]).fetchone()[0]
            db.execute("INSERT INTO activity_runs (activity_run_id, run_id, name, type, status, start, input, seq,"
                       " parent) VALUES (?,?,?,?,?,?,?,?,?)",
                       [activity_run_id, run_id, name, type_, "InProgress", utcnow(), json.dumps(input_, default=str),
                        seq, parent])
        return activity_run_id

    def set_activity_input(self, activity_run_id: str, input_: Any) -> None:
        with self.connect() as db:
            db.execute("UPDATE activity_runs SET input=? WHERE activity_run_id=?",
                       [json.dumps(input_, default=str), activity_run_id])

    def finish_activity(self, activity_run_id: str, status: str, output: Any = None, error: dict | None = None) -> None:
        with self.connect() as db:
            db.execute("UPDATE activity_runs SET status=?, end=?, output=?, error=? WHERE activity_run_id=?",
                       [status, utcnow(), json.dumps(output, default=str), json.dumps(error) if error else None,
                        activity_run_id])

    def activity_runs(self, run_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM activity_runs WHERE run_id=? ORDER BY seq", [run_id]).fetchall()
        out = []
        for row in rows:
            item = dict(row)
            for key in ("input", "output", "error"):
                item[key] = _loads(item[key])
            out.append(item)
        return out

    # --- Azure ML stand-in jobs -------------------------------------------------------------------
    def save_job(self, job: dict) -> None:
        with self.connect() as db:
            db.execute("INSERT OR REPLACE INTO ml_jobs (name, endpoint, status, request, created_at, start, end, outputs,"
                       " error) VALUES (:name, :endpoint, :status, :request, :created_at, :start, :end, :outputs, :error)",
                       {**job, "request": json.dumps(job["request"]), "outputs": json.dumps(job.get("outputs"))})

    def job(self, name: str) -> dict | None:
        with self.connect() as db:
            row = db.execute("SELECT * FROM ml_jobs WHERE name=?", [name]).fetchone()
        if row is None:
            return None
        job = dict(row)
        job["request"], job["outputs"] = _loads(job["request"]), _loads(job["outputs"])
        return job
