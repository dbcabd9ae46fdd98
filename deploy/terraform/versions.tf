terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.40"
    }
    local = {
      source  = "hashicorp/local"
      version = "~> 2.5"
    }
  }

  # State holds the cluster's kubeconfig: keep it in a remote backend with access control
  # (for example an azurerm backend in a separate, locked-down storage account), passed
  # at init time:  terraform init -backend-config=backend.hcl
  # backend "azurerm" {}
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
  # Data-plane calls use Entra ID, not account keys: shared keys are disabled on the
  # renders account.
  storage_use_azuread = true
}

data "azurerm_client_config" "current" {}
