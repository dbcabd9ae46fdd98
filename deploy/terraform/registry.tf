# The container registry the image is pushed to (deploy/README.md, "Build and push the
# image") and the cluster pulls from. No admin user and no anonymous pull: the kubelet's
# identity pulls with AcrPull, people and CI push with AcrPush (var.registry_pusher_ids)
# after `az acr login`, or build in the registry with `az acr build`.
locals {
  # Globally unique, stable per subscription, 5-50 alphanumerics.
  registry_name = "${var.name}${substr(sha1(data.azurerm_client_config.current.subscription_id), 0, 8)}acr"
}

resource "azurerm_container_registry" "this" {
  # checkov:skip=CKV_AZURE_139: network-restricted registries need the Premium SKU and a private endpoint or IP rules; the registry holds only the public Moonfarm image and takes Entra ID logins only (no admin user, no anonymous pull).
  # checkov:skip=CKV_AZURE_163: image scanning is Microsoft Defender for Containers, enabled per subscription (an organisation-wide choice).
  # checkov:skip=CKV_AZURE_164: content trust needs the Premium SKU; pin the image by digest in the overlay (kustomize `images:` digest) instead.
  # checkov:skip=CKV_AZURE_165: geo-replication needs the Premium SKU; one region serves one cluster.
  # checkov:skip=CKV_AZURE_166: quarantine needs the Premium SKU and a scanner; see CKV_AZURE_163.
  # checkov:skip=CKV_AZURE_167: a retention policy for untagged manifests needs the Premium SKU; untagged manifests are few (one image, tagged releases).
  # checkov:skip=CKV_AZURE_233: zone redundancy needs the Premium SKU; an unavailable registry only delays new pulls, nodes keep their cached image.
  # checkov:skip=CKV_AZURE_237: dedicated data endpoints need the Premium SKU and matter only behind a firewall (see CKV_AZURE_139).
  name                          = local.registry_name
  resource_group_name           = azurerm_resource_group.this.name
  location                      = azurerm_resource_group.this.location
  sku                           = "Standard"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = true
  tags                          = var.tags
}

# The nodes' kubelet identity pulls the image; no imagePullSecrets anywhere.
resource "azurerm_role_assignment" "kubelet_acr_pull" {
  scope                            = azurerm_container_registry.this.id
  role_definition_name             = "AcrPull"
  principal_id                     = azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id
  skip_service_principal_aad_check = true
}

resource "azurerm_role_assignment" "registry_push" {
  for_each             = var.registry_pusher_ids
  scope                = azurerm_container_registry.this.id
  role_definition_name = "AcrPush"
  principal_id         = each.value
}
