"""One application's own Azure identity and its least-privilege access to Key Vault."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from components import roles
from components.config import KeyVaultRole, ServiceConfig
from components.naming import EnvironmentNames

KEY_VAULT_ROLES: Mapping[KeyVaultRole, roles.BuiltInRole] = {
    "secretsUser": roles.KEY_VAULT_SECRETS_USER,
    "secretsOfficer": roles.KEY_VAULT_SECRETS_OFFICER,
}


@dataclass(frozen=True)
class ServiceIdentityArgs:
    settings: ServiceConfig
    names: EnvironmentNames
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    # Secrets this stack seeds, by name: a per-secret grant waits for its secret to exist.
    secret_ids: Mapping[str, pulumi.Output[str]]
    # Keep the identity (and so its client id, which pods are configured with) in prod.
    protect: bool = False


class ServiceIdentity(pulumi.ComponentResource):
    """A user-assigned identity for one service, granted its Key Vault role.

    With `secretScope` the role is granted on each named secret instead of the vault, so the
    service can read those secrets and nothing else.
    """

    identity: managedidentity.UserAssignedIdentity
    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    identity_resource_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:service:ServiceIdentity", name, None, opts)
        service = args.settings
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.names.service_identity(service.name),
            resource_group_name=args.resource_group_name,
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        self.identity_resource_id = self.identity.id
        self._grant_key_vault_role(name, args)
        self.register_outputs(
            {
                "client_id": self.client_id,
                "principal_id": self.principal_id,
                "identity_resource_id": self.identity_resource_id,
            }
        )

    def _grant_key_vault_role(self, name: str, args: ServiceIdentityArgs) -> None:
        service = args.settings
        if service.key_vault_role == "none":
            return
        role = KEY_VAULT_ROLES[service.key_vault_role]
        if service.secret_scope is None:
            targets = [("vault", args.vault_id, "its Key Vault")]
        else:
            seeded = {secret.lower(): secret_id for secret, secret_id in args.secret_ids.items()}
            targets = [
                (
                    f"secret-{secret.lower()}",
                    seeded.get(secret.lower())
                    or pulumi.Output.concat(args.vault_id, f"/secrets/{secret}"),
                    f"the secret {secret}",
                )
                for secret in service.secret_scope
            ]
        for target, scope, what in targets:
            roles.assign_role(
                f"{name}-{role.slug}-on-{target}",
                role=role,
                scope=scope,
                principal_id=self.principal_id,
                principal_type=roles.SERVICE_PRINCIPAL,
                description=f"Service {service.name} uses {what} ({role.name}).",
                parent=self,
            )
