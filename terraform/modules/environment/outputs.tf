# Alphabetical. `python -m infra outputs-to-spec` maps the outputs the generator needs into the spec's
# environments.<env> (see infra/outputs.py); the rest are for operators.

output "application_insights_id" {
  description = "Resource id of the Application Insights component the Azure ML workspace reports to."
  value       = azurerm_application_insights.this.id
}

output "data_factory_id" {
  description = "Resource id of the data factory."
  value       = azurerm_data_factory.this.id
}

output "data_factory_name" {
  description = "Name of the data factory (spec: environments.<env>.factory_name)."
  value       = azurerm_data_factory.this.name
}

output "data_factory_principal_id" {
  description = "Object id of the factory's system-assigned identity, which every role assignment names."
  value       = azurerm_data_factory.this.identity[0].principal_id
}

output "databricks_workspace_id" {
  description = "Resource id of the Databricks workspace (spec: databricks.workspace_resource_id)."
  value       = azurerm_databricks_workspace.this.id
}

output "databricks_workspace_url" {
  description = "https URL of the Databricks workspace (spec: databricks.domain)."
  value       = "https://${azurerm_databricks_workspace.this.workspace_url}"
}

output "key_vault_uri" {
  description = "URI of the secrets Key Vault, for Key Vault linked services."
  value       = azurerm_key_vault.secrets.vault_uri
}

output "log_analytics_workspace_id" {
  description = "Resource id of the Log Analytics workspace every diagnostic setting writes to."
  value       = azurerm_log_analytics_workspace.this.id
}

output "machine_learning_workspace_name" {
  description = "Name of the Azure ML workspace (spec: azure_ml.workspace)."
  value       = azurerm_machine_learning_workspace.this.name
}

output "resource_group_name" {
  description = "Name of the environment's resource group (spec: azure_ml.resource_group)."
  value       = azurerm_resource_group.this.name
}

output "storage_account_id" {
  description = "Resource id of the data lake, the blob trigger's scope (spec: storage.account_id)."
  value       = azurerm_storage_account.data.id
}

output "storage_blob_endpoint" {
  description = "Blob endpoint of the data lake without a trailing slash (spec: storage.blob_endpoint)."
  value       = trimsuffix(azurerm_storage_account.data.primary_blob_endpoint, "/")
}

output "storage_containers" {
  description = "Container name per role (input, training, testing, rejected, archive)."
  value       = { for role, container in azurerm_storage_container.this : role => container.name }
}

output "subscription_id" {
  description = "Subscription the environment lives in (spec: azure_ml.subscription_id)."
  value       = data.azurerm_client_config.current.subscription_id
}

output "training_compute_name" {
  description = "Name of the Azure ML training compute cluster, the component's default compute (spec: azure_ml.training_compute)."
  value       = azurerm_machine_learning_compute_cluster.training.name
}

output "training_compute_principal_id" {
  description = "Object id of the training cluster's system-assigned identity, which the training jobs' storage grants name."
  value       = azurerm_machine_learning_compute_cluster.training.identity[0].principal_id
}

output "training_endpoint_uri" {
  description = "Scoring URI of the training batch endpoint (spec: azure_ml.training_endpoint_uri)."
  value       = local.training_endpoint_uri
}
