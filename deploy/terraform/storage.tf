# Renders: partial buffers from workers, snapshots and final EXRs from the merger
# (MOONFARM_BLOB_URL = az://renders). Access is by Entra ID only (workload identity in the
# cluster; `az login` or a service principal from outside, identity.tf): shared keys,
# local users and anonymous access are all disabled. Only the AKS node subnet and
# var.client_ip_ranges may reach the account; for clients on a private network instead,
# see deploy/README.md ("Private endpoint instead of client IP ranges").
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
  # checkov:skip=CKV2_AZURE_41: account-key SAS cannot be issued (shared_access_key_enabled = false); user delegation SAS are signed with Entra ID and Azure caps them at 7 days, so there is no SAS expiration policy to set.
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
    # Laptops and CI that run `producer` from outside the cluster.
    ip_rules = var.client_ip_ranges
  }

  blob_properties {
    # Lets the lifecycle policy expire scenes by last read, not by upload time (a scene
    # is uploaded once and then shared by every job that renders it).
    last_access_time_enabled = true
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

# Leftovers: a job's blobs (jobs/<id>/: partials a crashed or cancelled job left behind,
# snapshots, the final EXR, its status) expire var.render_retention_days after their last
# write, scenes (scenes/<sha256>) that long after their last read. Fetch what you keep.
# Soft delete (delete_retention_policy above) keeps expired blobs 7 more days.
resource "azurerm_storage_management_policy" "renders" {
  storage_account_id = azurerm_storage_account.renders.id

  rule {
    name    = "expire-jobs"
    enabled = true
    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${azurerm_storage_container.renders.name}/jobs/"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.render_retention_days
      }
    }
  }

  rule {
    name    = "expire-unused-scenes"
    enabled = true
    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${azurerm_storage_container.renders.name}/scenes/"]
    }
    actions {
      base_blob {
        delete_after_days_since_last_access_time_greater_than = var.render_retention_days
      }
    }
  }
}
