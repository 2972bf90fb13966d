# The variables' validation blocks reject what Azure would reject, before any API call.
# Run as environment.tftest.hcl says.

mock_provider "azurerm" {}

variables {
  environment = "qa"
  location    = "westeurope"
  prefix      = "porto"
  azure_ml = {
    training_endpoint_name = "porto-training-qa"
  }
}

run "prefix_with_uppercase_or_hyphen_is_rejected" {
  command = plan

  variables {
    prefix = "Porto-Seguro"
  }

  expect_failures = [var.prefix]
}

run "prefix_too_long_for_a_storage_account_is_rejected" {
  command = plan

  variables {
    prefix = "portosegurodata"
  }

  expect_failures = [var.prefix]
}

run "environment_longer_than_four_characters_is_rejected" {
  command = plan

  variables {
    environment = "staging"
  }

  expect_failures = [var.environment]
}

run "display_name_location_is_rejected" {
  command = plan

  variables {
    location = "West Europe"
  }

  expect_failures = [var.location]
}

run "container_names_follow_azure_rules" {
  command = plan

  variables {
    storage = {
      containers = { input = "Input_Files" }
    }
  }

  expect_failures = [var.storage]
}

run "unknown_container_role_is_rejected" {
  command = plan

  variables {
    storage = {
      containers = { quarantine = "quarantine" }
    }
  }

  expect_failures = [var.storage]
}

run "endpoint_name_follows_azure_ml_rules" {
  command = plan

  variables {
    azure_ml = {
      training_endpoint_name = "-training"
    }
  }

  expect_failures = [var.azure_ml]
}

run "compute_max_nodes_below_one_is_rejected" {
  command = plan

  variables {
    azure_ml = {
      training_compute       = { max_nodes = 0 }
      training_endpoint_name = "porto-training-qa"
    }
  }

  expect_failures = [var.azure_ml]
}

run "compute_name_longer_than_sixteen_characters_is_refused_at_plan" {
  command = plan

  variables {
    environment = "prod"
    prefix      = "portoseg" # cpu-portoseg-prod: 17 characters
  }

  expect_failures = [azurerm_machine_learning_compute_cluster.training]
}
