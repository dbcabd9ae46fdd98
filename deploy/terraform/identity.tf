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
