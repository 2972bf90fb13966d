"""`python -m infra validate`'s structural checks, each shown failing on a mutated copy of terraform/."""
from __future__ import annotations

import pytest

from infra.checks import CHECKS
from infra.validate import validate

MODULE = "modules/environment"


def problems(tf, **kwargs) -> list[str]:
    report = validate(tf.terraform, tf.spec, run_checkov=False, **kwargs)
    return [str(p) for p in report.problems]


def only(tf, pattern: str) -> str:
    found = problems(tf)
    assert len(found) == 1, "\n".join(found)
    assert pattern in found[0], found[0]
    return found[0]


def test_the_real_configuration_passes_every_structural_check(tf):
    report = validate(tf.terraform, tf.spec, run_checkov=False)
    assert report.problems == []
    assert report.environments == ["dev", "prod", "qa"]
    assert report.files >= 15
    assert [c.name for c in CHECKS] == ["environments", "same-arguments", "variables", "outputs", "tftest", "resources",
                                        "role-assignments", "names", "secrets"]


def test_an_argument_set_in_two_environments_but_not_the_third_is_named_with_its_file(tf):
    tf.edit("environments/qa/main.tf", "  register_resource_providers = true\n", "")
    message = only(tf, "module.environment.register_resource_providers: set in dev, prod but not in qa")
    assert message.startswith("terraform/environments/qa/main.tf:")


def test_a_missing_nested_argument_is_found_too(tf):
    tf.edit("environments/prod/main.tf", '    replication_type           = "GZRS"\n', "")
    only(tf, "module.environment.storage.replication_type: set in dev, qa but not in prod")


def test_an_argument_the_module_does_not_declare_is_reported(tf):
    for env in ("dev", "qa", "prod"):
        tf.edit(f"environments/{env}/main.tf", '  prefix                      = "porto"\n',
                '  prefix                      = "porto"\n  prefx = "porto"\n')
    found = problems(tf)
    assert len(found) == 3 and all("module.environment.prefx: is not a variable of the module" in p for p in found)


def test_the_environment_argument_must_match_its_directory(tf):
    tf.edit("environments/qa/main.tf", 'environment                 = "qa"', 'environment                 = "dev"')
    only(tf, 'module.environment.environment: is \'dev\' in the directory environments/qa')


def test_a_missing_environment_and_local_state_are_reported(tf):
    import shutil
    shutil.rmtree(tf.terraform / "environments" / "prod")
    tf.edit("environments/dev/main.tf", "  backend \"azurerm\" {}\n", "")
    found = problems(tf)
    assert any("environments/prod: environment directory is missing" in p for p in found)
    assert any("terraform.backend: no azurerm backend" in p for p in found)


def test_environments_with_different_prefixes_are_rejected(tf):
    tf.edit("environments/prod/main.tf", 'prefix                      = "porto"', 'prefix                      = "porto2"')
    assert any("environments use different prefixes" in p for p in problems(tf))


def test_a_prefix_too_long_for_a_storage_account_names_the_rule_and_environment(tf):
    for env in ("dev", "qa", "prod"):
        tf.edit(f"environments/{env}/main.tf", '"porto"', '"portosegurodatalk"')
    found = problems(tf)
    assert any("local.names.ml_storage_account: 'stportosegurodatalkmlprod' in prod breaks the storage account "
               "rule: 3-24 lowercase letters and digits" in p for p in found), "\n".join(found)
    assert any("local.names.ml_key_vault: 'kv-portosegurodatalk-ml-dev' in dev breaks the Key Vault rule" in p
               for p in found)
    assert not any("'stportosegurodatalkmldev'" in p for p in found)  # 24 characters fit


def test_a_name_that_does_not_derive_from_the_prefix_is_rejected(tf):
    tf.edit(f"{MODULE}/locals.tf", 'data_factory                = "adf-${local.base}"',
            'data_factory                = "adf-porto-${var.environment}"')
    only(tf, "local.names.data_factory: 'adf-porto-${var.environment}' does not use both the prefix")


def test_a_name_built_from_anything_else_is_rejected(tf):
    tf.edit(f"{MODULE}/locals.tf", 'data_factory                = "adf-${local.base}"',
            'data_factory                = "adf-${var.location}"')
    only(tf, "`${var.location}` is neither var.prefix, var.environment nor a local built from them")


def test_a_resource_with_a_literal_name_is_rejected(tf):
    tf.edit(f"{MODULE}/main.datafactory.tf", "name                = local.names.data_factory",
            'name                = "adf-porto-qa"')
    message = only(tf, "azurerm_data_factory.this.name: is 'adf-porto-qa', not built from local.names")
    assert "main.datafactory.tf:" in message


def test_a_name_without_an_azure_rule_is_reported(tf):
    tf.edit(f"{MODULE}/locals.tf", "    resource_group              =",
            '    event_grid_topic = "egt-${local.base}"\n    resource_group              =')
    only(tf, "local.names.event_grid_topic: has no Azure naming rule")


@pytest.mark.parametrize("edit, expected", [
    (("main.storage.tf", 'min_tls_version                 = "TLS1_2"', 'min_tls_version = "TLS1_0"'),
     "azurerm_storage_account.data.min_tls_version: is 'TLS1_0', needs to be 'TLS1_2'"),
    (("main.storage.tf", "is_hns_enabled                  = true", "is_hns_enabled = false"),
     "no azurerm_storage_account has is_hns_enabled = True"),
    (("main.datafactory.tf", 'type = "SystemAssigned"', 'type = "UserAssigned"'),
     "azurerm_data_factory.this.identity.type: is 'UserAssigned', needs to be 'SystemAssigned'"),
    (("main.keyvault.tf", "rbac_authorization_enabled    = true", "rbac_authorization_enabled = false"),
     "azurerm_key_vault.secrets.rbac_authorization_enabled: is False, needs to be true"),
    (("main.machinelearning.tf", "admin_enabled = false", "admin_enabled = true"),
     "azurerm_container_registry.this.admin_enabled: is True, needs to be false"),
    (("locals.tf", '"Microsoft.EventGrid",\n', ""),
     "local.resource_providers: does not include Microsoft.EventGrid"),
    (("main.storage.tf", 'azurerm_storage_container.this["archive"].id', 'azurerm_storage_container.this["input"].id'),
     "azurerm_storage_container_immutability_policy.archive: does not protect the archive container"),
    (("locals.tf", "    databricks   = { id = azurerm_databricks_workspace.this.id, metrics = false }\n", ""),
     "local.diagnostic_targets: sends no diagnostics from azurerm_databricks_workspace"),
    (("main.machinelearning.tf", "local_auth_enabled            = false", "local_auth_enabled = true"),
     "azurerm_machine_learning_compute_cluster.training.local_auth_enabled: is True, needs to be false"),
    (("main.machinelearning.tf", "min_node_count                       = 0", "min_node_count = 1"),
     "azurerm_machine_learning_compute_cluster.training.scale_settings.min_node_count: is 1, needs to be 0"),
])
def test_each_setting_the_pipeline_needs_is_checked(tf, edit, expected):
    file, old, new = edit
    tf.edit(f"{MODULE}/{file}", old, new)
    only(tf, expected)


def test_a_missing_resource_is_reported_with_why_it_is_needed(tf):
    (tf.terraform / MODULE / "main.databricks.tf").unlink()
    found = problems(tf)
    assert any("azurerm_databricks_workspace: no such resource (runs the data-prep notebook)" in p for p in found)


def test_the_container_roles_follow_the_spec(tf):
    text = tf.spec.read_text().replace("    archive: archive ", "    archive: archive\n    quarantine: quarantine ", 1)
    tf.spec.write_text(text)
    only(tf, "local.container_roles: is ['archive', 'input', 'rejected', 'testing', 'training'], the spec's "
             "storage.containers roles are ['archive', 'input', 'quarantine', 'rejected', 'testing', 'training']")


def test_owner_and_subscription_scope_are_rejected(tf):
    tf.edit(f"{MODULE}/locals.tf", '''      role         = "Storage Blob Data Contributor"
      scope        = azurerm_storage_account.data.id''', '''      role         = "Owner"
      scope        = "/subscriptions/${data.azurerm_client_config.current.subscription_id}"''')
    found = problems(tf)
    assert any("local.role_assignments.factory_storage: grants Owner" in p for p in found)
    assert any("local.role_assignments.factory_storage.scope: is '/subscriptions/${data.azurerm_client_config"
               in p for p in found)
    assert any("no grant of Storage Blob Data Contributor on azurerm_storage_account.data to azurerm_data_factory"
               in p for p in found)


def test_a_missing_grant_to_the_factory_is_reported(tf):
    tf.edit(f"{MODULE}/locals.tf", "      scope        = azurerm_machine_learning_workspace.this.id",
            "      scope        = azurerm_key_vault.secrets.id")
    only(tf, "no grant of a role on azurerm_machine_learning_workspace to azurerm_data_factory")


def test_the_training_clusters_write_grant_is_the_archive_only(tf):
    tf.edit(f"{MODULE}/locals.tf", 'scope        = azurerm_storage_container.this["archive"].id',
            "scope        = azurerm_storage_account.data.id")
    only(tf, 'no grant of Storage Blob Data Contributor on azurerm_storage_container.this["archive"] to '
             "azurerm_machine_learning_compute_cluster (training jobs append their lineage record to the archive)")


def test_literal_secrets_and_unsafe_secret_variables_are_rejected(tf):
    tf.append(f"{MODULE}/main.keyvault.tf", '''
resource "azurerm_key_vault_secret" "databricks" {
  key_vault_id = azurerm_key_vault.secrets.id
  name         = "databricks-token"
  value        = "dapi0123456789abcdef0123456789abcdef"
}
''')
    tf.append(f"{MODULE}/variables.tf", '''
variable "client_secret" {
  type        = string
  default     = "s3cret-value"
  description = "A service principal secret."
}
''')
    found = problems(tf)
    assert any("azurerm_key_vault_secret.databricks.value: a secret has a literal value" in p for p in found)
    assert any("azurerm_key_vault_secret.databricks.value: looks like a Databricks personal access token" in p
               for p in found)
    assert any("variable.client_secret: secret variable is not sensitive" in p for p in found)
    assert any("variable.client_secret.default: secret variable has a default" in p for p in found)


def test_a_storage_key_anywhere_is_found(tf):
    tf.edit("environments/qa/main.tf", 'cost_center = "porto-seguro-ml"',
            'cost_center = "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abcdefghijklmnopqrstuvwxyz0123=="')
    only(tf, "module.environment.tags.cost_center: looks like a storage account key")


def test_outputs_are_alphabetical_and_passed_through_by_every_environment(tf):
    tf.edit("environments/dev/outputs.tf", '''output "training_endpoint_uri" {
  description = "Scoring URI of the training batch endpoint."
  value       = module.environment.training_endpoint_uri
}
''', "")
    tf.append(f"{MODULE}/outputs.tf", '''
output "a_late_output" {
  description = "Out of order."
  value       = azurerm_resource_group.this.id
}
''')
    found = problems(tf)
    assert any("outputs are not in alphabetical order" in p for p in found)
    assert any("output.training_endpoint_uri: the module outputs it but environments/dev does not" in p for p in found)
    assert any("output.a_late_output: the module outputs it but environments/qa does not" in p for p in found)


def test_an_output_the_spec_step_needs_cannot_be_removed(tf):
    for env in ("dev", "qa", "prod"):
        tf.edit(f"environments/{env}/outputs.tf", "output \"storage_account_id\"", "output \"storage_account_resource_id\"")
    tf.edit(f"{MODULE}/outputs.tf", "output \"storage_account_id\"", "output \"storage_account_resource_id\"")
    found = problems(tf)
    assert any("output.storage_account_id: missing: outputs-to-spec writes it into environments.<env>.storage.account_id"
               in p for p in found), "\n".join(found)


def test_variables_must_be_typed_and_described(tf):
    tf.edit(f"{MODULE}/variables.tf", 'type        = map(string)\n  default     = {}\n  description = "Tags',
            'type        = any\n  default     = {}\n  description = "Tags')
    only(tf, "variable.tags.type: is any")


def test_a_file_that_does_not_parse_is_reported_and_stops_the_checks(tf):
    tf.append(f"{MODULE}/main.tf", "\nresource \"azurerm_x\" \"y\" {\n")
    message = only(tf, "<hcl>: does not parse")
    assert "main.tf" in message


def test_a_terraform_test_that_would_apply_is_rejected(tf):
    (tf.terraform / "tests" / "validation.tftest.hcl").write_text(
        (tf.terraform / "tests" / "validation.tftest.hcl").read_text().replace(
            'run "display_name_location_is_rejected" {\n  command = plan\n', 'run "display_name_location_is_rejected" {\n'))
    message = only(tf, "run.display_name_location_is_rejected.command: is 'apply (the default)'")
    assert message.startswith("terraform/tests/validation.tftest.hcl:")


def test_every_azure_environment_of_the_spec_is_provisioned(tf):
    text = tf.spec.read_text()
    staging = text[text.index("  qa:\n"):text.index("  prod:\n")].replace("  qa:\n", "  staging:\n", 1)
    tf.spec.write_text(text.replace("  prod:\n", staging + "  prod:\n", 1))
    only(tf, "environments/staging: the spec's environments.staging targets Azure but Terraform does not provision it")


def test_variables_are_ordered_required_first_then_alphabetical(tf):
    path = tf.terraform / MODULE / "variables.tf"
    text = path.read_text()
    start, end = text.index('variable "tags" {'), len(text)
    path.write_text(text[start:end] + "\n" + text[:start])
    only(tf, "variable: variables are not ordered required first, then optional, each alphabetical")


def test_the_longest_prefix_and_environment_the_variables_allow_still_fit_every_rule(tf):
    # variables.tf allows a 3-10 character prefix and a 2-4 character environment; every name must fit both ends,
    # except the Azure ML compute name (16 characters at most), which fits while they total 11 characters or less
    # and which the module's precondition refuses at plan time beyond that.
    from infra import naming
    from infra.hcl import load_config

    config, _ = load_config(tf.terraform)
    local_values = config.module.locals()

    def fits(key: str, prefix: str, environment: str) -> bool:
        name = naming.evaluate(local_values["names"][key], {"prefix": prefix, "environment": environment},
                               local_values)
        return naming.RULES[key].check(name) is None

    for prefix, environment in (("p" * 10, "e" * 4), ("ppp", "ee")):
        for key in local_values["names"]:
            if key != "training_compute":
                assert fits(key, prefix, environment), (key, prefix, environment)
    for prefix, environment in (("p" * 7, "e" * 4), ("p" * 9, "ee"), ("ppp", "ee")):
        assert fits("training_compute", prefix, environment), (prefix, environment)
    assert not fits("training_compute", "p" * 8, "e" * 4)
    cluster = config.module.resources()["azurerm_machine_learning_compute_cluster.training"]
    [precondition] = cluster["lifecycle"][0]["precondition"]
    assert precondition["condition"] == "${length(local.names.training_compute) <= 16}"


def test_a_prefix_too_long_for_the_compute_name_names_the_environment_it_breaks(tf):
    for env in ("dev", "qa", "prod"):
        tf.edit(f"environments/{env}/main.tf", '"porto"', '"portoseg"')
    only(tf, "local.names.training_compute: 'cpu-portoseg-prod' in prod breaks the Azure ML compute cluster rule: "
             "3-16 letters, digits and hyphens")  # cpu-portoseg-dev has 16 characters and fits


def test_a_compute_cluster_named_outside_local_names_is_rejected(tf):
    tf.edit(f"{MODULE}/main.machinelearning.tf", "name                          = local.names.training_compute",
            'name                          = "cpu-training"')
    only(tf, "azurerm_machine_learning_compute_cluster.training.name: is 'cpu-training', not built from local.names")


def test_the_cli_prints_each_problem_and_exits_1(tf, capsys):
    from infra.cli import main

    tf.edit("environments/qa/main.tf", "  register_resource_providers = true\n", "")
    assert main(["validate", "--no-checkov", "--terraform-dir", str(tf.terraform), "--spec", str(tf.spec)]) == 1
    err = capsys.readouterr().err
    assert "register_resource_providers: set in dev, prod but not in qa" in err
    assert err.rstrip().endswith("infra validate: 1 problem(s)")
