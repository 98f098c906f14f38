"""The cluster, its control-plane and kubelet identities, and the order Azure needs."""

from __future__ import annotations

from offline.harness import RecordedGraph, run_program
from tests.graph_queries import IDENTITY, MANAGED_CLUSTER, ROLE_ASSIGNMENT, grants_to
from tests.stack_configs import stack_config


def test_cluster_owns_a_control_plane_and_a_kubelet_identity(dev: RecordedGraph) -> None:
    component = dev.named("cluster")
    identities = {r.name: r for r in dev.by_type(IDENTITY)}
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
    # The kubelet identity needs nothing while no service uses AAD Pod Identity.
    assert grants_to(dev, kubelet) == set()


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
    assert set(control_plane_roles) <= set(cluster.dependencies)
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


def test_local_accounts_and_admin_groups_follow_the_config() -> None:
    group = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
    graph = run_program(
        "dev",
        config=stack_config(
            cluster={"disableLocalAccounts": False, "adminGroupObjectIds": [group]}
        ),
    )
    inputs = graph.by_type(MANAGED_CLUSTER)[0].inputs
    assert inputs["disableLocalAccounts"] is False
    assert inputs["aadProfile"]["adminGroupObjectIDs"] == [group]


def test_preview_leaves_what_azure_computes_unknown() -> None:
    from offline.harness import UNKNOWN

    graph = run_program("dev", preview=True)
    cluster = graph.by_type(MANAGED_CLUSTER)[0]
    assert cluster.inputs["resourceName"] == "aks-secretless-dev"
    assert cluster.inputs["identityProfile"]["kubeletidentity"]["clientId"] is UNKNOWN
    assert graph.outputs["oidcIssuerUrl"] is UNKNOWN
    assert graph.outputs["clusterName"] == "aks-secretless-dev"
