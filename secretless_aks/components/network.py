"""The network for nodes and pods: a VNet and node subnet, or an existing subnet."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from secretless_aks.components import roles
from secretless_aks.components.config import NetworkConfig
from secretless_aks.components.naming import EnvironmentNames


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkConfig
    names: EnvironmentNames
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    # The deployment's, where a created VNet lives.
    subscription_id: pulumi.Input[str]
    # Adds the Microsoft.KeyVault service endpoint to a created node subnet.
    key_vault_service_endpoint: bool = False
    # Keep `pulumi destroy` and accidental replacements away from the VNet (prod).
    protect: bool = False


class Network(pulumi.ComponentResource):
    """Provides `node_subnet_id`: the subnet AKS places nodes and (Azure CNI) pods in, and
    `node_subnet_subscription_id`, the subscription it lives in (roles on it are named there).

    With `existingSubnetId` nothing is created; the platform team that owns the VNet keeps it,
    possibly in another subscription.
    """

    node_subnet_id: pulumi.Output[str]
    node_subnet_subscription_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:network:Network", name, None, opts)
        settings = args.settings
        if settings.existing_subnet_id is not None:
            self.node_subnet_id = pulumi.Output.from_input(settings.existing_subnet_id)
            self.node_subnet_subscription_id = pulumi.Output.from_input(
                roles.subscription_of(settings.existing_subnet_id)
            )
        else:
            assert settings.address_space is not None  # guaranteed by NetworkConfig
            assert settings.node_subnet_prefix is not None
            child = pulumi.ResourceOptions(parent=self, protect=args.protect)
            vnet = network.VirtualNetwork(
                f"{name}-vnet",
                resource_group_name=args.resource_group_name,
                location=args.location,
                virtual_network_name=args.names.virtual_network,
                address_space=network.AddressSpaceArgs(
                    address_prefixes=[str(settings.address_space)]
                ),
                # The node subnet is a resource of its own below; a VNet that also declared
                # it inline would fight it on every update.
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(ignore_changes=["subnets"])
                ),
            )
            subnet = network.Subnet(
                f"{name}-nodes",
                resource_group_name=args.resource_group_name,
                virtual_network_name=vnet.name,
                subnet_name=args.names.node_subnet,
                address_prefix=str(settings.node_subnet_prefix),
                service_endpoints=[
                    network.ServiceEndpointPropertiesFormatArgs(service="Microsoft.KeyVault")
                ]
                if args.key_vault_service_endpoint
                else None,
                opts=child,
            )
            self.node_subnet_id = subnet.id
            self.node_subnet_subscription_id = pulumi.Output.from_input(args.subscription_id)
        self.register_outputs(
            {
                "node_subnet_id": self.node_subnet_id,
                "node_subnet_subscription_id": self.node_subnet_subscription_id,
            }
        )
