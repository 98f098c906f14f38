"""secretless-aks: an AKS cluster whose workloads reach Azure with managed identities only.

This file only loads the stack's configuration, builds the components and exports outputs.
"""

import pulumi
from pulumi_azure_native import resources

from components.cluster import Cluster, ClusterArgs
from components.config import load_stack_config
from components.naming import EnvironmentNames
from components.network import Network, NetworkArgs

config = load_stack_config()
names = EnvironmentNames(config.stack)

resource_group = resources.ResourceGroup(
    "environment",
    resource_group_name=names.resource_group,
    location=config.location,
    opts=pulumi.ResourceOptions(protect=config.protect),
)

network = Network(
    "network",
    NetworkArgs(
        settings=config.network,
        names=names,
        resource_group_name=resource_group.name,
        location=resource_group.location,
        protect=config.protect,
    ),
)

cluster = Cluster(
    "cluster",
    ClusterArgs(
        settings=config.cluster,
        network=config.network,
        names=names,
        resource_group_name=resource_group.name,
        resource_group_id=resource_group.id,
        location=resource_group.location,
        node_subnet_id=network.node_subnet_id,
        protect=config.protect,
    ),
)

pulumi.export("resourceGroupName", resource_group.name)
pulumi.export("location", resource_group.location)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("clusterResourceId", cluster.cluster_id)
pulumi.export("nodeResourceGroup", cluster.node_resource_group)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export(
    "kubeletIdentity",
    {
        "clientId": cluster.kubelet_identity.client_id,
        "objectId": cluster.kubelet_identity.principal_id,
        "resourceId": cluster.kubelet_identity.id,
    },
)
