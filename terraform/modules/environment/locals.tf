locals {
  # Every name derives from var.prefix and var.environment, and nothing else: `python -m infra validate`
  # checks each against Azure's rules for its resource type. Storage accounts and registries allow no hyphens.
  base = "${var.prefix}-${var.environment}"
  names = {
    application_insights        = "appi-${local.base}"
    container_registry          = "cr${var.prefix}${var.environment}"
    data_factory                = "adf-${local.base}"
    databricks_access_connector = "dbac-${local.base}"
    databricks_managed_rg       = "rg-${local.base}-dbw-managed"
    databricks_workspace        = "dbw-${local.base}"
    key_vault                   = "kv-${local.base}"
    log_analytics_workspace     = "log-${local.base}"
    ml_key_vault                = "kv-${var.prefix}-ml-${var.environment}"
    ml_storage_account          = "st${var.prefix}ml${var.environment}"
    ml_workspace                = "mlw-${local.base}"
    resource_group              = "rg-${local.base}"
    storage_account             = "st${var.prefix}${var.environment}"
    # Azure ML compute names stop at 16 characters: prefix + environment may total at most 11 here.
    training_compute = "cpu-${local.base}"
  }

  # The spec's storage roles; the generator names containers by role, so every role must exist.
  container_roles = ["archive", "input", "rejected", "testing", "training"]
  containers      = { for role in local.container_roles : role => lookup(var.storage.containers, role, role) }

  # Providers this configuration creates resources in. Microsoft.EventGrid carries the factory's blob event
  # trigger (ADF subscribes to the storage account's system topic).
  resource_providers = toset([
    "Microsoft.ContainerRegistry",
    "Microsoft.DataFactory",
    "Microsoft.Databricks",
    "Microsoft.EventGrid",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.MachineLearningServices",
    "Microsoft.OperationalInsights",
    "Microsoft.Storage",
  ])

  # Built-in roles, least privilege: each principal gets one role on one resource, never a subscription.
  role_assignments = {
    # ADF reads and writes blobs through its linked service with its managed identity.
    factory_storage = {
      principal_id = azurerm_data_factory.this.identity[0].principal_id
      role         = "Storage Blob Data Contributor"
      scope        = azurerm_storage_account.data.id
    }
    # ADF's managed-identity authentication to Databricks requires Contributor on the workspace resource.
    factory_databricks = {
      principal_id = azurerm_data_factory.this.identity[0].principal_id
      role         = "Contributor"
      scope        = azurerm_databricks_workspace.this.id
    }
    # Invoking the batch endpoint and polling its job (Web activity, MSI) needs data-scientist rights.
    factory_azure_ml = {
      principal_id = azurerm_data_factory.this.identity[0].principal_id
      role         = "AzureML Data Scientist"
      scope        = azurerm_machine_learning_workspace.this.id
    }
    # Key Vault references in linked services resolve with the factory's identity.
    factory_key_vault = {
      principal_id = azurerm_data_factory.this.identity[0].principal_id
      role         = "Key Vault Secrets User"
      scope        = azurerm_key_vault.secrets.id
    }
    # Notebooks reach the lake through the access connector's identity, not a stored key or token.
    databricks_storage = {
      principal_id = azurerm_databricks_access_connector.this.identity[0].principal_id
      role         = "Storage Blob Data Contributor"
      scope        = azurerm_storage_account.data.id
    }
    # Training reads exactly the bytes data prep wrote; it never writes the lake's data containers.
    azure_ml_storage = {
      principal_id = azurerm_machine_learning_workspace.this.identity[0].principal_id
      role         = "Storage Blob Data Reader"
      scope        = azurerm_storage_account.data.id
    }
    # Training jobs run on the cluster with its identity: they read the prepared data ...
    training_compute_storage = {
      principal_id = azurerm_machine_learning_compute_cluster.training.identity[0].principal_id
      role         = "Storage Blob Data Reader"
      scope        = azurerm_storage_account.data.id
    }
    # ... and append their lineage record, write-once, to the archive (WORM policy: add, never change).
    training_compute_archive = {
      principal_id = azurerm_machine_learning_compute_cluster.training.identity[0].principal_id
      role         = "Storage Blob Data Contributor"
      scope        = azurerm_storage_container.this["archive"].id
    }
  }

  # Every resource that writes diagnostics, and whether it has platform metrics (Databricks has none).
  diagnostic_targets = {
    data_factory = { id = azurerm_data_factory.this.id, metrics = true }
    databricks   = { id = azurerm_databricks_workspace.this.id, metrics = false }
    key_vault    = { id = azurerm_key_vault.secrets.id, metrics = true }
    ml_key_vault = { id = azurerm_key_vault.ml.id, metrics = true }
    ml_workspace = { id = azurerm_machine_learning_workspace.this.id, metrics = true }
    # Blob reads, writes and deletes are logged on the blob service, not on the account.
    storage_blob = { id = "${azurerm_storage_account.data.id}/blobServices/default", metrics = true }
  }

  # Azure ML batch endpoints score at a URI derived from their name and region; the factory's Web activity
  # posts jobs there.
  training_endpoint_uri = "https://${var.azure_ml.training_endpoint_name}.${var.location}.inference.ml.azure.com/jobs"

  tags = merge(var.tags, { environment = var.environment, workload = var.prefix })
}
