"""Durable state of the local runtime in one SQLite file: the deployed factory, trigger state, seen blob
versions, pipeline runs, activity runs and Azure ML stand-in jobs. WAL mode so the service, the CLI and the
tests read while the service writes."""
from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

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
CREATE TABLE IF NOT EXISTS ml_jobs (
    name TEXT PRIMARY KEY, endpoint TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
    created_at TEXT NOT NULL, start TEXT, end TEXT, outputs TEXT, error TEXT);
"""


def utcnow() -> str:
    """ADF's timestamp shape: ISO 8601 UTC with 7 fractional digits."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.executescript(SCHEMA)

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

    # --- runs -------------------------------------------------------------------------------------
    def queue_run(self, db: sqlite3.Connection, factory: str, pipeline: str, parameters: dict,
                  invoked_by: str, trigger: dict | None = None) -> str:
        run_id = str(uuid.uuid4())
        db.execute("INSERT INTO pipeline_runs (run_id, factory, pipeline, status, parameters, invoked_by, trigger,"
                   " queued_at) VALUES (?,?,?,?,?,?,?,?)",
                   [run_id, factory, pipeline, "Queued", json.dumps(parameters), invoked_by,
                    json.dumps(trigger) if trigger else None, utcnow()])
        return run_id

    def claim_next_run(self) -> dict | None:
        with self.transaction() as db:
            row = db.execute("SELECT run_id FROM pipeline_runs WHERE status='Queued' ORDER BY queued_at LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE pipeline_runs SET status='InProgress', run_start=? WHERE run_id=?", [utcnow(), row["run_id"]])
        return self.run(row["run_id"])

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
        run["parameters"], run["trigger"] = _loads(run["parameters"]), _loads(run["trigger"])
        return run

    def runs(self, limit: int = 20) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT run_id FROM pipeline_runs ORDER BY queued_at DESC LIMIT ?", [limit]).fetchall()
        return [self.run(r["run_id"]) for r in rows]

    def start_activity(self, run_id: str, name: str, type_: str, input_: Any) -> str:
        activity_run_id = str(uuid.uuid4())
        with self.connect() as db:
            seq = db.execute("SELECT COUNT(*) FROM activity_runs WHERE run_id=?", [run_id]).fetchone()[0]
            db.execute("INSERT INTO activity_runs (activity_run_id, run_id, name, type, status, start, input, seq)"
                       " VALUES (?,?,?,?,?,?,?,?)",
                       [activity_run_id, run_id, name, type_, "InProgress", utcnow(), json.dumps(input_, default=str), seq])
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
