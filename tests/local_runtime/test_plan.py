"""`plan`: what `deploy --env local` would do against the local store, computed without touching it."""
from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from local_runtime import deploy as deployer, store as store_module
from local_runtime.cli import main as runtime_cli
from local_runtime.settings import PROJECT_ROOT, load_settings
from local_runtime.store import Store

ARM = PROJECT_ROOT / "generated" / "arm"
FACTORY = "adf-porto-local"
POLL = "PrepareAndTrain_properties_parameters_poll_interval_seconds_defaultValue"
SCOPE = "InputCsvCreated_properties_typeProperties_scope"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LOCAL_HOME", str(tmp_path))
    monkeypatch.setattr(deployer, "ensure_containers", lambda url, names: None)  # no Azurite in unit tests
    return tmp_path


def arm(overrides: dict | None = None) -> tuple[dict, dict]:
    return deployer.load_arm(ARM / "ARMTemplateForFactory.json", ARM / "parameters" / "local.json", overrides or {})


def deployed(home: Path, template: dict | None = None) -> Store:
    settings = load_settings()
    store = Store(settings.db_path)
    default, values = arm()
    deployer.apply(store, deployer.plan(store, settings, template or default, values))
    return store


def plan_output(capsys, *args: str) -> str:
    assert runtime_cli(["plan", "--env", "local", *args]) == 0
    return capsys.readouterr().out


def snapshot(db: Path) -> tuple[str, list[str]]:
    with sqlite3.connect(db) as conn:
        rows = list(conn.iterdump())
    return hashlib.sha256(db.read_bytes()).hexdigest(), rows


def test_nothing_deployed_plans_every_object_as_added_and_creates_no_store(home, capsys):
    out = plan_output(capsys).splitlines()
    assert out[0] == f"deploy plan for factory {FACTORY}: 10 to add, 0 to change, 0 to delete, 0 unchanged"
    assert sum(line.endswith(": added") for line in out) == 10
    assert "  start trigger InputCsvCreated after deploy: new, runtimeState Started" in out
    assert out[-1] == ("  ensure containers on http://127.0.0.1:10000/devstoreaccount1: "
                       "archive, input, rejected, testing, training")
    assert not any(home.iterdir()), "plan must not create the store"


def test_a_deployed_factory_plans_no_changes_and_plan_leaves_the_store_byte_for_byte(home, capsys):
    store = deployed(home)
    before = snapshot(store.path)
    out = plan_output(capsys).splitlines()
    assert out[0] == f"deploy plan for factory {FACTORY}: 0 to add, 0 to change, 0 to delete, 10 unchanged"
    assert [line for line in out[1:] if "ensure containers" not in line] == []
    plan_output(capsys, "--parameter", f"{POLL}=5", "--json")
    assert snapshot(store.path) == before


def test_plan_does_not_migrate_an_older_store(home, capsys):
    store = deployed(home)
    with sqlite3.connect(store.path) as conn:  # a store from before the migrated columns were added
        for table, column, _ in getattr(store_module, "MIGRATIONS", []):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    before = snapshot(store.path)
    assert "10 unchanged" in plan_output(capsys)
    assert snapshot(store.path) == before


def test_a_changed_parameter_override_shows_the_exact_paths_and_trigger_steps(home, capsys):
    deployed(home)
    out = plan_output(capsys, "--parameter", f"{POLL}=5").splitlines()
    assert out[1:-1] == [
        "  pipeline PrepareAndTrain: parameters.poll_interval_seconds.defaultValue 2 → 5",
        "  keep trigger InputCsvCreated untouched: pipeline PrepareAndTrain changed, the trigger did not: "
        "it keeps running and is not restarted"]
    scope = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/other"
    data = json.loads(plan_output(capsys, "--parameter", f"{SCOPE}={scope}", "--json"))
    assert data["objects"] == [{"folder": "trigger", "name": "InputCsvCreated", "kind": "changed", "changes": [
        {"path": "typeProperties.scope", "segments": ["properties", "typeProperties", "scope"],
         "old": arm()[1][SCOPE], "new": scope}]}]
    assert [(t["action"], t["trigger"]) for t in data["triggers"]] == [("stop", "InputCsvCreated"),
                                                                      ("start", "InputCsvCreated")]
    assert data["containers"]["http://127.0.0.1:10000/other"] == ["input"] and len(data["unchanged"]) == 9


def test_deploy_prints_the_same_plan_then_applies_it(home, capsys):
    planned = plan_output(capsys, "--parameter", f"{POLL}=5")
    assert runtime_cli(["deploy", "--env", "local", "--parameter", f"{POLL}=5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(planned) and "deployed adf-porto-local" in out
    assert plan_output(capsys, "--parameter", f"{POLL}=5").startswith(f"deploy plan for factory {FACTORY}: 0 to add")


def test_apply_carries_out_the_trigger_steps(home):
    store = deployed(home)
    settings, (template, values) = load_settings(), arm()
    stopped = copy.deepcopy(template)
    trigger = next(r for r in stopped["resources"] if r["type"].endswith("/triggers"))
    trigger["properties"]["runtimeState"] = "Stopped"
    plan = deployer.plan(store, settings, stopped, values)
    assert plan.describe()[1:-1] == ['  trigger InputCsvCreated: runtimeState "Started" → "Stopped"',
                                     "  stop trigger InputCsvCreated before deploy: runtimeState Started → Stopped"]
    deployer.apply(store, plan)
    assert store.trigger_states(FACTORY)["InputCsvCreated"]["runtime_state"] == "Stopped"
    without = {**template, "resources": [r for r in template["resources"] if not r["type"].endswith("/triggers")]}
    plan = deployer.plan(store, settings, without, values)
    assert plan.delete == [("trigger", "InputCsvCreated")] and plan.stop_triggers == []  # already stopped
    deployer.apply(store, plan)
    assert "InputCsvCreated" not in store.trigger_states(FACTORY)


def test_plan_and_deploy_of_an_azure_environment_give_the_same_error(home, capsys):
    errors = []
    for command in ("plan", "deploy"):
        assert runtime_cli([command, "--env", "qa"]) == 2
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1] and "ENV=qa is an Azure environment" in errors[0] and "Use ENV=local" in errors[0]
