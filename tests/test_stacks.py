"""The two environments, and the rules every component follows."""

from __future__ import annotations

import re

from secretless_aks.offline.harness import RecordedGraph
from tests.graph_queries import MANAGED_CLUSTER

STATEFUL = {
    "azure-native:resources:ResourceGroup",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:Subnet",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:keyvault:Vault",
    # The vault name's random part: replacing it would replace the vault.
    "random:index/randomString:RandomString",
    # The audit logs' workspace: deleting it would lose who read what.
    "azure-native:operationalinsights:Workspace",
}


def _pool(graph: RecordedGraph) -> dict:
    (pool,) = graph.by_type(MANAGED_CLUSTER)[0].inputs["agentPoolProfiles"]
    return pool


def test_prod_runs_more_and_larger_nodes_across_zones(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    assert (_pool(dev)["count"], _pool(dev)["vmSize"]) == (1, "Standard_D2s_v5")
    assert (_pool(prod)["count"], _pool(prod)["vmSize"]) == (3, "Standard_D4s_v5")
    assert "availabilityZones" not in _pool(dev)
    assert _pool(prod)["availabilityZones"] == ["1", "2", "3"]


def test_prod_pays_for_the_sla_backed_tier_and_pins_kubernetes(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    dev_cluster = dev.by_type(MANAGED_CLUSTER)[0].inputs
    prod_cluster = prod.by_type(MANAGED_CLUSTER)[0].inputs
    assert dev_cluster["sku"] == {"name": "Base", "tier": "Free"}
    assert prod_cluster["sku"] == {"name": "Base", "tier": "Standard"}
    assert "kubernetesVersion" not in dev_cluster
    assert prod_cluster["kubernetesVersion"] == "1.35"


def test_prod_protects_stateful_resources_and_dev_protects_nothing(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    assert [r.name for r in dev.resources if r.protect] == []
    protected = {r.name for r in prod.resources if r.protect}
    stateful = {r.name for r in prod.resources if r.type in STATEFUL}
    assert protected == stateful
    assert len(stateful) == 9


def test_environments_do_not_share_names(dev: RecordedGraph, prod: RecordedGraph) -> None:
    assert dev.outputs["resourceGroupName"] == "rg-secretless-dev"
    assert prod.outputs["resourceGroupName"] == "rg-secretless-prod"
    assert dev.outputs["clusterName"] != prod.outputs["clusterName"]


def test_components_use_project_type_tokens_and_name_children_after_themselves(
    dev: RecordedGraph,
) -> None:
    components = [r for r in dev.resources if not r.custom]
    assert {r.type for r in components} == {
        "secretless-aks:network:Network",
        "secretless-aks:cluster:Cluster",
        "secretless-aks:keyvault:KeyVault",
        "secretless-aks:kubernetes:KubernetesPlatform",
        "secretless-aks:registry:RegistryAccess",
        "secretless-aks:service:ServiceIdentity",  # the sample application's
    }
    for component in components:
        assert re.fullmatch(r"secretless-aks:[a-z]+:[A-Z][A-Za-z]+", component.type)
        children = dev.children(component)
        assert children, f"{component.name} has no children"
        for child in children:
            assert child.name.startswith(f"{component.name}-"), child.urn


def test_every_logical_name_is_unique(dev: RecordedGraph, prod: RecordedGraph) -> None:
    for graph in (dev, prod):
        names = [r.name for r in graph.resources]
        assert len(names) == len(set(names))
