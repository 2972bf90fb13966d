# Remote state for dev, in the state account bootstrapped once per subscription (terraform/README.md).
# Entra ID auth: the caller needs Storage Blob Data Contributor on the tfstate container, no account key.
container_name       = "tfstate"
key                  = "porto-dev.tfstate"
resource_group_name  = "rg-porto-tfstate"
storage_account_name = "stportotfstatedev"
use_azuread_auth     = true
