# Only the factory shell: its content (linked services, datasets, pipeline, trigger) is deployed from
# generated/arm by `make deploy`, so Terraform never fights the generator over it.
resource "azurerm_data_factory" "this" {
  location            = azurerm_resource_group.this.location
  name                = local.names.data_factory
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags

  # The one identity the factory uses for storage, Databricks, Azure ML and Key Vault.
  identity {
    type = "SystemAssigned"
  }
}
