"""The platform's side of bootstrap's registry: the kubelet identity pulls images with AcrPull."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from secretless_aks.components import roles
from secretless_aks.components.config.models import RegistryConfig


@dataclass(frozen=True)
class RegistryAccessArgs:
    registry: RegistryConfig
    # The identity AKS pulls images as (the cluster's kubelet identity).
    kubelet_principal_id: pulumi.Input[str]
    stack: str


class RegistryAccess(pulumi.ComponentResource):
    """AcrPull for the kubelet identity on the registry: no pull secret, no admin user.

    The registry lives in bootstrap's management subscription, where the role is named
    (subscription_of its id); the deploy identity may make exactly this grant there
    (bootstrap: RBAC Administrator held to AcrPull for service principals). Workload
    Deployments wait for it; the cluster does not, so the deploy's critical path is unchanged.
    """

    grant: authorization.RoleAssignment

    def __init__(
        self, name: str, args: RegistryAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:registry:RegistryAccess", name, None, opts)
        self.grant = roles.assign_role(
            f"{name}-kubelet-{roles.ACR_PULL.slug}",
            role=roles.ACR_PULL,
            scope=args.registry.id,
            subscription_id=roles.subscription_of(args.registry.id),
            principal_id=args.kubelet_principal_id,
            principal_type=roles.SERVICE_PRINCIPAL,
            description=f"The {args.stack} cluster's nodes pull the platform's images.",
            parent=self,
        )
        self.register_outputs({})
