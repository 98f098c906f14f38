"""The cluster, its control-plane and kubelet identities, and the order Azure needs."""

from __future__ import annotations

import pytest

from secretless_aks.components import azure_limits
from secretless_aks.components.cluster import CRITICAL_ADDONS_ONLY_TAINT, user_pool_name
from secretless_aks.components.config import UserPoolConfig
from secretless_aks.offline.harness import RecordedGraph, run_program
from tests.graph_queries import (
    IDENTITY,
    KUBELET_PULLS_FROM_REGISTRY,
    MANAGED_CLUSTER,
    ROLE_ASSIGNMENT,
    grants_to,
)
from tests.stack_configs import stack_config

AGENT_POOL = "azure-native:containerservice:AgentPool"
MAINTENANCE_CONFIGURATION = "azure-native:containerservice:MaintenanceConfiguration"


def test_cluster_owns_a_control_plane_and_a_kubelet_identity(dev: RecordedGraph) -> None:
    component = dev.named("cluster")
    # Every other identity is a service's (the dev stack runs the sample application).
    identities = {r.name: r for r in dev.by_type(IDENTITY) if not r.name.startswith("svc-")}
    assert set(identities) == {"cluster-controlplane-identity", "cluster-kubelet-identity"}
    assert identities["cluster-controlplane-identity"].inputs["resourceName"] == (
        "id-secretless-dev-controlplane"
    )
    assert identities["cluster-kubelet-identity"].inputs["resourceName"] == (
        "id-secretless-dev-kubelet"
    )
    assert all(identity.parent == component.urn for identity in identities.values())


def test_control_plane_gets_exactly_its_two_roles_at_the_narrowest_scopes(
    dev: RecordedGraph,
) -> None:
    # No Reader on the resource group: AKS does not need it (aks-baseline and the Azure
    # Verified Module grant these two only).
    control_plane = dev.named("cluster-controlplane-identity")
    kubelet = dev.named("cluster-kubelet-identity")
    subnet = dev.named("network-nodes")
    assert grants_to(dev, control_plane) == {
        ("Managed Identity Operator", kubelet.outputs["id"]),
        ("Network Contributor", subnet.outputs["id"]),
    }
    # The kubelet identity pulls images, and needs nothing more while no service uses AAD Pod
    # Identity.
    assert grants_to(dev, kubelet) == {KUBELET_PULLS_FROM_REGISTRY}


def test_cluster_runs_as_the_control_plane_identity(dev: RecordedGraph) -> None:
    cluster = dev.by_type(MANAGED_CLUSTER)[0]
    control_plane = dev.named("cluster-controlplane-identity")
    assert cluster.inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [control_plane.outputs["id"]],
    }
    assert control_plane.urn in cluster.property_dependencies["identity"]


def test_kubelet_identity_is_wired_by_resource_client_and_object_id(dev: RecordedGraph) -> None:
    cluster = dev.by_type(MANAGED_CLUSTER)[0]
    kubelet = dev.named("cluster-kubelet-identity")
    assert cluster.inputs["identityProfile"] == {
        "kubeletidentity": {
            "resourceId": kubelet.outputs["id"],
            "clientId": kubelet.outputs["clientId"],
            "objectId": kubelet.outputs["principalId"],
        }
    }
    # A data link, not a coincidence of names.
    assert cluster.property_dependencies["identityProfile"] == (kubelet.urn,)


def test_cluster_is_created_after_the_control_plane_role_assignments(dev: RecordedGraph) -> None:
    cluster = dev.by_type(MANAGED_CLUSTER)[0]
    control_plane_roles = [
        r.urn for r in dev.by_type(ROLE_ASSIGNMENT) if r.name.startswith("cluster-controlplane-")
    ]
    assert len(control_plane_roles) == 2
    # Through the wait for them to propagate (tests/test_propagation_wait.py).
    wait = dev.named("cluster-controlplane-grants-propagation")
    assert wait.urn in cluster.dependencies
    assert set(control_plane_roles) == set(wait.dependencies)
    registered = [r.urn for r in dev.resources]
    assert all(registered.index(urn) < registered.index(cluster.urn) for urn in control_plane_roles)


def test_cluster_trusts_entra_id_and_its_oidc_issuer_with_no_local_accounts(
    dev: RecordedGraph,
) -> None:
    inputs = dev.by_type(MANAGED_CLUSTER)[0].inputs
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    assert inputs["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "adminGroupObjectIDs": [],
    }
    assert inputs["enableRBAC"] is True
    assert inputs["disableLocalAccounts"] is True


def test_cluster_uses_azure_cni_on_the_node_subnet(dev: RecordedGraph) -> None:
    inputs = dev.by_type(MANAGED_CLUSTER)[0].inputs
    subnet = dev.named("network-nodes")
    (pool,) = inputs["agentPoolProfiles"]
    assert pool["vnetSubnetID"] == subnet.outputs["id"]
    assert pool["mode"] == "System"
    assert pool["maxPods"] == 30
    assert pool["upgradeSettings"] == {"maxSurge": "1"}
    # Exactly what the program means: no SDK default such as podCidr, which classic Azure CNI
    # does not use and which would show as a diff after every refresh.
    assert inputs["networkProfile"] == {
        "networkPlugin": "azure",
        "networkPolicy": "azure",
        "loadBalancerSku": "standard",
        "outboundType": "loadBalancer",
        "serviceCidr": "172.16.0.0/16",
        "dnsServiceIP": "172.16.0.10",
    }


def test_cluster_and_node_resource_group_are_named_for_the_stack(dev: RecordedGraph) -> None:
    inputs = dev.by_type(MANAGED_CLUSTER)[0].inputs
    assert inputs["resourceName"] == "aks-secretless-dev"
    assert inputs["dnsPrefix"] == "aks-secretless-dev"
    assert inputs["resourceGroupName"] == "rg-secretless-dev"
    assert inputs["nodeResourceGroup"] == "rg-secretless-dev-nodes"
    assert dev.outputs["nodeResourceGroup"] == "rg-secretless-dev-nodes"


def test_oidc_issuer_output_is_the_clusters_own_url_with_its_trailing_slash(
    dev: RecordedGraph,
) -> None:
    cluster = dev.by_type(MANAGED_CLUSTER)[0]
    issuer = cluster.outputs["oidcIssuerProfile"]["issuerURL"]
    assert dev.outputs["oidcIssuerUrl"] == issuer
    assert issuer.endswith("/")


def test_kubelet_identity_output_keeps_its_object_id(dev: RecordedGraph) -> None:
    # pulumi-azure-native 3.10.0 once dropped identityProfile.kubeletidentity.objectId.
    kubelet = dev.named("cluster-kubelet-identity")
    assert dev.outputs["kubeletIdentity"] == {
        "clientId": kubelet.outputs["clientId"],
        "objectId": kubelet.outputs["principalId"],
        "resourceId": kubelet.outputs["id"],
    }


def test_admin_groups_follow_the_config_and_local_accounts_stay_off() -> None:
    group = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
    graph = run_program("dev", config=stack_config(cluster={"adminGroupObjectIds": [group]}))
    inputs = graph.by_type(MANAGED_CLUSTER)[0].inputs
    assert inputs["disableLocalAccounts"] is True
    assert inputs["aadProfile"]["adminGroupObjectIDs"] == [group]


def test_preview_leaves_what_azure_computes_unknown() -> None:
    from secretless_aks.offline.harness import UNKNOWN

    graph = run_program("dev", preview=True)
    cluster = graph.by_type(MANAGED_CLUSTER)[0]
    assert cluster.inputs["resourceName"] == "aks-secretless-dev"
    assert cluster.inputs["identityProfile"]["kubeletidentity"]["clientId"] is UNKNOWN
    assert graph.outputs["oidcIssuerUrl"] is UNKNOWN
    assert graph.outputs["clusterName"] == "aks-secretless-dev"


# --- network policy ----------------------------------------------------------------------


def test_both_environments_enforce_network_policies_with_azure_npm_by_default(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    for graph in (dev, prod):
        network = graph.by_type(MANAGED_CLUSTER)[0].inputs["networkProfile"]
        assert (network["networkPlugin"], network["networkPolicy"]) == ("azure", "azure")


def test_calico_is_set_in_the_network_profile_when_chosen() -> None:
    graph = run_program("dev", config=stack_config(cluster={"networkPolicy": "calico"}))
    assert graph.by_type(MANAGED_CLUSTER)[0].inputs["networkProfile"]["networkPolicy"] == "calico"


def test_each_network_policy_runs_on_the_clusters_plugin() -> None:
    # Azure NPM needs Azure CNI (Learn, use-network-policies); the program never uses kubenet.
    for plugins in azure_limits.NETWORK_POLICY_PLUGINS.values():
        assert "azure" in plugins
    assert "kubenet" not in azure_limits.NETWORK_POLICY_PLUGINS["azure"]


# --- upgrades ----------------------------------------------------------------------------


def test_both_environments_take_patch_releases_and_weekly_node_images(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    for graph in (dev, prod):
        assert graph.by_type(MANAGED_CLUSTER)[0].inputs["autoUpgradeProfile"] == {
            "upgradeChannel": "patch",
            "nodeOSUpgradeChannel": "NodeImage",
        }


def test_dev_has_no_maintenance_window(dev: RecordedGraph) -> None:
    assert dev.by_type(MAINTENANCE_CONFIGURATION) == []


def test_prod_upgrades_only_in_its_sunday_night_window(prod: RecordedGraph) -> None:
    cluster = prod.by_type(MANAGED_CLUSTER)[0]
    configurations = {r.inputs["configName"]: r for r in prod.by_type(MAINTENANCE_CONFIGURATION)}
    # AKS reads these two configurations by name; any other name would be ignored.
    assert set(configurations) == {
        "aksManagedAutoUpgradeSchedule",
        "aksManagedNodeOSUpgradeSchedule",
    }
    for configuration in configurations.values():
        assert configuration.inputs["maintenanceWindow"] == {
            "schedule": {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 1}},
            "startTime": "02:00",
            "durationHours": 4,
            "utcOffset": "+00:00",
        }
        assert configuration.inputs["resourceName"] == "aks-secretless-prod"
        assert configuration.inputs["resourceGroupName"] == "rg-secretless-prod"
        # A data link: the window is set once the cluster exists.
        assert cluster.urn in configuration.property_dependencies["resourceName"]
        assert configuration.parent == prod.named("cluster").urn
    assert {r.name for r in configurations.values()} == {
        "cluster-auto-upgrade-window",
        "cluster-node-os-upgrade-window",
    }


def test_channels_and_the_window_follow_the_config() -> None:
    window = {"dayOfWeek": "Wednesday", "startHour": 23, "durationHours": 8, "utcOffset": "-05:30"}
    graph = run_program(
        "dev",
        config=stack_config(
            cluster={
                "upgradeChannel": "stable",
                "nodeOsUpgradeChannel": "SecurityPatch",
                "maintenanceWindow": window,
            }
        ),
    )
    assert graph.by_type(MANAGED_CLUSTER)[0].inputs["autoUpgradeProfile"] == {
        "upgradeChannel": "stable",
        "nodeOSUpgradeChannel": "SecurityPatch",
    }
    (first, second) = graph.by_type(MAINTENANCE_CONFIGURATION)
    assert (
        first.inputs["maintenanceWindow"]
        == second.inputs["maintenanceWindow"]
        == {
            "schedule": {"weekly": {"dayOfWeek": "Wednesday", "intervalWeeks": 1}},
            "startTime": "23:00",
            "durationHours": 8,
            "utcOffset": "-05:30",
        }
    )


# --- pool isolation ----------------------------------------------------------------------


def test_dev_stays_one_shared_node(dev: RecordedGraph) -> None:
    (pool,) = dev.by_type(MANAGED_CLUSTER)[0].inputs["agentPoolProfiles"]
    assert pool["count"] == 1
    assert "nodeTaints" not in pool
    assert dev.by_type(AGENT_POOL) == []


def test_prod_runs_workloads_on_a_user_pool_of_their_own(prod: RecordedGraph) -> None:
    cluster = prod.by_type(MANAGED_CLUSTER)[0]
    subnet = prod.named("network-nodes")
    (system,) = cluster.inputs["agentPoolProfiles"]
    assert system["mode"] == "System"
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    (pool,) = prod.by_type(AGENT_POOL)
    expected_name = user_pool_name(
        UserPoolConfig.model_validate(
            {"nodeCount": 3, "nodeVmSize": "Standard_D4s_v5", "availabilityZones": ["1", "2", "3"]}
        )
    )
    # A pool that must change is a new resource, created before the old one is deleted.
    assert pool.name == f"cluster-pool-{expected_name}"
    assert pool.parent == prod.named("cluster").urn
    assert {key: pool.inputs.get(key) for key in pool.inputs} == {
        "agentPoolName": expected_name,
        "resourceGroupName": "rg-secretless-prod",
        "resourceName": "aks-secretless-prod",
        "mode": "User",
        "type": "VirtualMachineScaleSets",
        "osType": "Linux",
        "count": 3,
        "vmSize": "Standard_D4s_v5",
        "maxPods": 30,
        "availabilityZones": ["1", "2", "3"],
        # The node subnet, sized for both pools; the same surge as the system pool.
        "vnetSubnetID": subnet.outputs["id"],
        "upgradeSettings": {"maxSurge": "1"},
        # Kept at the cluster's pinned version.
        "orchestratorVersion": "1.35",
    }
    # Created in the cluster, which AKS builds with its system pool first.
    assert cluster.urn in pool.property_dependencies["resourceName"]
    # Nodes are not state: a pool may be replaced, so it is not protected like the cluster.
    assert cluster.protect and not pool.protect


def test_the_critical_addons_taint_is_the_one_aks_documents() -> None:
    assert CRITICAL_ADDONS_ONLY_TAINT == "CriticalAddonsOnly=true:NoSchedule"


@pytest.mark.parametrize(
    ("change", "new_pool"),
    [
        ({"nodeVmSize": "Standard_D8s_v5"}, True),
        ({"availabilityZones": ["1", "2"]}, True),
        ({"maxPods": 60}, True),
        ({"nodeVmSize": "Standard_d4S_v5"}, False),  # Azure reads VM sizes case-insensitively
        ({"nodeCount": 10}, False),
    ],
)
def test_the_user_pool_gets_a_new_name_exactly_when_it_needs_new_nodes(
    change: dict[str, object], new_pool: bool
) -> None:
    base = {"nodeCount": 3, "nodeVmSize": "Standard_D4s_v5", "availabilityZones": ["1", "2", "3"]}
    before = user_pool_name(UserPoolConfig.model_validate(base))
    after = user_pool_name(UserPoolConfig.model_validate({**base, **change}))
    assert (before != after) is new_pool
    for name in (before, after):
        assert azure_limits.AGENT_POOL.check(name) is None
        assert name.startswith("user") and len(name) == 10


# --- API server access -------------------------------------------------------------------


def test_neither_environment_restricts_the_api_server_by_default(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    # An empty list, sent: it clears ranges set before (tests/test_lifecycle.py).
    for graph in (dev, prod):
        profile = graph.by_type(MANAGED_CLUSTER)[0].inputs["apiServerAccessProfile"]
        assert profile == {"authorizedIPRanges": []}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_authorized_ranges_reach_the_api_server_access_profile(stack: str) -> None:
    ranges = ["203.0.113.0/24", "198.51.100.7"]
    graph = run_program(
        stack, config=stack_config(stack, cluster={"apiServerAuthorizedIpRanges": ranges})
    )
    assert graph.by_type(MANAGED_CLUSTER)[0].inputs["apiServerAccessProfile"] == {
        "authorizedIPRanges": ["203.0.113.0/24", "198.51.100.7/32"]
    }
