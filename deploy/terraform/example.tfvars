# Copy to terraform.tfvars (ignored by git) and fill in.
subscription_id        = "00000000-0000-0000-0000-000000000000"
name                   = "moonfarm"
location               = "westeurope"
worker_vm_size         = "Standard_F8s_v2"
worker_max_nodes       = 10
admin_group_object_ids = []
# Who runs `producer` from outside the cluster, and from where (deploy/README.md).
producer_principal_ids = [] # e.g. ["$(az ad signed-in-user show --query id -o tsv)"]
client_ip_ranges       = [] # e.g. ["203.0.113.7"]: your public address, no /32
registry_pusher_ids    = [] # who may push the image (AcrPush)
render_retention_days  = 30
