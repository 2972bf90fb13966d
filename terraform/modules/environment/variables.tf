variable "azure_ml" {
  type = object({
    container_registry_sku = optional(string, "Basic")
    training_compute = optional(object({
      max_nodes = optional(number, 2)
      vm_size   = optional(string, "Standard_DS3_v2")
    }), {})
    training_endpoint_name = string
  })
  description = <<DESCRIPTION
Azure ML workspace settings.

- `container_registry_sku` - (Optional) SKU of the workspace's container registry: `Basic` (default, enough
  for one training image), `Standard` or `Premium` (private link, geo-replication, retention policies).
- `training_compute` - (Optional) The training compute cluster, named `cpu-<prefix>-<environment>`
  (`local.names.training_compute`, at most 16 characters) and always scaling to zero when idle; the deployer
  publishes the training component with it as default compute.
  - `max_nodes` - (Optional) Most nodes a run scales out to (1-100, default 2).
  - `vm_size` - (Optional) VM size of every node (default `Standard_DS3_v2`, 4 vCPUs, 14 GB); it needs regional
    quota for `max_nodes` of them.
- `training_endpoint_name` - (Required) Name of the batch endpoint the training pipeline component is deployed
  to (3-32 letters, digits and hyphens, starting with a letter). Terraform does not create the endpoint (the
  azurerm provider has no batch endpoint resource); it only derives its scoring URI for the spec.
DESCRIPTION
  nullable    = false

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.azure_ml.container_registry_sku)
    error_message = "azure_ml.container_registry_sku must be one of Basic, Standard, Premium."
  }
  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$", var.azure_ml.training_endpoint_name))
    error_message = "azure_ml.training_endpoint_name must be 3-32 letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
  validation {
    condition     = var.azure_ml.training_compute.max_nodes >= 1 && var.azure_ml.training_compute.max_nodes <= 100 && floor(var.azure_ml.training_compute.max_nodes) == var.azure_ml.training_compute.max_nodes
    error_message = "azure_ml.training_compute.max_nodes must be a whole number between 1 and 100."
  }
  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.azure_ml.training_compute.vm_size))
    error_message = "azure_ml.training_compute.vm_size must be an Azure VM size such as `Standard_DS3_v2`."
  }
}

variable "environment" {
  type        = string
  description = <<DESCRIPTION
Short environment name (`dev`, `qa`, `prod`): 2-4 lowercase letters or digits, starting with a letter.
It ends every resource name, so it is short enough for the 24-character storage account and Key Vault limits.
DESCRIPTION
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,3}$", var.environment))
    error_message = "environment must be 2-4 lowercase letters or digits starting with a letter, for example `qa`."
  }
}

variable "location" {
  type        = string
  description = <<DESCRIPTION
Azure region in its short form (`westeurope`), used for every resource and for the batch endpoint's
scoring URI (`https://<endpoint>.<location>.inference.ml.azure.com`).
DESCRIPTION
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]+[a-z0-9]*$", var.location))
    error_message = "location must be the short lowercase region name, for example `westeurope` (not `West Europe`)."
  }
}

variable "prefix" {
  type        = string
  description = <<DESCRIPTION
Workload prefix every resource name derives from (see `local.names`): 3-10 lowercase letters or digits,
starting with a letter, because storage accounts and container registries allow no hyphens and storage
account names stop at 24 characters. The Azure ML compute name `cpu-<prefix>-<environment>` stops at 16, so
prefix and environment together may have at most 11 characters (`porto` + `prod` has 9). Storage account
and Key Vault names are global: pick a prefix nobody else uses.
DESCRIPTION
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,9}$", var.prefix))
    error_message = "prefix must be 3-10 lowercase letters or digits starting with a letter, for example `porto`."
  }
}

variable "databricks" {
  type = object({
    sku = optional(string, "premium")
  })
  default     = {}
  description = <<DESCRIPTION
Databricks workspace settings.

- `sku` - (Optional) `premium` (default; needed for role-based access control and Unity Catalog) or `trial`.
DESCRIPTION
  nullable    = false

  validation {
    condition     = contains(["premium", "trial"], var.databricks.sku)
    error_message = "databricks.sku must be `premium` or `trial` (the standard tier is retired for new workspaces)."
  }
}

variable "key_vault" {
  type = object({
    purge_protection_enabled   = optional(bool, true)
    soft_delete_retention_days = optional(number, 90)
  })
  default     = {}
  description = <<DESCRIPTION
Settings shared by the secrets Key Vault and the Azure ML workspace's Key Vault.

- `purge_protection_enabled` - (Optional) Keep deleted secrets until the retention ends (default true).
  Turn off only for throw-away environments: a purge-protected vault name stays taken for the retention.
- `soft_delete_retention_days` - (Optional) 7-90 days (default 90).
DESCRIPTION
  nullable    = false

  validation {
    condition     = var.key_vault.soft_delete_retention_days >= 7 && var.key_vault.soft_delete_retention_days <= 90
    error_message = "key_vault.soft_delete_retention_days must be between 7 and 90."
  }
}

variable "log_analytics" {
  type = object({
    daily_quota_gb    = optional(number, 1)
    retention_in_days = optional(number, 30)
  })
  default     = {}
  description = <<DESCRIPTION
Log Analytics workspace that every diagnostic setting and Application Insights write to.

- `daily_quota_gb` - (Optional) Ingestion cap per day in GB, so a noisy loop cannot run up the bill
  (default 1; -1 for no cap).
- `retention_in_days` - (Optional) 30-730 days (default 30, the free retention).
DESCRIPTION
  nullable    = false

  validation {
    condition     = var.log_analytics.retention_in_days >= 30 && var.log_analytics.retention_in_days <= 730
    error_message = "log_analytics.retention_in_days must be between 30 and 730."
  }
  validation {
    condition     = var.log_analytics.daily_quota_gb == -1 || var.log_analytics.daily_quota_gb > 0
    error_message = "log_analytics.daily_quota_gb must be positive, or -1 for no cap."
  }
}

variable "register_resource_providers" {
  type        = bool
  default     = true
  description = <<DESCRIPTION
Register the resource providers this environment uses (`local.resource_providers`, including
Microsoft.EventGrid, which the factory's blob event trigger needs). Registration is per subscription: set
false in every environment but one when several environments share a subscription.
DESCRIPTION
  nullable    = false
}

variable "storage" {
  type = object({
    archive_retention_days     = optional(number, 365)
    containers                 = optional(map(string), {})
    replication_type           = optional(string, "ZRS")
    soft_delete_retention_days = optional(number, 30)
  })
  default     = {}
  description = <<DESCRIPTION
Data Lake (ADLS Gen2) storage account the factory watches and writes to.

- `archive_retention_days` - (Optional) Days every blob in the archive container (exact input bytes and
  lineage manifests) stays immutable under its WORM policy (default 365, at least 1).
- `containers` - (Optional) Container name per role; the keys are the spec's `storage.containers` roles
  (`input`, `training`, `testing`, `rejected`, `archive`) and a missing role takes its own name.
- `replication_type` - (Optional) `LRS`, `ZRS` (default), `GRS`, `RAGRS`, `GZRS` or `RAGZRS`.
- `soft_delete_retention_days` - (Optional) Days deleted blobs and containers can be restored (1-365,
  default 30).
DESCRIPTION
  nullable    = false

  validation {
    condition     = alltrue([for role in keys(var.storage.containers) : contains(["archive", "input", "rejected", "testing", "training"], role)])
    error_message = "storage.containers keys must be roles: archive, input, rejected, testing, training."
  }
  validation {
    condition     = alltrue([for name in values(var.storage.containers) : can(regex("^[a-z0-9](-?[a-z0-9])+$", name)) && length(name) >= 3 && length(name) <= 63])
    error_message = "storage.containers values must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }
  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.storage.replication_type)
    error_message = "storage.replication_type must be one of LRS, ZRS, GRS, RAGRS, GZRS, RAGZRS."
  }
  validation {
    condition     = var.storage.soft_delete_retention_days >= 1 && var.storage.soft_delete_retention_days <= 365
    error_message = "storage.soft_delete_retention_days must be between 1 and 365."
  }
  validation {
    condition     = var.storage.archive_retention_days >= 1 && var.storage.archive_retention_days <= 146000
    error_message = "storage.archive_retention_days must be between 1 and 146000."
  }
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to every resource, on top of `environment` and `workload` (the prefix)."
  nullable    = false
}
