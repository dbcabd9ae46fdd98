# The identity the worker and merger pods act as towards Blob Storage.
resource "azurerm_user_assigned_identity" "blob" {
  name                = "id-${var.name}-blob"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = var.tags
}

# Read/write blobs in the renders account: partial buffers, snapshots, final EXRs.
resource "azurerm_role_assignment" "blob_data_contributor" {
  scope                = azurerm_storage_account.renders.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.blob.principal_id
}

# Trust tokens that the cluster's OIDC issuer signs for these ServiceAccounts (and no
# other): the subject must equal system:serviceaccount:<namespace>:<name> exactly.
# deploy/tests/test_manifests.py checks these names against deploy/k8s.
resource "azurerm_federated_identity_credential" "blob" {
  for_each            = var.service_accounts
  name                = "fic-${each.value}"
  resource_group_name = azurerm_resource_group.this.name
  parent_id           = azurerm_user_assigned_identity.blob.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = azurerm_kubernetes_cluster.this.oidc_issuer_url
  subject             = "system:serviceaccount:${var.namespace}:${each.value}"
}

# The in-cluster producer (deploy/producer: `producer submit` as a Kubernetes Job) acts as
# an identity of its own, so its access can be granted, audited and revoked apart from the
# farm's: the same blob role, federated only with the producer's ServiceAccount.
resource "azurerm_user_assigned_identity" "producer" {
  name                = "id-${var.name}-producer"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = var.tags
}

resource "azurerm_role_assignment" "producer_blob_data_contributor" {
  scope                = azurerm_storage_account.renders.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.producer.principal_id
}

resource "azurerm_federated_identity_credential" "producer" {
  name                = "fic-${var.producer_service_account}"
  resource_group_name = azurerm_resource_group.this.name
  parent_id           = azurerm_user_assigned_identity.producer.id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = azurerm_kubernetes_cluster.this.oidc_issuer_url
  subject             = "system:serviceaccount:${var.namespace}:${var.producer_service_account}"
}

# People and service principals who run `producer` from their own machine
# (MOONFARM_AZURE_AUTH=cli or service-principal): they read and write the renders
# container as themselves. Their address must also be in var.client_ip_ranges.
resource "azurerm_role_assignment" "producer_principals" {
  for_each             = var.producer_principal_ids
  scope                = azurerm_storage_account.renders.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = each.value
}
