# The module's outputs, one to one, so `terraform output -json` feeds `python -m infra outputs-to-spec`.

output "application_insights_id" {
  description = "Resource id of the Application Insights component."
  value       = module.environment.application_insights_id
}

output "data_factory_id" {
  description = "Resource id of the data factory."
  value       = module.environment.data_factory_id
}

output "data_factory_name" {
  description = "Name of the data factory."
  value       = module.environment.data_factory_name
}

output "data_factory_principal_id" {
  description = "Object id of the factory's system-assigned identity."
  value       = module.environment.data_factory_principal_id
}

output "databricks_workspace_id" {
  description = "Resource id of the Databricks workspace."
  value       = module.environment.databricks_workspace_id
}

output "databricks_workspace_url" {
  description = "https URL of the Databricks workspace."
  value       = module.environment.databricks_workspace_url
}

output "key_vault_uri" {
  description = "URI of the secrets Key Vault."
  value       = module.environment.key_vault_uri
}

output "log_analytics_workspace_id" {
  description = "Resource id of the Log Analytics workspace."
  value       = module.environment.log_analytics_workspace_id
}

output "machine_learning_workspace_name" {
  description = "Name of the Azure ML workspace."
  value       = module.environment.machine_learning_workspace_name
}

output "resource_group_name" {
  description = "Name of the resource group."
  value       = module.environment.resource_group_name
}

output "storage_account_id" {
  description = "Resource id of the data lake (the blob trigger's scope)."
  value       = module.environment.storage_account_id
}

output "storage_blob_endpoint" {
  description = "Blob endpoint of the data lake."
  value       = module.environment.storage_blob_endpoint
}

output "storage_containers" {
  description = "Container name per role."
  value       = module.environment.storage_containers
}

output "subscription_id" {
  description = "Subscription of the environment."
  value       = module.environment.subscription_id
}

output "training_compute_name" {
  description = "Name of the Azure ML training compute cluster."
  value       = module.environment.training_compute_name
}

output "training_compute_principal_id" {
  description = "Object id of the training cluster's system-assigned identity."
  value       = module.environment.training_compute_principal_id
}

output "training_endpoint_uri" {
  description = "Scoring URI of the training batch endpoint."
  value       = module.environment.training_endpoint_uri
}
