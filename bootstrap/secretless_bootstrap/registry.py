"""The repository's one container registry, and the identity that builds images into it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry

from secretless_aks.components import roles
from secretless_bootstrap import github, naming
from secretless_bootstrap.github_identity import GitHubIdentity, GitHubIdentityArgs, Grant


@dataclass(frozen=True)
class ContainerRegistryArgs:
    # The management subscription: the registry's name derives from it.
    subscription_id: str
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    repository: github.Repository


class ContainerRegistry(pulumi.ComponentResource):
    """An Azure Container Registry with no admin user and no anonymous pull, and a build
    identity federated with pushes to main that may run ACR Tasks on it and nothing else.

    Images are built once (`az acr build`, ACR Tasks: no container engine on the runner) and
    promoted by digest; each environment's kubelet identity pulls them with AcrPull, which the
    platform grants (the deploy identities may grant exactly that here).

    The registry's role-assignment mode is left out: the pinned provider's API (2023-01-01-
    preview) cannot set it, and a registry it creates honours AcrPull and AcrPush. A registry in
    ABAC mode ignores them (Container Registry Repository Reader and Writer instead); check with
    `az acr show -n <registry> --query roleAssignmentMode` (docs/ci-and-bootstrap.md).
    """

    id: pulumi.Output[str]
    login_server: pulumi.Output[str]
    builder: GitHubIdentity

    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:bootstrap:ContainerRegistry", name, None, opts)
        registry = containerregistry.Registry(
            f"{name}-registry",
            registry_name=naming.container_registry(args.subscription_id),
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=containerregistry.SkuArgs(name=containerregistry.SkuName.STANDARD),
            # Entra ID only: no admin user's password, and no pull without a token.
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            # GitHub-hosted runners and ACR Tasks have no fixed address: RBAC decides who gets in.
            public_network_access=containerregistry.PublicNetworkAccess.ENABLED,
            # Every environment's images are here: deleting it would stop every pull.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.id = registry.id
        self.login_server = registry.login_server
        self.builder = GitHubIdentity(
            f"{name}-builder",
            GitHubIdentityArgs(
                identity_name=naming.BUILD_IDENTITY,
                resource_group_name=args.resource_group_name,
                location=args.location,
                repository=args.repository,
                claim=naming.BUILD_BRANCH_CLAIM,
                credential=naming.BUILD_CREDENTIAL,
                grants=[
                    Grant(
                        roles.CONTAINER_REGISTRY_TASKS_CONTRIBUTOR,
                        registry.id,
                        args.subscription_id,
                        "registry",
                        "The image build on main runs az acr build (ACR Tasks) here, and nowhere "
                        "else: the role amounts to full data-plane access to this registry.",
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"id": self.id, "login_server": self.login_server})
