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
