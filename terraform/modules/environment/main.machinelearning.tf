# Azure ML needs its own blob storage (a hierarchical-namespace account cannot be a workspace's default
# store), Key Vault, Application Insights and container registry.
resource "azurerm_storage_account" "ml" {
  account_replication_type          = var.storage.replication_type
  account_tier                      = "Standard"
  location                          = azurerm_resource_group.this.location
  name                              = local.names.ml_storage_account
  resource_group_name               = azurerm_resource_group.this.name
  account_kind                      = "StorageV2"
  allow_nested_items_to_be_public   = false
  default_to_oauth_authentication   = true
  https_traffic_only_enabled        = true
  infrastructure_encryption_enabled = true
  local_user_enabled                = false
  min_tls_version                   = "TLS1_2"
  # The workspace reaches its stores with its identity (system_datastores_auth_mode below).
  shared_access_key_enabled = false
  tags                      = local.tags

  blob_properties {
    versioning_enabled = true

    container_delete_retention_policy {
      days = var.storage.soft_delete_retention_days
    }
    delete_retention_policy {
      days = var.storage.soft_delete_retention_days
    }
  }
}

resource "azurerm_key_vault" "ml" {
  location                      = azurerm_resource_group.this.location
  name                          = local.names.ml_key_vault
  resource_group_name           = azurerm_resource_group.this.name
  sku_name                      = "standard"
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  public_network_access_enabled = true
  purge_protection_enabled      = var.key_vault.purge_protection_enabled
  rbac_authorization_enabled    = true
  soft_delete_retention_days    = var.key_vault.soft_delete_retention_days
  tags                          = local.tags

  network_acls {
    bypass         = "AzureServices"
    default_action = "Deny"
  }
}

resource "azurerm_application_insights" "this" {
  application_type    = "other"
  location            = azurerm_resource_group.this.location
  name                = local.names.application_insights
  resource_group_name = azurerm_resource_group.this.name
  # Workspace-based: telemetry lands in the same Log Analytics workspace as the diagnostics.
  local_authentication_disabled = true
  tags                          = local.tags
  workspace_id                  = azurerm_log_analytics_workspace.this.id
}

resource "azurerm_container_registry" "this" {
  location            = azurerm_resource_group.this.location
  name                = local.names.container_registry
  resource_group_name = azurerm_resource_group.this.name
  sku                 = var.azure_ml.container_registry_sku
  # The workspace pulls and pushes images with its identity, never with the admin user's password.
  admin_enabled = false
  tags          = local.tags
}

resource "azurerm_machine_learning_workspace" "this" {
  application_insights_id = azurerm_application_insights.this.id
  key_vault_id            = azurerm_key_vault.ml.id
  location                = azurerm_resource_group.this.location
  name                    = local.names.ml_workspace
  resource_group_name     = azurerm_resource_group.this.name
  storage_account_id      = azurerm_storage_account.ml.id
  container_registry_id   = azurerm_container_registry.this.id
  # Workspace and compute reach storage with managed identities, matching shared keys disabled.
  system_datastores_auth_mode = "identity"
  tags                        = local.tags

  identity {
    type = "SystemAssigned"
  }
}

# The training pipeline's compute (azure_deploy publishes the component with it as default compute): scales to
# zero between runs; jobs reach the lake with the cluster's managed identity, never with keys. Terraform owns
# it: the deployer only checks that it exists.
resource "azurerm_machine_learning_compute_cluster" "training" {
  location                      = azurerm_resource_group.this.location
  machine_learning_workspace_id = azurerm_machine_learning_workspace.this.id
  name                          = local.names.training_compute
  vm_priority                   = "Dedicated"
  vm_size                       = var.azure_ml.training_compute.vm_size
  local_auth_enabled            = false
  # Nodes keep a public IP until the private networking iteration gives them a subnet (false requires one);
  # no SSH port is opened and no admin user is created.
  node_public_ip_enabled    = true
  ssh_public_access_enabled = false
  tags                      = local.tags

  identity {
    type = "SystemAssigned"
  }

  scale_settings {
    max_node_count                       = var.azure_ml.training_compute.max_nodes
    min_node_count                       = 0
    scale_down_nodes_after_idle_duration = "PT15M"
  }

  lifecycle {
    # The variables allow a 10-character prefix and a 4-character environment; this name fits only when they
    # total 11 or less, so say so at plan time rather than let Azure refuse it halfway through an apply.
    precondition {
      condition     = length(local.names.training_compute) <= 16
      error_message = "The Azure ML compute name '${local.names.training_compute}' is longer than 16 characters: prefix and environment may total at most 11 characters."
    }
  }
}
