"""`python -m infra outputs-to-spec`: recorded `terraform output -json` files into a copy of the spec."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from generator.build import generate
from generator.spec import load_spec
from infra.cli import main
from infra.errors import OutputsError
from infra.hcl import PROJECT_ROOT
from infra.outputs import SPEC_FIELDS, _render, outputs_to_spec
from tests.infra.conftest import FIXTURES

QA_OUTPUTS = FIXTURES / "qa-outputs.json"
QA_SUB = "5f1c9a3e-7b2d-4c8e-9a61-0d3e4f5a6b7c"


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "factory.yaml"
    shutil.copy(PROJECT_ROOT / "spec" / "factory.yaml", path)
    return path


def test_the_qa_outputs_land_in_environments_qa_and_nothing_else_changes(spec):
    before = spec.read_text()
    changes = outputs_to_spec(spec, "qa", QA_OUTPUTS.read_text(), str(QA_OUTPUTS))
    after = spec.read_text()
    assert {c.key for c in changes} == {
        "environments.qa.storage.account_id", "environments.qa.databricks.domain",
        "environments.qa.databricks.workspace_resource_id", "environments.qa.azure_ml.subscription_id"}
    qa = load_spec(spec).environment("qa")
    assert qa["storage"]["account_id"] == (f"/subscriptions/{QA_SUB}/resourceGroups/rg-porto-qa/providers/"
                                           "Microsoft.Storage/storageAccounts/stportoqa")
    assert qa["storage"]["blob_endpoint"] == "https://stportoqa.blob.core.windows.net"  # trailing slash dropped
    assert qa["databricks"]["domain"] == "https://adb-4417925893127651.11.azuredatabricks.net"
    assert qa["azure_ml"]["subscription_id"] == QA_SUB
    assert qa["databricks"]["cluster_id"] == "0202-000000-porto-qa"  # not Terraform's: left alone
    # Only the changed lines differ; every comment and every other environment is byte-identical.
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 4
    assert all(QA_SUB in b or "4417925893127651" in b for _, b in changed)
    assert "# files land here; the trigger watches it" in after
    assert load_spec(spec).environment("dev") == yaml.safe_load(before)["environments"]["dev"]


def test_a_second_run_changes_nothing(spec):
    outputs_to_spec(spec, "qa", QA_OUTPUTS.read_text(), "qa.json")
    text = spec.read_text()
    assert outputs_to_spec(spec, "qa", QA_OUTPUTS.read_text(), "qa.json") == []
    assert spec.read_text() == text


def test_generate_picks_the_values_up(spec, tmp_path):
    outputs_to_spec(spec, "prod", (FIXTURES / "prod-outputs.json").read_text(), "prod.json")
    generate(load_spec(spec), tmp_path / "generated")
    params = json.loads((tmp_path / "generated" / "arm" / "parameters" / "prod.json").read_text())["parameters"]
    assert params["InputCsvCreated_properties_typeProperties_scope"]["value"] == (
        "/subscriptions/8e2d4c6a-1b3f-4a5e-b7c9-2d4f6a8c0e1b/resourceGroups/rg-porto-prod/providers/"
        "Microsoft.Storage/storageAccounts/stportoprod")
    assert params["Databricks_properties_typeProperties_domain"]["value"] == \
        "https://adb-7390214658803921.11.azuredatabricks.net"


def test_check_reports_the_differences_and_writes_nothing(spec, capsys):
    before = spec.read_text()
    code = main(["outputs-to-spec", "--env", "qa", "--outputs", str(QA_OUTPUTS), "--spec", str(spec), "--check"])
    out, err = capsys.readouterr()
    assert code == 1 and spec.read_text() == before
    assert "environments.qa.azure_ml.subscription_id: '22222222-2222-2222-2222-222222222222' -> " \
           f"'{QA_SUB}'" in out
    assert "4 value(s) differ" in err


def test_the_cli_writes_and_says_what_to_run_next(spec, capsys):
    assert main(["outputs-to-spec", "--env", "qa", "--outputs", str(QA_OUTPUTS), "--spec", str(spec)]) == 0
    assert "wrote 4 value(s) of environments.qa; now run `make generate`" in capsys.readouterr().out


def test_a_missing_output_is_named_with_the_fix(spec):
    outputs = json.loads(QA_OUTPUTS.read_text())
    del outputs["databricks_workspace_url"]
    with pytest.raises(OutputsError, match=r"missing output\(s\) databricks_workspace_url\n  fix: run `terraform apply`"):
        outputs_to_spec(spec, "qa", json.dumps(outputs), "qa.json")


def test_another_environments_outputs_are_refused(spec):
    before = spec.read_text()
    with pytest.raises(OutputsError, match=r"resource group 'rg-porto-prod' is not the qa environment's"):
        outputs_to_spec(spec, "qa", (FIXTURES / "prod-outputs.json").read_text(), "prod.json")
    assert spec.read_text() == before


def test_a_single_output_file_is_not_mistaken_for_all_outputs(spec):
    with pytest.raises(OutputsError, match=r'have no "value"'):
        outputs_to_spec(spec, "qa", json.dumps({"data_factory_name": "adf-porto-qa"}), "one.json")


def test_not_json_is_reported(spec):
    with pytest.raises(OutputsError, match=r"qa.json: not JSON"):
        outputs_to_spec(spec, "qa", "data_factory_name = adf-porto-qa", "qa.json")


def test_the_local_environment_is_not_terraforms(spec):
    with pytest.raises(OutputsError, match=r"environments.local.target is 'local', not 'azure'"):
        outputs_to_spec(spec, "local", QA_OUTPUTS.read_text(), "qa.json")


def test_an_unknown_environment_is_named(spec):
    with pytest.raises(OutputsError, match=r"environments.staging: no such environment"):
        outputs_to_spec(spec, "staging", QA_OUTPUTS.read_text(), "qa.json")


def test_outputs_that_would_break_the_spec_write_nothing(spec):
    outputs = json.loads(QA_OUTPUTS.read_text())
    outputs["storage_account_id"]["value"] = "not-an-arm-id"
    before = spec.read_text()
    with pytest.raises(OutputsError, match=r"would make the spec invalid; nothing written:\n.*factory.yaml:\d+: "
                                           r"environments.qa.storage.account_id"):
        outputs_to_spec(spec, "qa", json.dumps(outputs), "qa.json")
    assert spec.read_text() == before
    assert [p.name for p in spec.parent.iterdir()] == ["factory.yaml"]  # no temporary file left behind


@pytest.mark.parametrize("value", ["plain-value", "has: colon", "has #hash", "'quoted'", "123", "true", "@expr"])
def test_values_that_yaml_would_misread_are_quoted(value):
    node = yaml.compose("k: old\n").value[0][1]
    assert yaml.safe_load(f"k: {_render(value, node)}\n") == {"k": value}


def test_every_field_maps_to_a_spec_key_the_schema_knows():
    environment = yaml.safe_load((PROJECT_ROOT / "spec" / "factory.yaml").read_text())["environments"]["qa"]
    for field in SPEC_FIELDS:
        node = environment
        for part in field.spec_key.split("."):
            node = node[part]
        assert isinstance(node, str), field


def test_the_training_compute_name_lands_in_azure_ml_training_compute(spec):
    # An environment whose spec still names the cluster the deployer used to create ad hoc.
    spec.write_text(spec.read_text().replace("training_compute: cpu-porto-qa", "training_compute: cpu-training"))
    changes = outputs_to_spec(spec, "qa", QA_OUTPUTS.read_text(), "qa.json")
    assert "environments.qa.azure_ml.training_compute: 'cpu-training' -> 'cpu-porto-qa'" in map(str, changes)
    assert load_spec(spec).environment("qa")["azure_ml"]["training_compute"] == "cpu-porto-qa"


def test_an_azure_environment_without_its_training_compute_is_reported(spec):
    spec.write_text(spec.read_text().replace("      training_compute: cpu-porto-qa\n", ""))
    with pytest.raises(OutputsError, match=r"environments.qa.azure_ml.training_compute: not found\n  fix: add it"):
        outputs_to_spec(spec, "qa", QA_OUTPUTS.read_text(), "qa.json")
