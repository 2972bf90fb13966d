data "azurerm_client_config" "current" {}

# Registration is per subscription, so environments sharing one turn it off in all but one
# (var.register_resource_providers); the environment roots set resource_provider_registrations = "none".
resource "azurerm_resource_provider_registration" "this" {
  for_each = var.register_resource_providers ? local.resource_providers : toset([])

  name = each.value
}

resource "azurerm_resource_group" "this" {
  location = var.location
  name     = local.names.resource_group
  tags     = local.tags

  # Every other resource references the group, so they all wait for the providers to be registered.
  depends_on = [azurerm_resource_provider_registration.this]
}

resource "azurerm_log_analytics_workspace" "this" {
  location            = azurerm_resource_group.this.location
  name                = local.names.log_analytics_workspace
  resource_group_name = azurerm_resource_group.this.name
  daily_quota_gb      = var.log_analytics.daily_quota_gb
  retention_in_days   = var.log_analytics.retention_in_days
  sku                 = "PerGB2018"
  tags                = local.tags
}
