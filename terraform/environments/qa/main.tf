# The qa environment: one call of modules/environment. Every environment sets the same arguments
# (`python -m infra validate` checks it); only the values differ.
terraform {
  required_version = ">= 1.7, < 2.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.42, < 5.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (see terraform/README.md).
  backend "azurerm" {}
}

provider "azurerm" {
  # The subscription comes from ARM_SUBSCRIPTION_ID. The module registers exactly the providers it uses.
  resource_provider_registrations = "none"
  storage_use_azuread             = true
  features {}
}

module "environment" {
  source = "../../modules/environment"

  environment                 = "qa"
  location                    = "westeurope"
  prefix                      = "porto"
  register_resource_providers = true

  azure_ml = {
    container_registry_sku = "Basic"
    training_compute = {
      max_nodes = 2
      vm_size   = "Standard_DS3_v2"
    }
    training_endpoint_name = "porto-training-qa"
  }
  databricks = {
    sku = "premium"
  }
  key_vault = {
    purge_protection_enabled   = true
    soft_delete_retention_days = 90
  }
  log_analytics = {
    daily_quota_gb    = 1
    retention_in_days = 30
  }
  storage = {
    archive_retention_days     = 30
    replication_type           = "ZRS"
    soft_delete_retention_days = 30
  }
  tags = {
    cost_center = "porto-seguro-ml"
  }
}
