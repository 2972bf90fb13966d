# Plans modules/environment with a mocked azurerm provider: no Azure credentials, no resources.
# Run from the repository root:
#   terraform -chdir=terraform/modules/environment init -backend=false
#   terraform -chdir=terraform/modules/environment test -test-directory=../../tests

mock_provider "azurerm" {
  mock_data "azurerm_client_config" {
    defaults = {
      subscription_id = "22222222-2222-2222-2222-222222222222"
      tenant_id       = "00000000-0000-0000-0000-000000000000"
    }
  }
}

variables {
  environment = "qa"
  location    = "westeurope"
  prefix      = "porto"
  azure_ml = {
    training_endpoint_name = "porto-training-qa"
  }
}

run "names_derive_from_the_prefix" {
  command = plan

  assert {
    condition     = azurerm_resource_group.this.name == "rg-porto-qa"
    error_message = "resource group name must be rg-<prefix>-<environment>"
  }
  assert {
    condition     = azurerm_data_factory.this.name == "adf-porto-qa" && azurerm_storage_account.data.name == "stportoqa"
    error_message = "factory and storage account names must match the spec's environments.qa"
  }
  assert {
    condition     = azurerm_databricks_workspace.this.name == "dbw-porto-qa" && azurerm_machine_learning_workspace.this.name == "mlw-porto-qa"
    error_message = "Databricks and Azure ML workspace names must match the spec's environments.qa"
  }
  assert {
    condition     = azurerm_machine_learning_compute_cluster.training.name == "cpu-porto-qa"
    error_message = "the training compute cluster must be cpu-<prefix>-<environment>, the spec's azure_ml.training_compute"
  }
}

run "the_lake_is_hardened" {
  command = plan

  assert {
    condition = (azurerm_storage_account.data.is_hns_enabled && azurerm_storage_account.data.https_traffic_only_enabled
      && azurerm_storage_account.data.min_tls_version == "TLS1_2" && !azurerm_storage_account.data.shared_access_key_enabled
    && !azurerm_storage_account.data.allow_nested_items_to_be_public)
    error_message = "the data lake must be ADLS Gen2, HTTPS and TLS 1.2 only, Entra ID only, with no public blobs"
  }
  assert {
    condition     = azurerm_storage_account.data.blob_properties[0].delete_retention_policy[0].days == 30
    error_message = "blob soft delete must default to 30 days"
  }
  assert {
    condition     = toset(keys(azurerm_storage_container.this)) == toset(["archive", "input", "rejected", "testing", "training"])
    error_message = "the five containers of the spec must exist"
  }
  assert {
    condition     = azurerm_storage_container_immutability_policy.archive.immutability_period_in_days == 365
    error_message = "the archive must be WORM for a year by default"
  }
}

run "identities_and_grants" {
  command = plan

  assert {
    condition     = azurerm_data_factory.this.identity[0].type == "SystemAssigned"
    error_message = "the factory needs a system-assigned identity"
  }
  assert {
    condition     = azurerm_role_assignment.this["factory_storage"].role_definition_name == "Storage Blob Data Contributor"
    error_message = "the factory must be Storage Blob Data Contributor on the lake"
  }
  assert {
    condition     = alltrue([for ra in azurerm_role_assignment.this : !contains(["Owner", "User Access Administrator"], ra.role_definition_name)])
    error_message = "no owner-level role"
  }
  assert {
    condition = (azurerm_machine_learning_compute_cluster.training.identity[0].type == "SystemAssigned"
      && !azurerm_machine_learning_compute_cluster.training.local_auth_enabled
    && azurerm_machine_learning_compute_cluster.training.scale_settings[0].min_node_count == 0)
    error_message = "the training cluster needs a system-assigned identity, no local auth, and to scale to zero"
  }
  assert {
    condition = (azurerm_role_assignment.this["training_compute_storage"].role_definition_name == "Storage Blob Data Reader"
    && azurerm_role_assignment.this["training_compute_archive"].role_definition_name == "Storage Blob Data Contributor")
    error_message = "the training cluster reads the lake and writes only the archive"
  }
  assert {
    condition     = contains(keys(azurerm_resource_provider_registration.this), "Microsoft.EventGrid")
    error_message = "Microsoft.EventGrid must be registered for the blob trigger"
  }
}

run "outputs_feed_the_spec" {
  command = plan

  assert {
    condition     = output.training_endpoint_uri == "https://porto-training-qa.westeurope.inference.ml.azure.com/jobs"
    error_message = "the batch endpoint URI derives from its name and the region"
  }
  assert {
    condition     = output.data_factory_name == "adf-porto-qa" && output.resource_group_name == "rg-porto-qa"
    error_message = "outputs must carry the names outputs-to-spec writes"
  }
  assert {
    condition     = output.training_compute_name == "cpu-porto-qa"
    error_message = "the compute cluster's name feeds the spec's azure_ml.training_compute"
  }
}

run "shared_subscription_registers_nothing" {
  command = plan

  variables {
    register_resource_providers = false
  }

  assert {
    condition     = length(azurerm_resource_provider_registration.this) == 0
    error_message = "register_resource_providers = false must register nothing"
  }
}
