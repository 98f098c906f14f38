"""A developer loop on an unprotected stack: the `developers` group gets the data roles the
stack's services hold, so that a developer signed in with `az login` runs a service on their
own machine against the environment's vault and services (`make -C app run STACK=dev`).

Key Vault Secrets User on what the services read (the vault, when one of them reads all of
it; otherwise each secret a service names), and every `azureAccess` grant of every service,
each once, to the group (principalType Group). Nothing a service may write in the vault: no
Secrets Officer. The configuration refuses `developers` on a protected stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from secretless_aks.components import roles
from secretless_aks.components.azure_access import grant_azure_access
from secretless_aks.components.config import ServiceConfig
from secretless_aks.components.key_vault import read_targets


@dataclass(frozen=True)
class DeveloperAccessArgs:
    group_object_id: str
    services: Sequence[ServiceConfig]
    vault_id: pulumi.Input[str]
    vault_subscription_id: pulumi.Input[str]
    secret_ids: Mapping[str, pulumi.Output[str]]
    # The environment's subscription, where alone the deploy identity grants.
    subscription_id: pulumi.Input[str]


class DeveloperAccess(pulumi.ComponentResource):
    """The developers group's data roles: the services' own, each once (see the module)."""

    def __init__(
        self, name: str, args: DeveloperAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:developers:DeveloperAccess", name, None, opts)
        readers = [service for service in args.services if service.key_vault_role != "none"]
        vault_wide = any(service.vault_wide for service in readers)
        secrets = list(dict.fromkeys(name for s in readers for name in s.named_secrets))
        targets = read_targets(args.vault_id, args.secret_ids, None if vault_wide else secrets)
        role = roles.KEY_VAULT_SECRETS_USER
        for target, scope, _ in targets:
            roles.assign_role(
                f"{name}-{role.slug}-on-{target}",
                role=role,
                scope=scope,
                subscription_id=args.vault_subscription_id,
                principal_id=args.group_object_id,
                principal_type=roles.GROUP,
                description="Developers run the services on their own machines (dev only).",
                parent=self,
            )
        # Each (resource, role) once, though several services hold it.
        accesses = {
            (access.resource.lower(), access.role): access
            for service in args.services
            for access in service.azure_access
        }
        grant_azure_access(
            name,
            list(accesses.values()),
            who="Developers",
            config_key="secretless-aks:developers (from services[].azureAccess)",
            principal_id=args.group_object_id,
            principal_type=roles.GROUP,
            subscription_id=args.subscription_id,
            parent=self,
        )
        self.register_outputs({})
