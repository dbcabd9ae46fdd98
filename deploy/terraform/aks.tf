resource "azurerm_log_analytics_workspace" "this" {
  name                = "log-${var.name}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku                 = "PerGB2018"
  retention_in_days   = 30
  tags                = var.tags
}

resource "azurerm_kubernetes_cluster" "this" {
  # checkov:skip=CKV_AZURE_115: a private API server needs a VPN or jump host to run kubectl; the API server is restricted by Entra ID + Azure RBAC (no local accounts) instead.
  # checkov:skip=CKV_AZURE_6: authorized IP ranges depend on where operators and CI connect from; set api_server_access_profile in a site-specific override.
  # checkov:skip=CKV_AZURE_117: a customer-managed disk encryption set is an organisation-wide choice; node disks use platform-managed encryption plus host encryption.
  # checkov:skip=CKV_AZURE_170: the Free tier has no uptime SLA; switch sku_tier to "Standard" for a production SLA (a cost decision, not a config error).
  # checkov:skip=CKV_AZURE_116: Azure Policy add-on is organisation governance; the namespace enforces the "restricted" Pod Security Standard itself.
  # checkov:skip=CKV_AZURE_232: the system pool also hosts RabbitMQ and the merger to keep a small farm at three regular nodes; add a separate user pool and set only_critical_addons_enabled = true when the cluster grows.
  # checkov:skip=CKV_AZURE_172: the Secrets Store CSI driver is not used; secrets are Kubernetes Secrets and workload identity tokens.
  name                = "aks-${var.name}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  dns_prefix          = var.name
  kubernetes_version  = var.kubernetes_version
  sku_tier            = "Free"

  # Upgrades: patch versions automatically, node OS images from the security channel.
  automatic_upgrade_channel = "patch"
  node_os_upgrade_channel   = "SecurityPatch"

  # Workload identity: pods exchange their ServiceAccount token for an Entra ID token
  # (deploy/terraform/identity.tf); no storage keys anywhere.
  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  # KEDA as a managed AKS add-on: its CRDs (ScaledObject, ScaledJob,
  # TriggerAuthentication) are installed with it, in kube-system.
  workload_autoscaler_profile {
    keda_enabled = true
  }

  # Users and CI authenticate with Entra ID; the static admin kubeconfig is disabled.
  local_account_disabled            = true
  role_based_access_control_enabled = true
  azure_active_directory_role_based_access_control {
    azure_rbac_enabled     = true
    tenant_id              = data.azurerm_client_config.current.tenant_id
    admin_group_object_ids = var.admin_group_object_ids
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_data_plane  = "cilium"
    # Cilium enforces the NetworkPolicies in deploy/k8s/networkpolicy.yaml.
    network_policy    = "cilium"
    load_balancer_sku = "standard"
    pod_cidr          = "10.244.0.0/16"
    service_cidr      = "10.43.0.0/16"
    dns_service_ip    = "10.43.0.10"
  }

  oms_agent {
    log_analytics_workspace_id      = azurerm_log_analytics_workspace.this.id
    msi_auth_for_monitoring_enabled = true
  }

  # System pool: cluster add-ons, RabbitMQ and the merger. Not spot: they must not be
  # evicted mid-render. "only_critical_addons_enabled" is off on purpose: it would taint
  # the pool CriticalAddonsOnly and leave RabbitMQ and the merger with no regular pool.
  default_node_pool {
    name                         = "system"
    vm_size                      = var.system_vm_size
    vnet_subnet_id               = azurerm_subnet.nodes.id
    auto_scaling_enabled         = true
    min_count                    = var.system_node_count.min
    max_count                    = var.system_node_count.max
    max_pods                     = 110
    os_disk_type                 = "Ephemeral"
    os_disk_size_gb              = 128
    host_encryption_enabled      = true
    only_critical_addons_enabled = false
    zones                        = ["1", "2", "3"]
    temporary_name_for_rotation  = "systemtmp"
    upgrade_settings {
      max_surge = "33%"
    }
    tags = var.tags
  }

  identity {
    type = "SystemAssigned"
  }

  # Scale down spot nodes soon after the render queue empties; they cost money idle.
  auto_scaler_profile {
    balance_similar_node_groups      = true
    expander                         = "least-waste"
    scale_down_unneeded              = "5m"
    scale_down_delay_after_add       = "5m"
    skip_nodes_with_local_storage    = false
    max_graceful_termination_sec     = "600"
    scale_down_utilization_threshold = "0.5"
  }

  tags = var.tags
}

# Render pool: spot VMs under the cluster autoscaler, from zero nodes. AKS labels and
# taints every spot node with kubernetes.azure.com/scalesetpriority=spot; the worker pods
# tolerate the taint and require the label (deploy/k8s/worker-deployment.yaml).
resource "azurerm_kubernetes_cluster_node_pool" "spot" {
  name                    = "render"
  kubernetes_cluster_id   = azurerm_kubernetes_cluster.this.id
  vm_size                 = var.worker_vm_size
  vnet_subnet_id          = azurerm_subnet.nodes.id
  mode                    = "User"
  priority                = "Spot"
  eviction_policy         = "Delete"
  spot_max_price          = var.spot_max_price
  auto_scaling_enabled    = true
  min_count               = 0
  max_count               = var.worker_max_nodes
  max_pods                = 110
  os_disk_type            = "Ephemeral"
  os_disk_size_gb         = 64
  host_encryption_enabled = true
  zones                   = ["1", "2", "3"]
  # AKS adds this taint to spot pools itself; declaring it keeps plans free of drift.
  node_taints = ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
  tags        = var.tags
}

# The identity that runs terraform may use kubectl on the cluster (Azure RBAC).
resource "azurerm_role_assignment" "deployer_cluster_admin" {
  scope                = azurerm_kubernetes_cluster.this.id
  role_definition_name = "Azure Kubernetes Service RBAC Cluster Admin"
  principal_id         = data.azurerm_client_config.current.object_id
}

# The kubeconfig for Entra ID login (no static admin credentials exist). Written as a
# plain file, mode 0600, with exactly the content AKS returns: no heredoc markers.
# Use it with kubelogin:  kubelogin convert-kubeconfig -l azurecli --kubeconfig <file>
resource "local_sensitive_file" "kubeconfig" {
  content         = azurerm_kubernetes_cluster.this.kube_config_raw
  filename        = coalesce(var.kubeconfig_path, "${path.root}/kubeconfig")
  file_permission = "0600"
}
