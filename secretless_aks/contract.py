"""The secretless-aks stack outputs: a versioned contract, and a typed reader for other programs.

This module is the one place that knows the output names, their shapes and which are secret.
The platform program exports through `OUTPUTS`, docs/contract.md's output table is checked against
it, and other Pulumi projects read a platform stack with `PlatformStack`:

    platform = PlatformStack("organization/secretless-aks/dev")
    issuer = platform.oidc_issuer_url            # Output[str]
    vault_id = platform.key_vault_resource_id

Every value waits for the stack's `contractVersion` to be checked, and a missing output fails
with its name and the stack's, instead of arriving as None. Application teams, which hold
neither the platform's state nor its key, read the document its environment publishes instead
(`PlatformStack.published(url)`, published_contract.py): the outputs marked `published`.

Versions: `contractVersion` is the major version, an integer; a new one may rename or reshape
outputs, and a reader refuses a major version it does not know. `contractMinorVersion` counts
additions within it: each output names the minor version that added it (`since`), a stack of an
earlier minor version lacks it, and the reader gives it as empty (a 1.0 stack exports neither
`contractMinorVersion` nor `appTeams`: minor version 0, no teams). An older reader ignores
outputs it does not know, so a 1.1 stack serves a 1.0 reader as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

CONTRACT_VERSION = 1
# Additions within version 1: 1.1 added contractMinorVersion and appTeams, 1.2
# registryLoginServer, 1.3 serviceGrants.
CONTRACT_MINOR_VERSION = 3
# Contract versions this reader understands. A new major version may rename or reshape.
SUPPORTED_CONTRACT_VERSIONS = frozenset({1})

# What a reader gives for an output a stack's minor version predates, by shape (a fresh one).
_ABSENT: dict[str, Callable[[], Any]] = {
    "integer": int,
    "string": str,
    "map": dict,
    "map of lists": dict,
    "map of grant lists": dict,
}


@dataclass(frozen=True)
class OutputSpec:
    name: str
    # "string", "integer", "object" (fixed fields), "map" (name -> object with fixed fields),
    # "map of lists" (name -> list of strings) or "map of grant lists" (name -> list of
    # objects with fixed fields)
    shape: str
    description: str
    fields: tuple[str, ...] = ()
    secret: bool = False
    # The minor version of the contract that added it (0: version 1.0).
    since: int = 0
    # In the published contract document too (published_contract.py), which application teams
    # read without the platform's state: what a team's project needs, and nothing else.
    published: bool = True
    # A string that may be empty, and says what empty means in its description.
    may_be_empty: bool = False

    @property
    def version(self) -> str:
        return f"{CONTRACT_VERSION}.{self.since}"


KUBELET_IDENTITY_FIELDS = ("clientId", "objectId", "resourceId")
GRANT_FIELDS = ("resource", "role")
SERVICE_FIELDS = (
    "clientId",
    "principalId",
    "identityResourceId",
    "namespace",
    "serviceAccount",
    "binding",
)

OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("contractVersion", "integer", "Major version of this output contract."),
    OutputSpec(
        "contractMinorVersion",
        "integer",
        "Minor version: outputs added within the major version (absent, and so 0, on 1.0).",
        since=1,
    ),
    OutputSpec("resourceGroupName", "string", "The environment's resource group.", published=False),
    OutputSpec("location", "string", "Azure region of the environment."),
    OutputSpec("tenantId", "string", "Entra ID tenant of the identities."),
    OutputSpec("subscriptionId", "string", "Subscription the environment lives in."),
    OutputSpec("clusterName", "string", "AKS cluster name."),
    OutputSpec(
        "clusterResourceId", "string", "AKS cluster resource id (scope for AKS RBAC roles)."
    ),
    OutputSpec(
        "nodeResourceGroup", "string", "The cluster's node resource group.", published=False
    ),
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
        published=False,
    ),
    OutputSpec(
        "appTeams",
        "map of lists",
        "Per application team (appTeams): the namespaces made for it, where its group may write.",
        since=1,
    ),
    OutputSpec(
        "kubeconfig",
        "string",
        "Cluster user kubeconfig; signs in with kubelogin, holds no static credential.",
        secret=True,
    ),
    OutputSpec(
        "registryLoginServer",
        "string",
        "The platform registry's login server, which the kubelet pulls from (empty: none).",
        since=2,
        may_be_empty=True,
    ),
    OutputSpec(
        "serviceGrants",
        "map of grant lists",
        "Per configured service: every data role its identity holds, {resource, role} (Key "
        "Vault, and its azureAccess), for consumers and audits.",
        GRANT_FIELDS,
        since=3,
    ),
)
OUTPUT_NAMES = tuple(spec.name for spec in OUTPUTS)
PUBLISHED_NAMES = tuple(spec.name for spec in OUTPUTS if spec.published)
_SPECS = {spec.name: spec for spec in OUTPUTS}


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


@dataclass(frozen=True)
class ServiceGrant:
    """A data role a service's identity holds: `role` (as Microsoft names it) on `resource`."""

    resource: str
    role: str


class PlatformStack:
    """A secretless-aks platform stack, read through a StackReference, or from the contract
    document its environment publishes (`PlatformStack.published`)."""

    def __init__(self, stack_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        self.stack_name = stack_name
        reference = pulumi.StackReference(f"platform-{stack_name}", stack_name, opts=opts)
        self._read(f"stack {stack_name!r}", reference.get_output, published=False)

    @classmethod
    def published(cls, url: str) -> PlatformStack:
        """The platform as the contract document at `url` (its environment's, bootstrap's
        PLATFORM_CONTRACT_URL) says: read once, signed in with DefaultAzureCredential (in a
        GitHub job, with the job's own OIDC token), needing neither the platform's state nor
        its key. It holds what an application project needs (PUBLISHED_NAMES); the other
        outputs are read through a stack reference."""
        from secretless_aks import published_contract

        document = published_contract.fetch(url)
        platform = cls.__new__(cls)
        platform.stack_name = url
        platform._read(
            f"the published contract {url}",
            lambda name: pulumi.Output.from_input(document.get(name)),
            published=True,
        )
        return platform

    def _read(
        self, where: str, get: Callable[[str], pulumi.Output[Any]], *, published: bool
    ) -> None:
        self._where, self._get, self._published = where, get, published
        self._version = get("contractVersion").apply(self._check_version)
        self._minor = pulumi.Output.all(self._version, get("contractMinorVersion")).apply(
            lambda args: _whole(args[1] or 0)
        )

    def _check_version(self, version: Any) -> int:
        if version is None:
            raise ContractError(
                f"{self._where} exports no contractVersion: it is not a "
                "secretless-aks platform stack, or it predates the output contract"
            )
        version = _whole(version)
        if version not in SUPPORTED_CONTRACT_VERSIONS:
            supported = ", ".join(str(v) for v in sorted(SUPPORTED_CONTRACT_VERSIONS))
            raise ContractError(
                f"{self._where} exports contract version {version}; this reader "
                f"understands version {supported}. Upgrade the secretless-aks package."
            )
        return int(version)

    def output(self, name: str) -> pulumi.Output[Any]:
        """One output by its contract name, after the version check; secrets stay secret. An
        output added after the stack's minor version is empty (0, or no entries)."""
        spec = _SPECS.get(name)
        if spec is None:
            raise ContractError(f"{name!r} is not a secretless-aks output; known: {OUTPUT_NAMES}")
        if self._published and not spec.published:
            raise ContractError(
                f"{name!r} is not in the published contract, which holds "
                f"{', '.join(PUBLISHED_NAMES)}: read it through a stack reference"
            )

        def present(args: list[Any]) -> Any:
            minor, value = args
            if value is not None:
                return value
            if minor < spec.since:
                return _ABSENT[spec.shape]()
            required = str(CONTRACT_VERSION) if spec.since == 0 else spec.version
            raise ContractError(
                f"{self._where} does not export {name!r}, which contract "
                f"version {required} requires"
            )

        value = pulumi.Output.all(self._minor, self._get(name)).apply(present)
        # The published kubeconfig is in clear (it holds no credential); kept secret here
        # all the same, so that both sources hand a project the same.
        return pulumi.Output.secret(value) if spec.secret and self._published else value

    @property
    def contract_version(self) -> pulumi.Output[int]:
        return self._version

    @property
    def contract_minor_version(self) -> pulumi.Output[int]:
        """0 for a stack of contract 1.0, which exports no minor version."""
        return self._minor

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

    @property
    def app_teams(self) -> pulumi.Output[dict[str, tuple[str, ...]]]:
        """Each application team's namespaces; none from a stack of contract 1.0."""
        return self.output("appTeams").apply(
            lambda teams: {team: tuple(namespaces) for team, namespaces in teams.items()}
        )

    @property
    def service_grants(self) -> pulumi.Output[dict[str, tuple[ServiceGrant, ...]]]:
        """Each platform service's data roles; none from a stack before contract 1.3."""
        return self.output("serviceGrants").apply(
            lambda services: {
                name: tuple(ServiceGrant(entry["resource"], entry["role"]) for entry in grants)
                for name, grants in services.items()
            }
        )

    def team_namespaces(self, team: str, namespaces: Sequence[str]) -> pulumi.Output[list[str]]:
        """`namespaces`, once checked to be namespaces the platform made for `team`, where its
        group may write: a ContractError names the team's own otherwise. A stack of contract
        1.0 lists no teams: the names are then given unchecked, with a warning."""
        wanted = list(dict.fromkeys(namespaces))

        def check(args: list[Any]) -> list[str]:
            minor, teams = args
            if minor < _SPECS["appTeams"].since:
                pulumi.log.warn(
                    f"{self._where} exports contract version {CONTRACT_VERSION}."
                    f"{minor}, which lists no application teams: cannot check that "
                    f"{', '.join(wanted)} belong to team {team!r}; they must exist, and the "
                    "team must be allowed to write there"
                )
                return wanted
            if team not in teams:
                known = ", ".join(sorted(teams)) or "none"
                raise ContractError(
                    f"{self._where} has no application team {team!r} (appTeams: "
                    f"{known}); ask the platform team to add it"
                )
            foreign = [namespace for namespace in wanted if namespace not in teams[team]]
            if foreign:
                raise ContractError(
                    f"team {team!r} of {self._where} may write only in namespaces "
                    f"{', '.join(teams[team])}, not in {', '.join(foreign)}; use its own, or ask "
                    "the platform team to add it to the team"
                )
            return wanted

        return pulumi.Output.all(self._minor, self.app_teams).apply(check)


def _whole(number: Any) -> Any:
    # Stack outputs carry every number as a float.
    return int(number) if isinstance(number, float) and number.is_integer() else number


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
