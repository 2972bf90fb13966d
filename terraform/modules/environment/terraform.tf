terraform {
  # 1.7 is the first release whose `terraform test` has mock providers: terraform/tests/ plans offline.
  required_version = ">= 1.7, < 2.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # 4.42 is the first 4.x with every argument used here (rbac_authorization_enabled, enabled_metric);
      # the upper bound keeps a major release from arriving unreviewed.
      version = ">= 4.42, < 5.0"
    }
  }
}
