# Secrets the factory may need later (for example a Databricks token if managed identity is not possible).
# Access is by Azure RBAC only (no access policies); Terraform writes no secret values.
resource "azurerm_key_vault" "secrets" {
  location                      = azurerm_resource_group.this.location
  name                          = local.names.key_vault
  resource_group_name           = azurerm_resource_group.this.name
  sku_name                      = "standard"
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  public_network_access_enabled = true
  purge_protection_enabled      = var.key_vault.purge_protection_enabled
  rbac_authorization_enabled    = true
  soft_delete_retention_days    = var.key_vault.soft_delete_retention_days
  tags                          = local.tags

  # Data Factory is a trusted Microsoft service, so it still resolves Key Vault references.
  network_acls {
    bypass         = "AzureServices"
    default_action = "Deny"
  }
}
