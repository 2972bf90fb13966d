resource "azurerm_databricks_workspace" "this" {
  location                    = azurerm_resource_group.this.location
  name                        = local.names.databricks_workspace
  resource_group_name         = azurerm_resource_group.this.name
  sku                         = var.databricks.sku
  managed_resource_group_name = local.names.databricks_managed_rg
  tags                        = local.tags

  # Secure cluster connectivity: cluster nodes get no public IP (Azure adds a NAT gateway for egress).
  custom_parameters {
    no_public_ip = true
  }
}

# A managed identity Databricks uses to reach the lake (Unity Catalog storage credential): no secret or
# personal access token to store and rotate.
resource "azurerm_databricks_access_connector" "this" {
  location            = azurerm_resource_group.this.location
  name                = local.names.databricks_access_connector
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags

  identity {
    type = "SystemAssigned"
  }
}
