"""The secretless-aks stack outputs: a versioned contract, and a typed reader for other programs.

This module is the one place that knows the output names, their shapes and which are secret.
The platform program exports through `OUTPUTS`, the README's output table is checked against
it, and other Pulumi projects read a platform stack with `PlatformStack`:

    platform = PlatformStack("organization/secretless-aks/dev")
    issuer = platform.oidc_issuer_url            # Output[str]
    vault_id = platform.key_vault_resource_id

Every value waits for the stack's `contractVersion` to be checked, and a missing output fails
with its name and the stack's, instead of arriving as None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

CONTRACT_VERSION = 1
# Contract versions this reader understands. A new major version may rename or reshape.
SUPPORTED_CONTRACT_VERSIONS = frozenset({1})


@dataclass(frozen=True)
class OutputSpec:
    name: str
    shape: str  # "string", "integer", "object" (fixed fields) or "map" (name -> object)
    description: str
    fields: tuple[str, ...] = ()
    secret: bool = False


KUBELET_IDENTITY_FIELDS = ("clientId", "objectId", "resourceId")
SERVICE_FIELDS = (
    "clientId",
    "principalId",
    "identityResourceId",
    "namespace",
    "serviceAccount",
    "binding",
)

OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("contractVersion", "integer", "Version of this output contract."),
    OutputSpec("resourceGroupName", "string", "The environment's resource group."),
    OutputSpec("location", "string", "Azure region of the environment."),
    OutputSpec("tenantId", "string", "Entra ID tenant of the identities."),
    OutputSpec("subscriptionId", "string", "Subscription the environment lives in."),
    OutputSpec("clusterName", "string", "AKS cluster name."),
    OutputSpec(
        "clusterResourceId", "string", "AKS cluster resource id (scope for AKS RBAC roles)."
    ),
    OutputSpec("nodeResourceGroup", "string", "The cluster's node resource group."),
    OutputSpec(
        "oidcIssuerUrl",
        "string",
        "The cluster's OIDC issuer, exactly as Azure returns it (trailing slash included): "
        "the `issuer` of every federated credential.",
    ),
    OutputSpec(
        "kubeletIdentity",
        "object",
        "The kubelet identity (e.g. for AcrPull on a registry).",
        KUBELET_IDENTITY_FIELDS,
    ),
    OutputSpec("keyVaultName", "string", "The Key Vault's name."),
    OutputSpec("keyVaultUri", "string", "The Key Vault's URI, for `AddAzureKeyVault` and SDKs."),
    OutputSpec("keyVaultResourceId", "string", "The Key Vault's resource id (role scope)."),
    OutputSpec(
        "services",
        "map",
        "Per configured service: its identity and where its pods run.",
        SERVICE_FIELDS,
    ),
    OutputSpec(
        "kubeconfig",
        "string",
        "Cluster user kubeconfig; signs in with kubelogin, holds no static credential.",
        secret=True,
    ),
)
OUTPUT_NAMES = tuple(spec.name for spec in OUTPUTS)


class ContractError(Exception):
    """A referenced stack does not satisfy the contract this reader understands."""


@dataclass(frozen=True)
class KubeletIdentity:
    client_id: pulumi.Output[str]
    object_id: pulumi.Output[str]
    resource_id: pulumi.Output[str]


@dataclass(frozen=True)
class ServiceIdentity:
    client_id: str
    principal_id: str
    identity_resource_id: str
    namespace: str
    service_account: str
    binding: str


class PlatformStack:
    """A secretless-aks platform stack, read through a StackReference."""

    def __init__(self, stack_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        self.stack_name = stack_name
        self._reference = pulumi.StackReference(f"platform-{stack_name}", stack_name, opts=opts)
        self._version = self._reference.get_output("contractVersion").apply(self._check_version)

    def _check_version(self, version: Any) -> int:
        if version is None:
            raise ContractError(
                f"stack {self.stack_name!r} exports no contractVersion: it is not a "
                "secretless-aks platform stack, or it predates the output contract"
            )
        if isinstance(version, float) and version.is_integer():
            version = int(version)  # stack outputs carry every number as a float
        if version not in SUPPORTED_CONTRACT_VERSIONS:
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_CONTRACT_VERSIONS))
            raise ContractError(
                f"stack {self.stack_name!r} exports contract version {version}; this reader "
                f"understands version {supported}. Upgrade the secretless-aks package."
            )
        return int(version)

    def output(self, name: str) -> pulumi.Output[Any]:
        """One output by its contract name, after the version check; secrets stay secret."""
        if name not in OUTPUT_NAMES:
            raise ContractError(f"{name!r} is not a secretless-aks output; known: {OUTPUT_NAMES}")

        def present(args: list[Any]) -> Any:
            value = args[1]
            if value is None:
                raise ContractError(
                    f"stack {self.stack_name!r} does not export {name!r}, which contract "
                    f"version {args[0]} requires"
                )
            return value

        return pulumi.Output.all(self._version, self._reference.get_output(name)).apply(present)

    @property
    def contract_version(self) -> pulumi.Output[int]:
        return self._version

    @property
    def resource_group_name(self) -> pulumi.Output[str]:
        return self.output("resourceGroupName")

    @property
    def location(self) -> pulumi.Output[str]:
        return self.output("location")

    @property
    def tenant_id(self) -> pulumi.Output[str]:
        return self.output("tenantId")

    @property
    def subscription_id(self) -> pulumi.Output[str]:
        return self.output("subscriptionId")

    @property
    def cluster_name(self) -> pulumi.Output[str]:
        return self.output("clusterName")

    @property
    def cluster_resource_id(self) -> pulumi.Output[str]:
        return self.output("clusterResourceId")

    @property
    def node_resource_group(self) -> pulumi.Output[str]:
        return self.output("nodeResourceGroup")

    @property
    def oidc_issuer_url(self) -> pulumi.Output[str]:
        return self.output("oidcIssuerUrl")

    @property
    def key_vault_name(self) -> pulumi.Output[str]:
        return self.output("keyVaultName")

    @property
    def key_vault_uri(self) -> pulumi.Output[str]:
        return self.output("keyVaultUri")

    @property
    def key_vault_resource_id(self) -> pulumi.Output[str]:
        return self.output("keyVaultResourceId")

    @property
    def kubeconfig(self) -> pulumi.Output[str]:
        """Secret."""
        return self.output("kubeconfig")

    @property
    def kubelet_identity(self) -> KubeletIdentity:
        value = self.output("kubeletIdentity")
        return KubeletIdentity(
            client_id=value.apply(lambda v: v["clientId"]),
            object_id=value.apply(lambda v: v["objectId"]),
            resource_id=value.apply(lambda v: v["resourceId"]),
        )

    @property
    def services(self) -> pulumi.Output[dict[str, ServiceIdentity]]:
        return self.output("services").apply(
            lambda services: {
                name: ServiceIdentity(
                    client_id=entry["clientId"],
                    principal_id=entry["principalId"],
                    identity_resource_id=entry["identityResourceId"],
                    namespace=entry["namespace"],
                    service_account=entry["serviceAccount"],
                    binding=entry["binding"],
                )
                for name, entry in services.items()
            }
        )


def export(values: dict[str, Any]) -> None:
    """Export the platform's outputs, exactly the contract's names, secrets marked secret."""
    missing = set(OUTPUT_NAMES) - set(values)
    unknown = set(values) - set(OUTPUT_NAMES)
    if missing or unknown:
        raise ContractError(
            f"platform outputs drift from the contract: missing {sorted(missing)}, "
            f"not in the contract {sorted(unknown)}"
        )
    for spec in OUTPUTS:
        value = values[spec.name]
        pulumi.export(spec.name, pulumi.Output.secret(value) if spec.secret else value)
