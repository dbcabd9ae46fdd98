variable "subscription_id" {
  description = "Azure subscription to deploy into."
  type        = string
}

variable "name" {
  description = "Prefix for every resource name (lowercase letters and digits, 3-11 chars)."
  type        = string
  default     = "moonfarm"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,10}$", var.name))
    error_message = "name must be 3-11 lowercase letters or digits, starting with a letter (it is part of the storage account name)."
  }
}

variable "location" {
  description = "Azure region."
  type        = string
  default     = "westeurope"
}

variable "kubernetes_version" {
  description = "AKS Kubernetes version (minor, e.g. \"1.33\"); null takes the region's default. deploy/validate.sh validates manifests against the versions in its K8S_VERSIONS."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Kubernetes namespace of the Moonfarm workloads; must match the kustomize overlay."
  type        = string
  default     = "moonfarm"
}

variable "service_accounts" {
  description = "Kubernetes ServiceAccounts (in var.namespace) federated with the blob identity; must match deploy/k8s/serviceaccounts.yaml."
  type        = set(string)
  default     = ["moonfarm-worker", "moonfarm-merger"]
}

variable "system_vm_size" {
  description = "VM size of the system pool (RabbitMQ, merger, cluster add-ons)."
  type        = string
  default     = "Standard_D4ds_v5"
}

variable "system_node_count" {
  description = "Min and max node count of the system pool. At least 3 for RabbitMQ's three nodes (one per node)."
  type        = object({ min = number, max = number })
  default     = { min = 3, max = 5 }
}

variable "worker_vm_size" {
  description = "VM size of the spot render pool. See deploy/README.md, Sizing."
  type        = string
  default     = "Standard_F8s_v2"
}

variable "worker_max_nodes" {
  description = "Upper bound of the spot render pool (it scales from 0)."
  type        = number
  default     = 10
}

variable "spot_max_price" {
  description = "Highest hourly price per spot VM, in USD; -1 pays up to the on-demand price (evictions then only for capacity)."
  type        = number
  default     = -1
}

variable "admin_group_object_ids" {
  description = "Entra ID groups granted cluster admin through Azure RBAC."
  type        = list(string)
  default     = []
}

variable "kubeconfig_path" {
  description = "Where to write the cluster's kubeconfig (mode 0600)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = { app = "moonfarm" }
}

variable "producer_service_account" {
  description = "Kubernetes ServiceAccount (in var.namespace) of the in-cluster producer Job, federated with its own identity; must match deploy/k8s/serviceaccounts.yaml."
  type        = string
  default     = "moonfarm-producer"
}

variable "producer_principal_ids" {
  description = "Entra ID object ids (users, groups or service principals) that run `producer` from outside the cluster; each is granted Storage Blob Data Contributor on the renders account. A user's id: `az ad signed-in-user show --query id -o tsv`."
  type        = set(string)
  default     = []
}

variable "client_ip_ranges" {
  description = "Public IPv4 addresses or CIDR ranges (at most /30: Azure Storage takes single addresses without /32) allowed through the renders account's firewall, e.g. the office's egress or your laptop's (`curl -s https://api.ipify.org`). Empty: only the AKS subnet reaches the account."
  type        = list(string)
  default     = []
  validation {
    condition = alltrue([
      for r in var.client_ip_ranges :
      can(regex("^([0-9]{1,3}\\.){3}[0-9]{1,3}(/([0-9]|[12][0-9]|30))?$", r))
    ])
    error_message = "client_ip_ranges: each entry is an IPv4 address (no /32) or a CIDR range of /30 or wider, e.g. \"203.0.113.7\" or \"198.51.100.0/24\"."
  }
}

variable "registry_pusher_ids" {
  description = "Entra ID object ids (users, groups or CI service principals) granted AcrPush on the registry, to push the Moonfarm image."
  type        = set(string)
  default     = []
}

variable "render_retention_days" {
  description = "Blob lifecycle: a job's blobs (partials, snapshots, final EXR, status) are deleted this many days after they were last written, and a scene that many days after it was last read."
  type        = number
  default     = 30
  validation {
    condition     = var.render_retention_days >= 1 && floor(var.render_retention_days) == var.render_retention_days
    error_message = "render_retention_days must be a whole number of days, at least 1."
  }
}
