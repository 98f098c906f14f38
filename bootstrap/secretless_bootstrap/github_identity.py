"""A user-assigned identity that one GitHub environment's jobs sign in as, and what it may do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from secretless_aks.components import manifests, roles
from secretless_bootstrap import github


@dataclass(frozen=True)
class Grant:
    """A role at a scope, and why the identity holds it (the assignment's description)."""

    role: roles.Role
    scope: pulumi.Input[str]
    # The subscription the scope lives in, where the role definition is named.
    subscription_id: str
    # Names the assignment in Pulumi: `<identity>-<role>-on-<scope_name>`.
    scope_name: str
    why: str
    # Role Based Access Control Administrator only: its ABAC condition, given the principal id
    # of the identity that holds it (an Output where it names other identities too).
    condition: Callable[[str], pulumi.Input[str]] | None = None
    # What the assignment waits for that no data link orders: a custom role's definition,
    # whose GUID (and so the assignment's roleDefinitionId) is known before it exists.
    after: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class GitHubIdentityArgs:
    identity_name: str
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    repository: github.Repository
    # The one kind of job that may sign in as this identity: `environment:<name>`, or
    # `ref:refs/heads/main` for a job in no environment on main.
    claim: str
    # Its federated credential's name (`github-<environment>`).
    credential: str
    grants: Sequence[Grant]


class GitHubIdentity(pulumi.ComponentResource):
    """The identity, its federated credential for one GitHub environment's subject (immutable
    or name form, as the repository sends it), and its role assignments.

    One credential per identity and one identity per environment: a job of any other
    environment, branch or pull request gets a token this identity does not accept.
    """

    identity: managedidentity.UserAssignedIdentity
    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: GitHubIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:bootstrap:GitHubIdentity", name, None, opts)
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        managedidentity.FederatedIdentityCredential(
            f"{name}-{args.credential}",
            federated_identity_credential_resource_name=args.credential,
            resource_name_=self.identity.name,
            resource_group_name=args.resource_group_name,
            issuer=github.ISSUER,
            subject=args.repository.subject(args.claim),
            audiences=[manifests.TOKEN_EXCHANGE_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        for grant in args.grants:
            roles.assign_role(
                f"{name}-{grant.role.slug}-on-{grant.scope_name}",
                role=grant.role,
                scope=grant.scope,
                subscription_id=grant.subscription_id,
                principal_id=self.principal_id,
                principal_type=roles.SERVICE_PRINCIPAL,
                description=grant.why,
                condition=self.principal_id.apply(grant.condition) if grant.condition else None,
                parent=self,
                opts=pulumi.ResourceOptions(depends_on=list(grant.after)) if grant.after else None,
            )
        self.register_outputs({"client_id": self.client_id, "principal_id": self.principal_id})
