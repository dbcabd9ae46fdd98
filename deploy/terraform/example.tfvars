# Copy to terraform.tfvars (ignored by git) and fill in.
subscription_id        = "00000000-0000-0000-0000-000000000000"
name                   = "moonfarm"
location               = "westeurope"
worker_vm_size         = "Standard_F8s_v2"
worker_max_nodes       = 10
admin_group_object_ids = []
