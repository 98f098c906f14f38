"""The node network: a VNet and a standalone subnet, or an existing subnet."""

from __future__ import annotations

from secretless_aks.offline.harness import RecordedGraph, run_program
from tests.graph_queries import MANAGED_CLUSTER, grants_to
from tests.stack_configs import stack_config

VIRTUAL_NETWORK = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
EXISTING_SUBNET = (
    "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-hub"
    "/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks"
)


def test_vnet_and_node_subnet_are_separate_resources(dev: RecordedGraph) -> None:
    component = dev.named("network")
    (vnet,) = dev.by_type(VIRTUAL_NETWORK)
    (subnet,) = dev.by_type(SUBNET)
    assert component.type == "secretless-aks:network:Network"
    assert vnet.parent == subnet.parent == component.urn
    assert vnet.inputs["virtualNetworkName"] == "vnet-secretless-dev"
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.40.0.0/16"]}
    assert "subnets" not in vnet.inputs
    # The standalone subnet owns the subnet list; the VNet must not fight it on update.
    assert vnet.options["ignoreChanges"] == ["subnets"]
    assert subnet.inputs["addressPrefix"] == "10.40.0.0/22"
    assert subnet.inputs["virtualNetworkName"] == "vnet-secretless-dev"
    assert subnet.property_dependencies["virtualNetworkName"] == (vnet.urn,)


def test_existing_subnet_is_used_as_is_and_nothing_is_created() -> None:
    graph = run_program(
        "dev",
        config=stack_config(
            network={
                "existingSubnetId": EXISTING_SUBNET,
                "addressSpace": None,
                "nodeSubnetPrefix": None,
            }
        ),
    )
    assert graph.by_type(VIRTUAL_NETWORK) == []
    assert graph.by_type(SUBNET) == []
    (pool,) = graph.by_type(MANAGED_CLUSTER)[0].inputs["agentPoolProfiles"]
    assert pool["vnetSubnetID"] == EXISTING_SUBNET
    control_plane = graph.named("cluster-controlplane-identity")
    assert ("Network Contributor", EXISTING_SUBNET) in grants_to(graph, control_plane)
