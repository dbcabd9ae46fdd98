output "resource_group_name" {
  value = azurerm_resource_group.this.name
}

output "cluster_name" {
  value = azurerm_kubernetes_cluster.this.name
}

output "kubeconfig_path" {
  description = "kubeconfig written by terraform (mode 0600); convert it with kubelogin before use."
  value       = local_sensitive_file.kubeconfig.filename
}

output "oidc_issuer_url" {
  value = azurerm_kubernetes_cluster.this.oidc_issuer_url
}

output "storage_account_name" {
  description = "Set as AZURE_STORAGE_ACCOUNT_NAME in the overlay's moonfarm-blob ConfigMap."
  value       = azurerm_storage_account.renders.name
}

output "blob_container" {
  value = azurerm_storage_container.renders.name
}

output "workload_identity_client_id" {
  description = "Set as the azure.workload.identity/client-id annotation on the ServiceAccounts (overlay)."
  value       = azurerm_user_assigned_identity.blob.client_id
}

output "tenant_id" {
  value = data.azurerm_client_config.current.tenant_id
}

output "producer_identity_client_id" {
  description = "Set as the azure.workload.identity/client-id annotation on the moonfarm-producer ServiceAccount (overlay)."
  value       = azurerm_user_assigned_identity.producer.client_id
}

output "registry_login_server" {
  description = "Push the image here (az acr login --name <registry_name>) and set it as the overlay's image newName."
  value       = azurerm_container_registry.this.login_server
}

output "registry_name" {
  value = azurerm_container_registry.this.name
}
