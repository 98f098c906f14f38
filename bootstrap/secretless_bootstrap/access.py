"""What each GitHub identity may do, and why: the whole of the bootstrap's access model.

One rule: nothing an environment's identities hold reaches another environment or the
bootstrap itself. Each environment deploys into a subscription of its own; the bootstrap's
resources (state account, stacks vault, CI identities) live in the management subscription,
where no CI identity holds a control-plane role. On the data plane each holds its own stack's
state container and a custom role on its own stack's key, and nothing else there.

Deploy identities (one per environment) run `pulumi up`. The platform creates its own resource
group (`rg-secretless-<stack>`) and AKS its node resource group, so nothing narrower than the
environment's subscription exists to grant on before the first deploy: a resource group can
only be created by a principal allowed at subscription scope, and the program assigns roles in
the node resource group too (the kubelet's Virtual Machine Contributor, for pod identity). The
deploy identity gets Contributor and, instead of Owner or User Access Administrator, Role Based
Access Control Administrator held by an ABAC condition generated from the role catalogue's
table of who may receive what (roles.DEPLOY_IDENTITY_GRANTS, roles.deploy_identity_condition).

Preview identities (one per environment) run `pulumi preview` for their environment's stack
and can change nothing. A DIY backend previews without a lock and without writing:
pulumi/pulumi pkg/backend/diy/backend.go (`Preview` applies with DryRun and never calls `Lock`,
which Update, Refresh, Destroy and Import take; history and backups are written only when not
DryRun), and meta.go writes `.pulumi/meta.yaml` only into an empty container, which
`pulumi stack init` has filled. So reading state is enough: Storage Blob Data Reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from secretless_aks.components import roles
from secretless_aks.components.naming import EnvironmentNames
from secretless_bootstrap.github_identity import Grant


def subscription_scope(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id}"


def deploy_grants(
    *,
    environment_subscription_id: str,
    management_subscription_id: str,
    container_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
    key_role: roles.CustomRole,
    key_role_definition: pulumi.Resource,
    condition_principals: Mapping[str, Sequence[pulumi.Input[str]]],
    registry_id: pulumi.Input[str],
    contract_container_id: pulumi.Input[str],
) -> list[Grant]:
    """`condition_principals`: who the condition names, by kind (the teams' CI identities'
    ids are Outputs); the deploy identity's own id (roles.DEPLOYER) is added once Azure knows
    it."""
    subscription = subscription_scope(environment_subscription_id)
    kinds = list(condition_principals)
    resolved = pulumi.Output.all(*(pulumi.Output.all(*condition_principals[k]) for k in kinds))

    def condition(principal_id: str) -> pulumi.Output[str]:
        return resolved.apply(
            lambda ids: roles.deploy_identity_condition(
                {
                    **{kind: tuple(found) for kind, found in zip(kinds, ids, strict=True)},
                    roles.DEPLOYER: (principal_id,),
                }
            )
        )

    return [
        Grant(
            roles.CONTRIBUTOR,
            subscription,
            environment_subscription_id,
            "subscription",
            "pulumi up creates the environment's resource group and everything in it; a "
            "resource group can only be created with a role on the subscription.",
        ),
        Grant(
            roles.RBAC_ADMINISTRATOR,
            subscription,
            environment_subscription_id,
            "subscription",
            "pulumi up makes the platform's role assignments (also in AKS's node resource "
            "group), held by a condition to the catalogue's roles and recipients.",
            condition=condition,
        ),
        *state_grants(
            container_id=container_id,
            key_id=key_id,
            key_role=key_role,
            key_role_definition=key_role_definition,
            management_subscription_id=management_subscription_id,
            whose="pulumi up",
        ),
        Grant(
            roles.RBAC_ADMINISTRATOR,
            registry_id,
            management_subscription_id,
            "registry",
            "pulumi up gives the environment's kubelet identity AcrPull on the registry; the "
            "condition allows AcrPull to service principals and nothing else.",
            condition=lambda _: roles.registry_pull_condition(),
        ),
        Grant(
            roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            contract_container_id,
            management_subscription_id,
            "contract",
            "pulumi up publishes the environment's contract, which its application teams read "
            "instead of the stack's state; nothing else may write it.",
        ),
    ]


def preview_grants(
    *,
    stack: str,
    deployed: bool,
    environment_subscription_id: str,
    management_subscription_id: str,
    container_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
    key_role: roles.CustomRole,
    key_role_definition: pulumi.Resource,
) -> list[Grant]:
    grants = [
        Grant(
            roles.STORAGE_BLOB_DATA_READER,
            container_id,
            management_subscription_id,
            "state",
            "pulumi preview reads the stack's checkpoint; a DIY backend takes no lock and "
            "writes nothing for a preview.",
        ),
        Grant(
            key_role,
            key_id,
            management_subscription_id,
            "stacks-key",
            "pulumi preview decrypts the stack's data key to read its secret config; it may "
            "not encrypt, update or disable the key.",
            after=(key_role_definition,),
        ),
    ]
    if not deployed:
        # Azure refuses an assignment on a scope that does not exist: these wait for the
        # stack's first `pulumi up` (config: deployedStacks). Before it a preview reads nothing.
        return grants
    names = EnvironmentNames(stack)
    subscription = subscription_scope(environment_subscription_id)
    group = f"{subscription}/resourceGroups/{names.resource_group}"
    nodes = f"{subscription}/resourceGroups/{names.node_resource_group}"
    cluster = f"{group}/providers/Microsoft.ContainerService/managedClusters/{names.cluster}"
    reads: Sequence[tuple[roles.Role, str, str, str]] = (
        (
            roles.READER,
            group,
            f"{stack}-group",
            "pulumi preview --refresh reads the environment's resources as Azure has them.",
        ),
        (
            roles.READER,
            nodes,
            f"{stack}-nodes",
            "pulumi preview --refresh reads the role assignments the platform makes in AKS's "
            "node resource group.",
        ),
        (
            roles.AKS_CLUSTER_USER,
            cluster,
            f"{stack}-cluster",
            "pulumi preview lists the cluster's user kubeconfig, which signs in through "
            "Entra ID (kubelogin) and holds no credential.",
        ),
        (
            roles.AKS_RBAC_READER,
            cluster,
            f"{stack}-cluster",
            "The Kubernetes provider reads live objects to diff them (no Secrets); without "
            "patch rights it diffs client-side.",
        ),
    )
    return grants + [
        Grant(role, scope, environment_subscription_id, scope_name, why)
        for role, scope, scope_name, why in reads
    ]


def team_deploy_grants(
    *,
    team: str,
    resource_group_id: pulumi.Input[str],
    environment_subscription_id: str,
    management_subscription_id: str,
    container_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
    key_role: roles.CustomRole,
    key_role_definition: pulumi.Resource,
    contract_container_id: pulumi.Input[str],
) -> list[Grant]:
    """An application team's deploy identity in one environment: its own resource group, its
    own state container and key, read on the environment's published contract, and nothing
    else of the platform's or another team's. What it gets inside the cluster and on the
    platform's vault, the platform stack grants."""
    return [
        Grant(
            roles.CONTRIBUTOR,
            resource_group_id,
            environment_subscription_id,
            "team-group",
            f"The {team} team's pulumi up creates its application's resources in its own "
            "resource group, and nowhere else.",
        ),
        Grant(
            roles.RBAC_ADMINISTRATOR,
            resource_group_id,
            environment_subscription_id,
            "team-group",
            f"The {team} team's pulumi up grants its application's identity (and itself) Key "
            "Vault Secrets User or Officer on its own vault; the condition allows nothing else.",
            condition=lambda _: roles.rbac_administrator_condition(roles.TEAM_DEPLOY_DELEGATION),
        ),
        *state_grants(
            container_id=container_id,
            key_id=key_id,
            key_role=key_role,
            key_role_definition=key_role_definition,
            management_subscription_id=management_subscription_id,
            whose=f"The {team} team's pulumi up",
        ),
        Grant(
            roles.STORAGE_BLOB_DATA_READER,
            contract_container_id,
            management_subscription_id,
            "platform-contract",
            f"The {team} team's pulumi up reads what the platform publishes for its "
            "environment, instead of the platform's state and key.",
        ),
    ]


def state_grants(
    *,
    container_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
    key_role: roles.CustomRole,
    key_role_definition: pulumi.Resource,
    management_subscription_id: str,
    whose: str,
) -> list[Grant]:
    """What a deploy identity holds on its own state container and key, and nowhere else."""
    return [
        Grant(
            roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            container_id,
            management_subscription_id,
            "state",
            f"{whose} reads and writes this stack's state: checkpoints, locks, history.",
        ),
        Grant(
            key_role,
            key_id,
            management_subscription_id,
            "stacks-key",
            f"{whose} encrypts a new stack's data key and decrypts it on every run "
            "(azurekeyvault secrets provider), on this stack's key only.",
            after=(key_role_definition,),
        ),
    ]
