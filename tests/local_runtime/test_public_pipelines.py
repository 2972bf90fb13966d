"""Public ADF pipelines from Microsoft's documentation, run through the local runtime against a real Azurite.

Each file in public_pipelines/ is one documentation page: the page's pipelines (verbatim where the page gives
JSON, in our own words where it only describes them, with every adaptation said in its `description`), the
linked services and datasets they need, and cases: pipeline parameters, blobs to upload first, and the outcome
the page documents (run status by the leaf rule, activity run statuses, outputs, blobs copied). A case the
runtime does not meet yet carries `xfail` with the reason; a file whose activities the runtime does not have is
skipped, naming the missing activity types.

Strings in a case may hold `{unique}` (a fresh suffix, so containers never collide) and `{http}` (a local
HTTP stub standing in for the pages' web endpoints)."""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local_runtime.activities import RUNNERS
from local_runtime.runs import start_run
from storage import container_client, ensure_containers, upload_bytes
from tests.local_runtime.builders import deploy, environment, execute_run

FIXTURES = Path(__file__).parent / "public_pipelines"
CONTAINER_KEYS = ("activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities")


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def walk(activities: list[dict]):
    """Every activity, containers' bodies included (ForEach, Until, IfCondition, Switch)."""
    for activity in activities or []:
        yield activity
        props = activity.get("typeProperties") or {}
        for key in CONTAINER_KEYS:
            yield from walk(props.get(key))
        for case in props.get("cases") or []:
            yield from walk(case.get("activities"))


def missing_types(fixture: dict) -> list[str]:
    """Activity types the runtime has no runner for (compared without case: a different spelling of a known
    type is the runtime's bug to show, not a reason to skip)."""
    known = {name.lower() for name in RUNNERS}
    found = {a["type"] for p in fixture["pipelines"] for a in walk(p["properties"]["activities"])}
    return sorted(t for t in found if t.lower() not in known)


def cases():
    for path in sorted(FIXTURES.glob("*.json")):
        fixture = load(path)
        for case in fixture["cases"]:
            marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
            yield pytest.param(path.name, case["name"], marks=marks, id=f"{path.stem}: {case['name']}")


def substitute(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace(key, replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, dict):
        return {substitute(k, values): substitute(v, values) for k, v in value.items()}
    return value


def factory_objects(fixture: dict, account_url: str) -> dict[tuple[str, str], dict]:
    """The fixture's objects as a deployment stores them, every blob linked service pointed at Azurite."""
    objects = {}
    for folder, key in (("linkedService", "linkedServices"), ("dataset", "datasets"), ("pipeline", "pipelines")):
        for obj in fixture[key]:
            body = json.loads(json.dumps(obj["properties"]))
            if folder == "linkedService" and body["type"] == "AzureBlobStorage":
                body["typeProperties"]["serviceEndpoint"] = account_url
            objects[(folder, obj["name"])] = {"properties": body}
    return objects


def contains(expected: Any, actual: Any) -> bool:
    """`actual` has everything `expected` has: dict keys recursively, lists item by item, values equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            contains(e, a) for e, a in zip(expected, actual))
    return expected == actual


def blobs_under(account_url: str, prefix: str) -> dict[str, bytes]:
    container, _, folder = prefix.partition("/")
    client = container_client(account_url, container)
    if not client.exists():
        return {}
    return {f"{container}/{b.name}": client.download_blob(b.name).readall()
            for b in client.list_blobs(name_starts_with=folder)}


def by_name(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for record in records:
        out.setdefault(record["name"], []).append(record)
    return out


# --- a stand-in for the pages' web endpoints --------------------------------------------------------------
class Stub(BaseHTTPRequestHandler):
    """GET /fail-once/<key>: 500 the first time for each key, then 200."""
    seen: set[str] = set()
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        with self.lock:
            first = self.path not in self.seen
            self.seen.add(self.path)
        failing = self.path.startswith("/fail-once/") and first
        body = json.dumps({"status": "not yet"} if failing else {"status": "ok"}).encode()
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def http_stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


# --- the tests --------------------------------------------------------------------------------------------
def test_every_fixture_cites_its_documentation_page_and_says_how_it_was_adapted():
    paths = sorted(FIXTURES.glob("*.json"))
    assert len(paths) >= 4
    for path in paths:
        fixture = load(path)
        assert fixture["source"].startswith("https://learn.microsoft.com/azure/data-factory/"), path.name
        assert fixture["description"] and fixture["cases"], path.name
        pipelines = {p["name"] for p in fixture["pipelines"]}
        for case in fixture["cases"]:
            assert case["pipeline"] in pipelines and case["documented"], (path.name, case["name"])


@pytest.mark.parametrize("file, name", list(cases()))
def test_public_pipeline_ends_as_documented(file, name, tmp_path, azurite, http_stub):
    fixture = load(FIXTURES / file)
    missing = missing_types(fixture)
    if missing:
        pytest.skip(f"activity type {', '.join(missing)} is not supported by the local runtime "
                    f"(supported: {', '.join(sorted(RUNNERS))})")
    case = substitute(next(c for c in fixture["cases"] if c["name"] == name),
                      {"{unique}": uuid.uuid4().hex[:10], "{http}": http_stub})
    settings, store = environment(tmp_path)
    deploy(store, factory_objects(fixture, azurite))
    for path, text in case.get("blobs", {}).items():
        ensure_containers(azurite, [path.split("/", 1)[0]])
        upload_bytes(f"{azurite}/{path}", text.encode())

    run_id = start_run(store, case["pipeline"], case.get("parameters", {}))
    status = execute_run(store, settings, run_id)
    run, records = store.run(run_id), by_name(store.activity_runs(run_id))
    expect = case["expect"]
    story = f"{case['pipeline']} ended {status} ({run['message']}); activity runs: " + \
        ", ".join(f"{n}: {[r['status'] for r in rs]}" for n, rs in records.items())

    if expect.get("status"):
        assert status == expect["status"], story
    for activity, wanted in expect.get("activities", {}).items():
        assert [r["status"] for r in records.get(activity, [])] == wanted, f"{activity}: {story}"
    for activity in expect.get("not_run", []):
        assert activity not in records, f"{activity} ran: {story}"
    for activity, wanted in expect.get("outputs", {}).items():
        assert contains(wanted, records[activity][-1]["output"]), (activity, records[activity][-1]["output"])
    for activity, wanted in expect.get("all_outputs", {}).items():
        assert contains(wanted, [r["output"] for r in records[activity]]), (activity, records[activity])
    if "message_contains" in expect:
        assert expect["message_contains"] in (run["message"] or ""), story
    if "child_runs" in expect:
        children = store.child_runs(run_id)
        assert contains(expect["child_runs"], children), children
        child_records = by_name(store.activity_runs(children[0]["run_id"]))
        for activity, wanted in expect.get("child_activities", {}).items():
            assert [r["status"] for r in child_records.get(activity, [])] == wanted, child_records
    for path, text in expect.get("blobs", {}).items():
        assert blobs_under(azurite, path).get(path) == text.encode(), f"{path} was not written as expected"
    for prefix in expect.get("no_blobs", []):
        assert blobs_under(azurite, prefix) == {}, f"unexpected blobs under {prefix}"
    for prefix, count in expect.get("blob_count", {}).items():
        assert len(blobs_under(azurite, prefix)) == count, sorted(blobs_under(azurite, prefix))
