"""AKS: identities Azure manages and the stack declares, workload identity, Entra ID sign-in
with Azure RBAC and no local accounts, no pod-identity add-on, network policy, upgrades."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Level, Resource, Rule, Settings, applies_to, differs, is_unknown
from .sources import LOCAL_ACCOUNTS_WORDS

CLUSTER = "azure-native:containerservice:ManagedCluster"


@applies_to(CLUSTER)
def _user_assigned_identities(cluster: Resource, _: Settings) -> Iterable[str]:
    if differs(cluster.get("identity", "type"), "UserAssigned") or not cluster.get(
        "identity", "userAssignedIdentities"
    ):
        yield (
            "give the control plane a user-assigned identity (identity.type UserAssigned, "
            "identity.userAssignedIdentities): its role assignments can then be made, and "
            "propagate, before the cluster exists"
        )
    if cluster.get("identityProfile", "kubeletidentity", "resourceId") is None:
        yield (
            "give the kubelet a user-assigned identity (identityProfile.kubeletidentity."
            "resourceId), so the stack declares what it may do"
        )


@applies_to(CLUSTER)
def _workload_identity(cluster: Resource, _: Settings) -> Iterable[str]:
    if differs(cluster.get("oidcIssuerProfile", "enabled"), True):
        yield "set oidcIssuerProfile.enabled to true: federated credentials trust its issuer"
    if differs(cluster.get("securityProfile", "workloadIdentity", "enabled"), True):
        yield (
            "set securityProfile.workloadIdentity.enabled to true: the webhook gives pods "
            "their identity's token file"
        )


@applies_to(CLUSTER)
def _entra_rbac(cluster: Resource, _: Settings) -> Iterable[str]:
    if differs(cluster.get("aadProfile", "managed"), True):
        yield "set aadProfile.managed to true: users sign in with Entra ID"
    if differs(cluster.get("aadProfile", "enableAzureRBAC"), True):
        yield (
            "set aadProfile.enableAzureRBAC to true: Kubernetes access is then granted by "
            "Azure role assignments"
        )


@applies_to(CLUSTER)
def _local_accounts(cluster: Resource, _: Settings) -> Iterable[str]:
    if differs(cluster.get("disableLocalAccounts"), True):
        yield f"set disableLocalAccounts to true: {LOCAL_ACCOUNTS_WORDS}"


@applies_to(CLUSTER)
def _no_pod_identity_addon(cluster: Resource, _: Settings) -> Iterable[str]:
    if cluster.get("podIdentityProfile", "enabled") is True:
        yield (
            "remove podIdentityProfile: the AKS pod-identity add-on is deprecated; use workload "
            "identity (or, while migrating, the Helm-installed AAD Pod Identity)"
        )


@applies_to(CLUSTER)
def _network_policy(cluster: Resource, _: Settings) -> Iterable[str]:
    engine = cluster.get("networkProfile", "networkPolicy")
    if not is_unknown(engine) and engine in (None, "", "none"):
        yield (
            "set networkProfile.networkPolicy (azure, calico or cilium; secretless-aks:cluster."
            "networkPolicy): without an engine the namespaces' deny-ingress policies do nothing"
        )


@applies_to(CLUSTER)
def _upgrade_channel(cluster: Resource, _: Settings) -> Iterable[str]:
    channel = cluster.get("autoUpgradeProfile", "upgradeChannel")
    if not is_unknown(channel) and channel in (None, "none"):
        yield (
            "set autoUpgradeProfile.upgradeChannel (secretless-aks:cluster.upgradeChannel, "
            "patch by default): a cluster left alone falls out of support"
        )


RULES = (
    Rule(
        "aks-user-assigned-identities",
        "The control plane and the kubelet run as user-assigned identities.",
        "identities created by AKS, whose grants the stack cannot declare ahead of the cluster",
        check_resource=_user_assigned_identities,
    ),
    Rule(
        "aks-workload-identity",
        "The OIDC issuer and workload identity are on.",
        "pods without a way to get their identity's token, pushed back to secrets",
        check_resource=_workload_identity,
    ),
    Rule(
        "aks-entra-rbac",
        "Entra ID sign-in with Azure RBAC for Kubernetes.",
        "cluster access that no Azure role assignment shows",
        check_resource=_entra_rbac,
    ),
    Rule(
        "aks-local-accounts-disabled",
        "Local accounts are off.",
        "a static admin credential (az aks get-credentials --admin)",
        check_resource=_local_accounts,
    ),
    Rule(
        "aks-no-pod-identity-addon",
        "The AKS pod-identity add-on is off.",
        "the deprecated add-on's node-wide token endpoint",
        check_resource=_no_pod_identity_addon,
    ),
    Rule(
        "aks-network-policy",
        "A network policy engine is set.",
        "NetworkPolicies that are accepted and never enforced",
        check_resource=_network_policy,
    ),
    Rule(
        "aks-upgrade-channel",
        "An automatic upgrade channel other than none.",
        "a cluster drifting out of support and missing security patches",
        level=Level.ADVISORY,
        check_resource=_upgrade_channel,
    ),
)
