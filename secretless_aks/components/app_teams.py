"""What the platform grants an application team: its namespaces, and nothing beyond them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import authorization

from secretless_aks.components import roles
from secretless_aks.components.config import AppTeamConfig
from secretless_aks.components.key_vault import secret_scope
from secretless_aks.components.kubernetes_platform import restricted_namespace
from secretless_aks.components.naming import TeamNames


@dataclass(frozen=True)
class AppTeamArgs:
    settings: AppTeamConfig
    cluster_id: pulumi.Input[str]
    # The deployment's, where the cluster lives.
    subscription_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    # The vault's, where roles on its secrets are named (an existing vault's may be another).
    vault_subscription_id: pulumi.Input[str]
    # Secrets this stack seeds, by name: a grant on one waits for it to exist.
    secret_ids: Mapping[str, pulumi.Output[str]]
    provider: kubernetes.Provider


class AppTeam(pulumi.ComponentResource):
    """One team (an `appTeams` entry): its namespaces, under the restricted Pod Security
    Standard and denying ingress by default, with its Entra group's AKS RBAC Writer on each
    and nowhere else; and, only with `platformVaultSecrets`, the group's Role Based Access
    Control Administrator on each of those secrets, held by TEAM_SECRETS_DELEGATION to
    granting Key Vault Secrets User to service principals: its applications' identities. The
    team's CI deploy identity (`deployerObjectId`), when set, gets the same as the group.

    Provides `namespaces`, their names once created, for the contract's `appTeams` output.
    """

    namespaces: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: AppTeamArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:team:AppTeam", name, None, opts)
        # Children are named after the team (TeamNames), as __main__ names this component.
        self.namespaces = [
            self._namespace(args, namespace) for namespace in args.settings.namespaces
        ]
        for secret in args.settings.platform_vault_secrets or ():
            self._delegate_secret(args, secret)
        self.register_outputs({"namespaces": self.namespaces})

    def _namespace(self, args: AppTeamArgs, namespace: str) -> pulumi.Output[str]:
        team = args.settings
        names = TeamNames(team.name)
        created = restricted_namespace(
            names.namespace(namespace),
            namespace,
            pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        for holder, principal_id, principal_type in _holders(team):
            roles.assign_role(
                names.grant(roles.AKS_RBAC_WRITER.slug, f"namespace-{namespace}", holder),
                role=roles.AKS_RBAC_WRITER,
                # Azure RBAC for Kubernetes scopes a grant to a namespace under the cluster's id
                # (https://learn.microsoft.com/azure/aks/manage-azure-rbac). No data link to the
                # Namespace: the grant propagates while the Namespace is created.
                scope=pulumi.Output.concat(args.cluster_id, f"/namespaces/{namespace}"),
                subscription_id=args.subscription_id,
                principal_id=principal_id,
                principal_type=principal_type,
                description=f"Team {team.name} deploys to its namespace {namespace}, and only "
                "there.",
                parent=self,
            )
        return created.metadata.name

    def _delegate_secret(self, args: AppTeamArgs, secret: str) -> None:
        team = args.settings
        for holder, principal_id, principal_type in _holders(team):
            roles.assign_role(
                TeamNames(team.name).grant(
                    roles.RBAC_ADMINISTRATOR.slug, f"secret-{secret.lower()}", holder
                ),
                role=roles.RBAC_ADMINISTRATOR,
                scope=secret_scope(args.vault_id, args.secret_ids, secret),
                subscription_id=args.vault_subscription_id,
                principal_id=principal_id,
                principal_type=principal_type,
                description=(
                    f"Team {team.name} lets its applications' identities read this secret: Key "
                    "Vault Secrets User, to service principals only (the condition)."
                ),
                condition=roles.rbac_administrator_condition(roles.TEAM_SECRETS_DELEGATION),
                parent=self,
            )


# Who holds a team's grants: its group, and its CI deploy identity where CI names one. The
# deploy identity exists before this deployment (bootstrap made it): ARM looks its type up.
GROUP_HOLDER = ""
DEPLOYER_HOLDER = "deployer"


def _holders(team: AppTeamConfig) -> list[tuple[str, str, authorization.PrincipalType | None]]:
    holders: list[tuple[str, str, authorization.PrincipalType | None]] = [
        (GROUP_HOLDER, str(team.group_object_id), roles.GROUP)
    ]
    if team.deployer_object_id is not None:
        holders.append((DEPLOYER_HOLDER, str(team.deployer_object_id), None))
    return holders
