# The data lake: inputs land in `input`, data prep writes `training`/`testing`/`rejected`, and `archive`
# keeps the exact input bytes and lineage manifests under a WORM policy.
resource "azurerm_storage_account" "data" {
  account_replication_type = var.storage.replication_type
  account_tier             = "Standard"
  location                 = azurerm_resource_group.this.location
  name                     = local.names.storage_account
  resource_group_name      = azurerm_resource_group.this.name
  account_kind             = "StorageV2"
  # Entra ID only: no account keys or SAS to leak; ADF, Databricks and Azure ML use managed identities.
  allow_nested_items_to_be_public   = false
  default_to_oauth_authentication   = true
  https_traffic_only_enabled        = true
  infrastructure_encryption_enabled = true
  is_hns_enabled                    = true
  local_user_enabled                = false
  min_tls_version                   = "TLS1_2"
  shared_access_key_enabled         = false
  tags                              = local.tags

  blob_properties {
    # Blob versioning is not available on hierarchical-namespace (ADLS Gen2) accounts: Azure answers 409 and
    # the provider rejects it. Soft delete plus the archive's WORM policy protect the data instead.
    container_delete_retention_policy {
      days = var.storage.soft_delete_retention_days
    }
    delete_retention_policy {
      days = var.storage.soft_delete_retention_days
    }
  }
}

resource "azurerm_storage_container" "this" {
  for_each = local.containers

  name                  = each.value
  container_access_type = "private"
  # storage_account_id (not the name) creates containers through Azure Resource Manager, which works with
  # shared keys disabled.
  storage_account_id = azurerm_storage_account.data.id
}

# Container-level time-based retention: archived inputs, contracts, manifests and lineage records can be read
# and added, never changed or deleted, until the retention ends. Lock it (locked = true) once the period is agreed:
# a locked policy can only be extended.
resource "azurerm_storage_container_immutability_policy" "archive" {
  immutability_period_in_days           = var.storage.archive_retention_days
  storage_container_resource_manager_id = azurerm_storage_container.this["archive"].id
  locked                                = false
  protected_append_writes_all_enabled   = false
  protected_append_writes_enabled       = false
}
