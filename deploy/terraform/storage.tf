# Renders: partial buffers from workers, snapshots and final EXRs from the merger
# (MOONFARM_BLOB_URL = az://renders). Access is by Entra ID only (workload identity):
# shared keys, SAS, local users and anonymous access are all disabled, and only the AKS
# node subnet may reach the account.
locals {
  # Globally unique, stable per subscription, <= 24 lowercase alphanumerics.
  storage_account_name = substr("${var.name}${substr(sha1(data.azurerm_client_config.current.subscription_id), 0, 8)}rdr", 0, 24)
}

resource "azurerm_storage_account" "renders" {
  # checkov:skip=CKV_AZURE_206: renders are reproducible from the scene; LRS is the cost choice, set account_replication_type = "ZRS"/"GRS" to keep them through a zone or region loss.
  # checkov:skip=CKV2_AZURE_1: customer-managed keys are an organisation-wide choice; data is encrypted at rest with Microsoft-managed keys plus infrastructure encryption.
  # checkov:skip=CKV2_AZURE_33: access is limited to the AKS subnet by service endpoint and network rules; a private endpoint would also need a private DNS zone for no added isolation here.
  # checkov:skip=CKV_AZURE_33: the Queue service is not used (RabbitMQ carries the queues), so there is no queue traffic to log.
  # checkov:skip=CKV_AZURE_59: public network access must stay enabled for the subnet service endpoint to apply; network_rules deny every other network (default_action = "Deny").
  # checkov:skip=CKV_AZURE_43: the name is computed (prefix + subscription hash), which checkov cannot evaluate; it is lowercase alphanumerics cut to 24 characters.
  # checkov:skip=CKV2_AZURE_41: SAS tokens cannot be used at all (shared_access_key_enabled = false), so there is no SAS expiration to set.
  name                              = local.storage_account_name
  resource_group_name               = azurerm_resource_group.this.name
  location                          = azurerm_resource_group.this.location
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = "LRS"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  local_user_enabled                = false
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = true

  network_rules {
    default_action             = "Deny"
    bypass                     = ["AzureServices", "Logging", "Metrics"]
    virtual_network_subnet_ids = [azurerm_subnet.nodes.id]
  }

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  tags = var.tags
}

# Created through Azure Resource Manager (storage_account_id), so terraform needs no
# data-plane access through the account's network rules.
resource "azurerm_storage_container" "renders" {
  # checkov:skip=CKV2_AZURE_21: blob read logging goes to the account's diagnostic settings, which are organisation-specific (a Log Analytics workspace or archive account).
  name                  = "renders"
  storage_account_id    = azurerm_storage_account.renders.id
  container_access_type = "private"
}
