resource "azurerm_resource_group" "this" {
  name     = "rg-${var.name}"
  location = var.location
  tags     = var.tags
}

resource "azurerm_virtual_network" "this" {
  name                = "vnet-${var.name}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  address_space       = ["10.42.0.0/16"]
  tags                = var.tags
}

# Nodes only: pods get addresses from the overlay network (network_plugin_mode overlay).
# The Microsoft.Storage service endpoint lets the renders account accept this subnet
# while denying every other network.
resource "azurerm_subnet" "nodes" {
  # checkov:skip=CKV2_AZURE_31: AKS manages a network security group on the node NICs in its node resource group; Cilium NetworkPolicies filter pod traffic.
  name                 = "snet-nodes"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = ["10.42.0.0/20"]
  service_endpoints    = ["Microsoft.Storage"]
}
