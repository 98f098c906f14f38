"""One application's own Azure identity and its least-privilege access to Key Vault and the
Azure services it reaches (azure_access.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import managedidentity

from secretless_aks.components import manifests, roles
from secretless_aks.components.azure_access import grant_azure_access
from secretless_aks.components.config import KeyVaultRole, ServiceConfig
from secretless_aks.components.key_vault import read_targets
from secretless_aks.components.naming import (
    EnvironmentNames,
    federated_credential_name,
    federated_subject,
)

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
    # The subscription the identity lives in (the deployment's).
    subscription_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    vault_uri: pulumi.Input[str]
    # The vault's, where roles on it and its secrets are named: an existing vault may live in
    # another subscription.
    vault_subscription_id: pulumi.Input[str]
    # Secrets this stack seeds, by name: a per-secret grant waits for its secret to exist.
    secret_ids: Mapping[str, pulumi.Output[str]]
    # The cluster side: its OIDC issuer, tenant, kubelet identity and Kubernetes provider.
    oidc_issuer_url: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    kubelet_principal_id: pulumi.Input[str]
    provider: kubernetes.Provider
    # Where its Kubernetes objects go: a Namespace this project creates (they wait for it), or
    # the name of one that exists (an application team's, which the platform creates).
    namespace: kubernetes.core.v1.Namespace | pulumi.Input[str]
    # AAD Pod Identity's Helm release, which installs the CRDs; None when no service uses it.
    pod_identity_release: pulumi.Resource | None = None
    # The kubelet identity's AcrPull on the registry, which the Deployment's pulls need.
    image_pull_grant: pulumi.Resource | None = None
    # Keep the identity (and so its client id, which pods are configured with) in prod.
    protect: bool = False
    # Where the service's settings are in config (`secretless-aks:services[0]`), which errors
    # about them name.
    config_key: str = "the service"


# Beyond the startup budget: scheduling, the image pull and a rolling update's other pods.
DEPLOYMENT_AWAIT_MARGIN_SECONDS = 300


def deployment_timeouts(service: ServiceConfig) -> pulumi.CustomTimeouts | None:
    """With probes, `pulumi up` waits for readiness as long as the startup probe allows and a
    margin more (the provider's default is 10 minutes, less than the app's startup grace), so
    a deploy whose app cannot read its vault fails, and one whose role is still taking effect
    does not. Without probes the default stands."""
    if service.probes is None:
        return None
    wait = f"{service.probes.startup_budget_seconds + DEPLOYMENT_AWAIT_MARGIN_SECONDS}s"
    return pulumi.CustomTimeouts(create=wait, update=wait)


class ServiceIdentity(pulumi.ComponentResource):
    """A user-assigned identity for one service, its Key Vault role, and the Kubernetes
    objects and federation that let the service's pods use it.

    With `secretScope` the role is granted on each named secret instead of the vault, so the
    service can read those secrets and nothing else. The binding decides how pods get the
    identity: workload identity (a federated credential and an annotated ServiceAccount), AAD
    Pod Identity (AzureIdentity + AzureIdentityBinding), or both while migrating.
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
        # Every data role the identity holds, {resource, role}: the contract's serviceGrants.
        self.grants: list[dict[str, pulumi.Input[str]]] = [
            *self._grant_key_vault_role(name, args),
            *grant_azure_access(
                name,
                service.azure_access,
                who=f"Service {service.name}",
                config_key=f"{args.config_key}.azureAccess",
                principal_id=self.principal_id,
                principal_type=roles.SERVICE_PRINCIPAL,
                subscription_id=args.subscription_id,
                parent=self,
            ),
        ]
        self._federate(name, args)
        self._bind_pods(name, args)
        self.register_outputs(
            {
                "client_id": self.client_id,
                "principal_id": self.principal_id,
                "identity_resource_id": self.identity_resource_id,
            }
        )

    def _grant_key_vault_role(
        self, name: str, args: ServiceIdentityArgs
    ) -> list[dict[str, pulumi.Input[str]]]:
        service = args.settings
        if service.key_vault_role == "none":
            return []
        role = KEY_VAULT_ROLES[service.key_vault_role]
        targets = read_targets(
            args.vault_id, args.secret_ids, None if service.vault_wide else service.named_secrets
        )
        for target, scope, what in targets:
            roles.assign_role(
                f"{name}-{role.slug}-on-{target}",
                role=role,
                scope=scope,
                subscription_id=args.vault_subscription_id,
                principal_id=self.principal_id,
                principal_type=roles.SERVICE_PRINCIPAL,
                description=f"Service {service.name} uses {what} ({role.name}).",
                parent=self,
            )
        return [{"resource": scope, "role": role.name} for _, scope, _ in targets]

    def _federate(self, name: str, args: ServiceIdentityArgs) -> None:
        """A federated credential per ServiceAccount, so its tokens sign in as this identity."""
        previous: list[pulumi.Resource] = []
        for namespace, account in args.settings.federated_service_accounts:
            # Immutable in Azure and unique per subject, so the Pulumi name follows it.
            credential_name = federated_credential_name(namespace, account)
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-federated-{credential_name}",
                federated_identity_credential_resource_name=credential_name,
                resource_name_=self.identity.name,
                resource_group_name=args.resource_group_name,
                issuer=args.oidc_issuer_url,
                subject=federated_subject(namespace, account),
                audiences=[manifests.TOKEN_EXCHANGE_AUDIENCE],
                # Azure rejects concurrent credential writes on one identity
                # (ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity).
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [credential]

    def _bind_pods(self, name: str, args: ServiceIdentityArgs) -> None:
        service = args.settings
        k8s = pulumi.ResourceOptions(parent=self, provider=args.provider)
        # The namespace by data link, so every object waits for its Namespace.
        namespace: pulumi.Output[str] = (
            args.namespace.metadata.apply(lambda m: m["name"])
            if isinstance(args.namespace, kubernetes.core.v1.Namespace)
            else pulumi.Output.from_input(args.namespace)
        )

        def metadata(manifest: dict[str, Any]) -> Any:
            return _in_namespace(manifest, namespace)

        account = manifests.service_account(service, self.client_id, args.tenant_id)
        kubernetes.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=metadata(account),
            automount_service_account_token=account["automountServiceAccountToken"],
            opts=k8s,
        )
        if service.uses_pod_identity:
            self._bind_pod_identity(name, args, namespace, k8s)

        # A Kubernetes object with metadata and a spec, named after the component.
        def declare(
            kind: Callable[..., pulumi.CustomResource],
            suffix: str,
            manifest: dict[str, Any],
            depends_on: list[pulumi.Resource] | None = None,
            custom_timeouts: pulumi.CustomTimeouts | None = None,
        ) -> None:
            kind(
                f"{name}-{suffix}",
                metadata=metadata(manifest),
                spec=manifests.as_input(manifest["spec"]),
                opts=pulumi.ResourceOptions.merge(
                    k8s,
                    pulumi.ResourceOptions(
                        depends_on=depends_on or [], custom_timeouts=custom_timeouts
                    ),
                ),
            )

        if service.port is not None:
            declare(
                kubernetes.networking.v1.NetworkPolicy,
                "allow-ingress",
                manifests.allow_ingress(service),
            )
        if service.image is None:
            return
        # Nothing links the pods to the kubelet's right to pull their image.
        pulls = [args.image_pull_grant] if args.image_pull_grant else []
        declare(
            kubernetes.apps.v1.Deployment,
            "deployment",
            manifests.deployment(service, args.vault_uri, args.names.stack),
            depends_on=pulls,
            custom_timeouts=deployment_timeouts(service),
        )
        if service.port is not None:
            declare(kubernetes.core.v1.Service, "service", manifests.cluster_ip_service(service))

    def _bind_pod_identity(
        self,
        name: str,
        args: ServiceIdentityArgs,
        namespace: pulumi.Output[str],
        k8s: pulumi.ResourceOptions,
    ) -> None:
        service = args.settings
        # NMI, running as the kubelet identity, assigns this identity to the nodes
        # (LinkedAuthorizationFailed on .../assign/action without it).
        roles.assign_role(
            f"{name}-kubelet-managed-identity-operator",
            role=roles.MANAGED_IDENTITY_OPERATOR,
            scope=self.identity_resource_id,
            subscription_id=args.subscription_id,
            principal_id=args.kubelet_principal_id,
            principal_type=roles.SERVICE_PRINCIPAL,
            description=f"AAD Pod Identity assigns service {service.name}'s identity to nodes.",
            parent=self,
        )
        # The CRDs come with the Helm release; nothing else links these objects to it.
        crds = [args.pod_identity_release] if args.pod_identity_release else []
        with_crds = pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=crds))
        for kind, manifest in (
            (
                "azure-identity",
                manifests.azure_identity(service, self.identity_resource_id, self.client_id),
            ),
            ("azure-identity-binding", manifests.azure_identity_binding(service)),
        ):
            kubernetes.apiextensions.CustomResource(
                f"{name}-{kind}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=_in_namespace(manifest, namespace),
                spec=manifest["spec"],
                opts=with_crds,
            )


def _in_namespace(manifest: dict[str, Any], namespace: pulumi.Output[str]) -> Any:
    return manifests.as_input({**manifest["metadata"], "namespace": namespace})
