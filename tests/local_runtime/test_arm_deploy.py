"""ARM resolution and the local deploy plan, from the committed generated/ artifacts."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from local_runtime import deploy as deployer
from local_runtime.arm import resolve
from local_runtime.cli import main as runtime_cli
from local_runtime.errors import DeployError
from local_runtime.settings import PROJECT_ROOT, load_settings
from local_runtime.store import Store

ARM = PROJECT_ROOT / "generated" / "arm"


def local_values() -> dict:
    return {k: v["value"] for k, v in json.loads((ARM / "parameters" / "local.json").read_text())["parameters"].items()}


def test_resolve_concat_parameters_variables_and_escapes():
    template = {"parameters": {"factoryName": {"type": "string"}, "n": {"type": "int", "defaultValue": 2}},
                "variables": {"factoryId": "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]"},
                "resources": [{"name": "[concat(parameters('factoryName'), '/it''s')]",
                               "dependsOn": ["[concat(variables('factoryId'), '/pipelines/P')]"],
                               "properties": {"n": "[parameters('n')]", "literal": "[[not an expression]"}}]}
    [resource] = resolve(template, {"factoryName": "f1"})
    assert resource == {"name": "f1/it's", "dependsOn": ["Microsoft.DataFactory/factories/f1/pipelines/P"],
                        "properties": {"n": 2, "literal": "[not an expression]"}}


def test_resolve_errors_say_what_to_do():
    template = {"parameters": {"a": {"type": "string"}}, "resources": [{"x": "[uniqueString(parameters('a'))]"}]}
    with pytest.raises(DeployError, match="has no value and no default"):
        resolve(template, {})
    with pytest.raises(DeployError, match=r"uniqueString\(\) is not supported"):
        resolve(template, {"a": "x"})
    with pytest.raises(DeployError, match=r"does not declare.*make generate"):
        resolve(template, {"a": "x", "b": "y"})


def test_the_local_environment_resolves_to_the_factory_objects():
    template = json.loads((ARM / "ARMTemplateForFactory.json").read_text())
    resources = resolve(template, local_values())
    names = {r["name"] for r in resources}
    assert "adf-porto-local/PrepareAndTrain" in names and "adf-porto-local/InputCsvCreated" in names
    trigger = next(r for r in resources if r["name"].endswith("/InputCsvCreated"))
    assert trigger["properties"]["typeProperties"]["scope"].endswith("/storageAccounts/devstoreaccount1")


def test_plan_then_redeploy_is_unchanged(tmp_path):
    settings = replace(load_settings(), home=tmp_path)
    store = Store(settings.db_path)
    template = json.loads((ARM / "ARMTemplateForFactory.json").read_text())
    first = deployer.plan(store, settings, template, local_values())
    assert len(first.add) == 10 and not first.update and not first.delete
    assert first.start_triggers == ["InputCsvCreated"]
    assert first.containers == {"http://127.0.0.1:10000/devstoreaccount1":
                                ["archive", "input", "rejected", "testing", "training"]}
    first.containers = {}  # no storage needed for the bookkeeping part
    deployer.apply(store, first)
    started = store.trigger_states("adf-porto-local")["InputCsvCreated"]["started_at"]
    again = deployer.plan(store, settings, template, local_values())
    assert not again.add and not again.update and len(again.unchanged) == 10
    again.containers = {}
    deployer.apply(store, again)
    assert store.trigger_states("adf-porto-local")["InputCsvCreated"]["started_at"] == started


def test_deploying_an_azure_environment_says_what_is_missing(capsys):
    assert runtime_cli(["deploy", "--env", "qa"]) == 2
    err = capsys.readouterr().err
    assert "ENV=qa is an Azure environment" in err and "Use ENV=local" in err
