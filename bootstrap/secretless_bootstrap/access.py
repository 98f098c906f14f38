"""What each GitHub identity may do, and why: the whole of the bootstrap's access model.

Deploy identities (one per environment) run `pulumi up`. The platform creates its own resource
group (`rg-secretless-<stack>`) and AKS its node resource group, so nothing narrower than the
subscription exists to grant on before the first deploy: a resource group can only be created
by a principal allowed at subscription scope, and the program assigns roles in the node
resource group too (the kubelet's Virtual Machine Contributor, for pod identity). The deploy
identity gets Contributor and, instead of Owner or User Access Administrator, Role Based
Access Control Administrator held by an ABAC condition (roles.deploy_identity_condition) to the
roles the program grants (roles.PLATFORM_GRANTS) and the principal types it grants them to,
and to RBAC Administrator itself for the application teams' groups listed here only.

The preview identity runs `pulumi preview` for every stack and can change nothing. A DIY
backend previews without a lock and without writing: pulumi/pulumi pkg/backend/diy/backend.go
(`Preview` applies with DryRun and never calls `Lock`, which Update, Refresh, Destroy and
Import take; history and backups are written only when not DryRun), and meta.go writes
`.pulumi/meta.yaml` only into an empty container, which `pulumi stack init` has filled. So
reading state is enough: Storage Blob Data Reader.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pulumi

from secretless_aks.components import roles
from secretless_aks.components.naming import EnvironmentNames
from secretless_bootstrap.github_identity import Grant


def subscription_scope(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id}"


def deploy_grants(
    subscription_id: str,
    container_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
    team_group_ids: tuple[str, ...] = (),
) -> list[Grant]:
    subscription = subscription_scope(subscription_id)
    return [
        Grant(
            roles.CONTRIBUTOR,
            subscription,
            "subscription",
            "pulumi up creates the environment's resource group and everything in it; a "
            "resource group can only be created with a role on the subscription.",
        ),
        Grant(
            roles.RBAC_ADMINISTRATOR,
            subscription,
            "subscription",
            "pulumi up makes the platform's role assignments (also in AKS's node resource "
            "group), held by a condition to the project's roles and principal types.",
            condition=functools.partial(
                roles.deploy_identity_condition, team_group_ids=team_group_ids
            ),
        ),
        Grant(
            roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            container_id,
            "state",
            "pulumi up reads and writes the stacks' state: checkpoints, locks, history.",
        ),
        Grant(
            roles.KEY_VAULT_CRYPTO_USER,
            key_id,
            "stacks-key",
            "pulumi up decrypts the stack's data key, which encrypts its secrets "
            "(azurekeyvault secrets provider).",
        ),
    ]


def preview_grants(
    subscription_id: str,
    deployed_stacks: Iterable[str],
    container_id: pulumi.Input[str],
    key_id: pulumi.Input[str],
) -> list[Grant]:
    grants = [
        Grant(
            roles.STORAGE_BLOB_DATA_READER,
            container_id,
            "state",
            "pulumi preview reads the stack's checkpoint; a DIY backend takes no lock and "
            "writes nothing for a preview.",
        ),
        Grant(
            roles.KEY_VAULT_CRYPTO_USER,
            key_id,
            "stacks-key",
            "pulumi preview decrypts the stack's data key to read its secret config; the "
            "least built-in role that may decrypt.",
        ),
    ]
    # Azure refuses an assignment on a scope that does not exist: these wait for the stack's
    # first `pulumi up` (config: deployedStacks). Before it a preview reads nothing there.
    for stack in deployed_stacks:
        names = EnvironmentNames(stack)
        group = f"{subscription_scope(subscription_id)}/resourceGroups/{names.resource_group}"
        nodes = f"{subscription_scope(subscription_id)}/resourceGroups/{names.node_resource_group}"
        cluster = f"{group}/providers/Microsoft.ContainerService/managedClusters/{names.cluster}"
        grants += [
            Grant(
                roles.READER,
                group,
                f"{stack}-group",
                "pulumi preview --refresh reads the environment's resources as Azure has them.",
            ),
            Grant(
                roles.READER,
                nodes,
                f"{stack}-nodes",
                "pulumi preview --refresh reads the role assignments the platform makes in "
                "AKS's node resource group.",
            ),
            Grant(
                roles.AKS_CLUSTER_USER,
                cluster,
                f"{stack}-cluster",
                "pulumi preview lists the cluster's user kubeconfig, which signs in through "
                "Entra ID (kubelogin) and holds no credential.",
            ),
            Grant(
                roles.AKS_RBAC_READER,
                cluster,
                f"{stack}-cluster",
                "The Kubernetes provider reads live objects to diff them (no Secrets); "
                "without patch rights it diffs client-side.",
            ),
        ]
    return grants
