"""The stack configuration's shape: one frozen pydantic model per area, field rules only.

Rules across fields live in `rules.py`, so that they can run even when an unrelated key is
wrong; every default is a named constant here and nowhere else.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from secretless_aks import published_contract
from secretless_aks.components import azure_limits
from secretless_aks.components.azure_limits import NameLimit
from secretless_aks.components.config_secrets import ConfigSecret
from secretless_aks.components.naming import MAX_STACK_NAME_LENGTH
from secretless_aks.components.secret_names import secret_name, validate_secret_name

PROJECT = "secretless-aks"
LOCATION_KEY = "azure-native:location"

# Defaults live here and nowhere else.
DEFAULT_MAX_PODS = 30
DEFAULT_SERVICE_CIDR = ipaddress.IPv4Network("172.16.0.0/16")
DEFAULT_DNS_SERVICE_IP = ipaddress.IPv4Address("172.16.0.10")
# The cluster's node pools upgrade one extra node at a time; the subnet must hold it too.
NODE_POOL_MAX_SURGE = 1
# Azure CNI (classic): pods take node-subnet addresses (AAD Pod Identity is unsafe on kubenet).
# Fixed, not configured; the rules check the network policy against it.
NETWORK_PLUGIN = "azure"
DEFAULT_NETWORK_POLICY: Final = "azure"
DEFAULT_UPGRADE_CHANNEL: Final = "patch"
DEFAULT_NODE_OS_UPGRADE_CHANNEL: Final = "NodeImage"
DEFAULT_MAINTENANCE_UTC_OFFSET = "+00:00"
DEFAULT_SOFT_DELETE_RETENTION_DAYS = 90
DEFAULT_PUBLIC_NETWORK_ACCESS = "Enabled"
DEFAULT_REPLICAS = 1

STACK_NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
STACK_NAME_LENGTH = (2, MAX_STACK_NAME_LENGTH)  # every Azure name, the vault's included, fits
IMAGE_PATTERN = r"^[^\s]+$"
# ARM ids are case-insensitive in their fixed segments ("resourcegroups" is common in the wild).
SUBNET_ID_PATTERN = (
    r"^(?i)/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"/resourceGroups/[^/]{1,90}/providers/Microsoft\.Network/virtualNetworks/[^/]{2,64}"
    r"/subnets/[^/]{1,80}$"
)
VM_SIZE_PATTERN = r"^Standard_[A-Za-z0-9_]+$"
# ASCII digits only: `\d` also matches other scripts' digits (Arabic-Indic, Devanagari...).
KUBERNETES_VERSION_PATTERN = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$"
UTC_OFFSET_PATTERN = r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$"
# Fields the program fills itself; a stack file cannot set them as secretless-aks:<key>.
INTERNAL_FIELDS = ("stack", "location")


def _name_check(limit: NameLimit) -> AfterValidator:
    def check(name: str) -> str:
        if limit.check(name) is not None:
            too_long = len(name) > limit.max_length
            raise PydanticCustomError(
                "name_limit",
                "expected {expected}",
                {
                    "expected": f"a valid {limit.what}: {limit.min_length}-{limit.max_length} "
                    f"{limit.rule}",
                    "length": len(name) if too_long else None,
                },
            )
        return name

    return AfterValidator(check)


def _not_reserved_namespace(namespace: str) -> str:
    owner = azure_limits.reserved_namespace_owner(namespace)
    if owner is not None:
        raise ValueError(f"belongs to {owner}; choose a namespace of your own")
    return namespace


def _not_default_service_account(account: str) -> str:
    if account == azure_limits.DEFAULT_SERVICE_ACCOUNT:
        raise ValueError(
            "every pod in the namespace without a ServiceAccount of its own runs as 'default'; "
            "give the service a ServiceAccount of its own"
        )
    return account


DIGEST_PATTERN = r"@sha256:[0-9a-f]{64}$"


def pinned_by_digest(image: str) -> bool:
    return re.search(DIGEST_PATTERN, image) is not None


def _pinned_image(image: str) -> str:
    """A tag or a digest: without one (or with `latest`) the image can change under a running
    service, and two replicas can run different code."""
    if pinned_by_digest(image):
        return image
    tag = image.rpartition("/")[2].partition(":")[2]
    if not tag:
        raise ValueError(f"has no tag, so it means :latest; {_PIN_ADVICE}")
    if tag == "latest":
        raise ValueError(f"':latest' moves with every push; {_PIN_ADVICE}")
    return image


_PIN_ADVICE = "pin a version tag (e.g. ghcr.io/contoso/app:1.2.3) or a digest (@sha256:...)"

# Part of every Azure name the stack makes (the vault's included), so it must fit them all.
StackName = Annotated[
    str,
    Field(
        pattern=STACK_NAME_PATTERN, min_length=STACK_NAME_LENGTH[0], max_length=STACK_NAME_LENGTH[1]
    ),
]
VaultName = Annotated[str, _name_check(azure_limits.KEY_VAULT)]
ResourceGroupName = Annotated[str, _name_check(azure_limits.RESOURCE_GROUP)]
Location = Annotated[str, _name_check(azure_limits.LOCATION)]
ServiceName = Annotated[str, _name_check(azure_limits.KUBERNETES_SERVICE)]
Namespace = Annotated[
    str, _name_check(azure_limits.KUBERNETES_NAMESPACE), AfterValidator(_not_reserved_namespace)
]
ServiceAccountName = Annotated[
    str,
    _name_check(azure_limits.KUBERNETES_SERVICE_ACCOUNT),
    AfterValidator(_not_default_service_account),
]
SecretName = Annotated[str, AfterValidator(validate_secret_name)]
# Our own rule, not Azure's: a team's name keys the appTeams output and names its resources.
TEAM_NAME = NameLimit(
    "team name",
    1,
    63,
    azure_limits.KUBERNETES_SERVICE.pattern,
    azure_limits.KUBERNETES_SERVICE.rule,
)
TeamName = Annotated[str, _name_check(TEAM_NAME)]


class ConfigModel(BaseModel):
    # frozen: components cannot change config; extra=forbid: a typo is an error, not a default.
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, validate_by_name=False
    )

    @classmethod
    def with_defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Defaults that depend on other keys, filled in before the fields are validated."""
        return data

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        return cls.with_defaults(data) if isinstance(data, dict) else data


NodeCount = Annotated[StrictInt, Field(ge=1, le=1000)]
VmSize = Annotated[str, Field(pattern=VM_SIZE_PATTERN)]
Zones = Annotated[tuple[Literal["1", "2", "3"], ...], Field(min_length=1, max_length=3)]
MaxPods = Annotated[StrictInt, Field(ge=10, le=250)]
NetworkPolicy = Literal["azure", "calico"]
UpgradeChannel = Literal["none", "patch", "stable", "rapid", "node-image"]
NodeOsUpgradeChannel = Literal["None", "Unmanaged", "NodeImage", "SecurityPatch"]
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class MaintenanceWindow(ConfigModel):
    """`cluster.maintenanceWindow`: when AKS may upgrade the cluster and its nodes, weekly."""

    day_of_week: WeekDay
    start_hour: Annotated[StrictInt, Field(ge=0, le=23)]
    duration_hours: Annotated[
        StrictInt,
        Field(
            ge=azure_limits.MAINTENANCE_WINDOW_HOURS[0], le=azure_limits.MAINTENANCE_WINDOW_HOURS[1]
        ),
    ]
    utc_offset: Annotated[str, Field(pattern=UTC_OFFSET_PATTERN)] = DEFAULT_MAINTENANCE_UTC_OFFSET


class UserPoolConfig(ConfigModel):
    """`cluster.userPool`: a node pool for workloads, apart from the system pool."""

    node_count: NodeCount
    node_vm_size: VmSize
    availability_zones: Zones | None = None
    max_pods: MaxPods = DEFAULT_MAX_PODS


class ClusterConfig(ConfigModel):
    """`secretless-aks:cluster`: the AKS cluster, its system node pool and its user pool."""

    node_count: NodeCount
    node_vm_size: VmSize
    tier: Literal["Free", "Standard"]
    kubernetes_version: Annotated[str, Field(pattern=KUBERNETES_VERSION_PATTERN)] | None = None
    disable_local_accounts: StrictBool = True
    admin_group_object_ids: Annotated[tuple[uuid.UUID, ...], EntryList] = ()
    availability_zones: Zones | None = None
    max_pods: MaxPods = DEFAULT_MAX_PODS
    network_policy: NetworkPolicy = DEFAULT_NETWORK_POLICY
    upgrade_channel: UpgradeChannel = DEFAULT_UPGRADE_CHANNEL
    node_os_upgrade_channel: NodeOsUpgradeChannel = DEFAULT_NODE_OS_UPGRADE_CHANNEL
    maintenance_window: MaintenanceWindow | None = None
    # With a user pool, the system pool runs critical add-ons only.
    user_pool: UserPoolConfig | None = None
    # None: the API server answers every address (Entra ID and Azure RBAC still guard it).
    api_server_authorized_ip_ranges: tuple[ipaddress.IPv4Network, ...] | None = None


class NetworkConfig(ConfigModel):
    """`secretless-aks:network`: an existing subnet, or a VNet and node subnet to create."""

    existing_subnet_id: Annotated[str, Field(pattern=SUBNET_ID_PATTERN)] | None = None
    address_space: ipaddress.IPv4Network | None = None
    node_subnet_prefix: ipaddress.IPv4Network | None = None
    service_cidr: ipaddress.IPv4Network = DEFAULT_SERVICE_CIDR
    dns_service_ip: ipaddress.IPv4Address = DEFAULT_DNS_SERVICE_IP


class ExistingVault(ConfigModel):
    """A vault another team owns; it is read, never created or changed."""

    name: VaultName
    resource_group: ResourceGroupName
    subscription_id: uuid.UUID | None = None


class KeyVaultConfig(ConfigModel):
    """`secretless-aks:keyVault`: create a vault (the default) or use an existing one."""

    existing: ExistingVault | None = None
    # Default: on when the stack protects its resources (prod). Once on, Azure never turns
    # it off again; a purged vault cannot be recovered, a protected one can.
    purge_protection: StrictBool | None = None
    soft_delete_retention_days: Annotated[StrictInt, Field(ge=7, le=90)] | None = None
    public_network_access: Literal["Enabled", "Disabled"] | None = None
    allowed_ip_ranges: tuple[ipaddress.IPv4Network, ...] = ()


KeyVaultRole = Literal["secretsUser", "secretsOfficer", "none"]
Binding = Literal["workloadIdentity", "podIdentity", "both"]


class ServiceAccountRef(ConfigModel):
    """Another ServiceAccount (a job's, say) federated to the same identity."""

    namespace: Namespace
    service_account: ServiceAccountName


# How many of each a stack may hold: well above real use (the benchmark plans 300 services), and
# low enough that a hostile stack file is refused in a second, before any work.
MAX_SERVICES = 1_000
MAX_APP_TEAMS = 200
MAX_SECRETS = 1_000
# Lists inside one entry: secretScope, allowIngressFrom, a team's namespaces and secrets.
MAX_ENTRY_LIST = 100
EntryList = Field(max_length=MAX_ENTRY_LIST)

# `secretScope: ["*"]`: every secret in the vault, said explicitly.
VAULT_WIDE = "*"


def _scope_entry(value: str) -> str:
    return value if value == VAULT_WIDE else validate_secret_name(value)


SecretScopeEntry = Annotated[str, AfterValidator(_scope_entry)]


# An HTTP path a probe asks: absolute, printable ASCII, no spaces.
PROBE_PATH_PATTERN = r"^/[!-~]{0,255}$"
# The sample app's startup grace for a role assignment to take effect (its
# STARTUP_FORBIDDEN_GRACE_SECONDS default, after Azure's "up to 10 minutes"), and a minute more.
DEFAULT_STARTUP_BUDGET_SECONDS = 660


class ProbesConfig(ConfigModel):
    """A service's `probes`: startup and readiness on `readinessPath`, liveness on
    `livenessPath`, all on the service's port. `probes: {}` takes these defaults."""

    readiness_path: Annotated[str, Field(pattern=PROBE_PATH_PATTERN)] = "/readyz"
    liveness_path: Annotated[str, Field(pattern=PROBE_PATH_PATTERN)] = "/healthz"
    period_seconds: Annotated[StrictInt, Field(ge=1, le=60)] = 10
    failure_threshold: Annotated[StrictInt, Field(ge=1, le=30)] = 3
    # How long the app may take to become ready before the kubelet restarts it: at least the
    # app's own startup grace, so that it is never restarted in the middle of it.
    startup_budget_seconds: Annotated[StrictInt, Field(ge=10, le=3600)] = (
        DEFAULT_STARTUP_BUDGET_SECONDS
    )


def _resource_kind(resource: str) -> str | None:
    """A resource id's type, lower-cased, or None for text that is not one."""
    from secretless_aks.components import access_catalogue  # it imports roles, which imports us

    try:
        return access_catalogue.parse_resource_id(resource).kind
    except ValueError:
        return None


# What a binding's pods pin DefaultAzureCredential to (AZURE_TOKEN_CREDENTIALS).
TOKEN_CREDENTIALS: dict[str, str] = {
    "workloadIdentity": "WorkloadIdentityCredential",
    "podIdentity": "ManagedIdentityCredential",
    "both": "prod",
}


class AzureAccessConfig(ConfigModel):
    """One entry of a service's `azureAccess`: a data role on one Azure resource, from the
    access catalogue (components/access_catalogue.py), which the rules check it against."""

    resource: Annotated[str, Field(min_length=1, max_length=2048)]
    role: Annotated[str, Field(min_length=1, max_length=128)]


# Azure allows 4000 role assignments per subscription; a service that needs more than this many
# grants wants a resource group of its own data, not a longer list.
MAX_AZURE_ACCESS = 50


class ServiceConfig(ConfigModel):
    """One entry of `secretless-aks:services`: an application and its own identity."""

    name: ServiceName
    namespace: Namespace
    service_account: ServiceAccountName
    binding: Binding = "workloadIdentity"
    key_vault_role: KeyVaultRole = "secretsUser"
    # The secrets the identity reads, each granted on its own; ["*"] says every secret in the
    # vault, on purpose. Left out it means vault-wide too (as before), which the plan warns of.
    secret_scope: Annotated[tuple[SecretScopeEntry, ...], EntryList] | None = None
    image: (
        Annotated[str, Field(pattern=IMAGE_PATTERN, max_length=512), AfterValidator(_pinned_image)]
        | None
    ) = None
    replicas: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    # Opt-in: images without these endpoints keep working with no probes rendered.
    probes: ProbesConfig | None = None
    # Namespaces whose pods may reach `port`, besides the service's own.
    allow_ingress_from: Annotated[tuple[Namespace, ...], EntryList] = ()
    additional_service_accounts: tuple[ServiceAccountRef, ...] = ()
    # Whether the Deployment pins DefaultAzureCredential to its binding's credential
    # (AZURE_TOKEN_CREDENTIALS): the platform's services always do (the config refuses false);
    # an application project's only when it opts in, since older SDKs know only dev and prod.
    pin_credential: StrictBool | None = None
    # Data roles on Azure services beyond Key Vault, each on exactly one resource.
    azure_access: Annotated[tuple[AzureAccessConfig, ...], Field(max_length=MAX_AZURE_ACCESS)] = ()
    # The first of the two steps that remove a service from a protected stack: it keeps the
    # service, without protection, so that the next deploy can remove it.
    retire: StrictBool = False

    @property
    def uses_workload_identity(self) -> bool:
        return self.binding in ("workloadIdentity", "both")

    @property
    def token_credentials(self) -> str | None:
        """AZURE_TOKEN_CREDENTIALS for the binding, or None when the credential is not pinned:
        the one credential the binding provides, or `prod` (workload identity, then managed
        identity) while a migration needs both. Specific names need azure-identity 1.24.0 or
        later (its changelog, 1.24.0b1); `dev` and `prod` came with 1.23.0."""
        if self.pin_credential is False:
            return None
        return TOKEN_CREDENTIALS[self.binding]

    def granted_on(self, kind: str, role_names: tuple[str, ...]) -> tuple[str, ...]:
        """The resources of `kind` (a lower-cased resource type) this service holds one of
        `role_names` on (its azureAccess), as given."""
        return tuple(
            access.resource
            for access in self.azure_access
            if access.role in role_names and _resource_kind(access.resource) == kind
        )

    @property
    def vault_wide(self) -> bool:
        """Whether the identity's Key Vault role is on the whole vault (no secrets named)."""
        return self.secret_scope is None or VAULT_WIDE in self.secret_scope

    @property
    def named_secrets(self) -> tuple[str, ...]:
        """The secrets the role is granted on one by one (none when vault-wide)."""
        return () if self.vault_wide else tuple(self.secret_scope or ())

    @property
    def uses_pod_identity(self) -> bool:
        return self.binding in ("podIdentity", "both")

    @property
    def federated_service_accounts(self) -> tuple[tuple[str, str], ...]:
        """(namespace, serviceAccount) of every credential on this identity, its own first."""
        if not self.uses_workload_identity:
            return ()
        extra = [(ref.namespace, ref.service_account) for ref in self.additional_service_accounts]
        return ((self.namespace, self.service_account), *extra)

    @classmethod
    def with_defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        # namespace and serviceAccount default to the name. An invalid name is reported once,
        # on `name`, not again on each default.
        if "name" not in data:
            return data
        name = data["name"]
        valid = isinstance(name, str) and azure_limits.KUBERNETES_SERVICE.check(name) is None
        default = name if valid else "x"
        return {"namespace": default, "serviceAccount": default, **data}


class AppTeamConfig(ConfigModel):
    """One entry of `secretless-aks:appTeams`: an application team's Entra group, and what the
    platform grants it (Kubernetes access to its own namespaces, and optionally the right to
    let its applications read named secrets of the platform's vault)."""

    name: TeamName
    group_object_id: uuid.UUID
    namespaces: Annotated[tuple[Namespace, ...], EntryList]
    # None: the team gets no right on the platform's vault (its applications bring their own).
    platform_vault_secrets: Annotated[tuple[SecretName, ...], EntryList] | None = None
    # The team's CI deploy identity in this environment (bootstrap's teamVariables
    # DEPLOYER_OBJECT_ID, which CI sets): it gets what the group gets, so the team's pipeline
    # deploys without a person. None: only the group's people do.
    deployer_object_id: uuid.UUID | None = None


# `image: registry/<repository>@sha256:<digest>` names an image in the platform's registry.
PLATFORM_REGISTRY_PREFIX = "registry/"


def in_registry(image: str, login_server: str) -> str:
    """`image` with a leading `registry/` written as the platform registry's login server."""
    if not image.startswith(PLATFORM_REGISTRY_PREFIX):
        return image
    return f"{login_server}/{image.removeprefix(PLATFORM_REGISTRY_PREFIX)}"


REGISTRY_ID_PATTERN = (
    r"^(?i)/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"/resourceGroups/[^/]{1,90}/providers/Microsoft\.ContainerRegistry/registries/"
    r"[A-Za-z0-9]{5,50}$"
)
LOGIN_SERVER_PATTERN = r"^[a-z0-9]{5,50}\.azurecr\.(io|us|cn)$"
# A registry host as an image names it: lowercase DNS labels, an optional port; no scheme,
# path or wildcard.
REGISTRY_HOST_PATTERN = (
    r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$"
)
# Where an image without a registry host comes from.
DOCKER_HUB = "docker.io"


def image_registry(image: str) -> str:
    """The registry host of an image reference, as Docker reads it: the first path segment
    when it looks like a host (a `.` or `:`, or `localhost`), else Docker Hub.
    policy/secretless_policy/kubernetes.py holds the same; a test compares them."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


RegistryHost = Annotated[str, Field(pattern=REGISTRY_HOST_PATTERN, max_length=253)]


class RegistryConfig(ConfigModel):
    """`secretless-aks:registry`: bootstrap's registry, which the kubelet identity pulls from.
    CI sets it from its environment's REGISTRY_ID and REGISTRY_LOGIN_SERVER."""

    id: Annotated[str, Field(pattern=REGISTRY_ID_PATTERN)]
    login_server: Annotated[str, Field(pattern=LOGIN_SERVER_PATTERN)]


def _config_path(path: str) -> str:
    secret_name(path)  # raises SecretNameError (a ValueError) naming what is wrong
    return path


# An application config path (`Identity:Secret`) that maps to a Key Vault secret name.
ConfigPath = Annotated[str, Field(max_length=512), AfterValidator(_config_path)]
# A generated value's length in letters and digits: 16 carry 95 bits, enough for a credential;
# 1024 is far above any setting's need and far below Key Vault's 25 KB for a value.
GENERATED_SECRET_LENGTH = (16, 1024)


class GeneratedSecretConfig(ConfigModel):
    """One entry of `generatedSecrets`: an application setting whose value `random` makes
    (letters and digits), kept secret in state and seeded into the vault like `secrets`."""

    path: ConfigPath
    length: Annotated[
        StrictInt, Field(ge=GENERATED_SECRET_LENGTH[0], le=GENERATED_SECRET_LENGTH[1])
    ]

    @property
    def name(self) -> str:
        """The Key Vault secret name: `Identity:Secret` -> `Identity--Secret`."""
        return secret_name(self.path)


# The verifier's canary (python -m secretless_aks.verify): a secret no service may be granted,
# so that each service's identity can be shown a 403. Its value is generated, never read.
CANARY = GeneratedSecretConfig(path="secretless-verify:canary", length=32)


# The principal types ARM accepts for a principal that already exists (a deployer).
DeployerPrincipalType = Literal["ServicePrincipal", "User", "Group"]


class DeployerConfig(ConfigModel):
    """One entry of `deployers`: a principal that runs `pulumi up` for the stack, and so
    creates the Kubernetes objects and seeds the vault's secrets. CI sets its deploy identity
    here from its environment's DEPLOYER_OBJECT_ID; the grants never depend on who runs."""

    object_id: uuid.UUID
    principal_type: DeployerPrincipalType


def _contract_blob_url(url: str) -> str:
    problem = published_contract.url_problem(url)
    if problem is not None:
        raise ValueError(problem)
    return url


# Where the environment's contract is published: bootstrap's PLATFORM_CONTRACT_URL.
ContractBlobUrl = Annotated[str, AfterValidator(_contract_blob_url)]


# Days a created Log Analytics workspace keeps the audit logs: Log Analytics' range is 30-730
# for the PerGB2018 tier (learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure).
WORKSPACE_RETENTION_DAYS = (30, 730)
DEFAULT_WORKSPACE_RETENTION_DAYS = 90
WORKSPACE_ID_PATTERN = (
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]+/providers/"
    r"Microsoft\.OperationalInsights/workspaces/[-A-Za-z0-9]{4,63}$"
)


class CreateWorkspaceConfig(ConfigModel):
    retention_days: Annotated[
        StrictInt, Field(ge=WORKSPACE_RETENTION_DAYS[0], le=WORKSPACE_RETENTION_DAYS[1])
    ] = DEFAULT_WORKSPACE_RETENTION_DAYS


class MonitoringConfig(ConfigModel):
    """`secretless-aks:monitoring`: where the vault's and the cluster's audit logs go. `{}`:
    a workspace of the stack's own on a protected stack, none otherwise; `{off: true}`; an
    existing workspace (`{workspaceId}`); or one created (`{create: {retentionDays}}`)."""

    off: StrictBool = False
    workspace_id: Annotated[str, Field(pattern=WORKSPACE_ID_PATTERN)] | None = None
    create: CreateWorkspaceConfig | None = None

    def target(self, protect: bool) -> CreateWorkspaceConfig | str | None:
        """A workspace to create, an existing one's id, or None: monitoring off."""
        if self.off:
            return None
        if self.workspace_id is not None:
            return self.workspace_id
        if self.create is not None or protect:
            return self.create or CreateWorkspaceConfig()
        return None


class StackConfig(ConfigModel):
    """Everything one stack (environment) is configured with."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    stack: StackName
    location: Location
    cluster: ClusterConfig
    network: NetworkConfig
    # Who gets the deployer's grants (AKS RBAC Cluster Admin, Key Vault Secrets Officer).
    deployers: Annotated[tuple[DeployerConfig, ...], EntryList] = ()
    # bootstrap's registry: the kubelet identity gets AcrPull there.
    registry: RegistryConfig | None = None
    # The blob each `pulumi up` writes the published contract to (CI sets it); none: unpublished.
    publish_contract_to: ContractBlobUrl | None = None
    # Where the vault's and the cluster's audit logs go (MonitoringConfig.target).
    monitoring: MonitoringConfig = MonitoringConfig()
    # An Entra group that gets the services' data roles, for running them locally (dev only).
    developers: uuid.UUID | None = None
    # Registries (login servers) services' images may come from besides the platform's.
    allowed_registries: Annotated[tuple[RegistryHost, ...], EntryList] = ()
    protect: StrictBool = False
    key_vault: KeyVaultConfig = KeyVaultConfig()
    services: Annotated[tuple[ServiceConfig, ...], Field(max_length=MAX_SERVICES)] = ()
    app_teams: Annotated[tuple[AppTeamConfig, ...], Field(max_length=MAX_APP_TEAMS)] = ()
    secrets: Annotated[tuple[ConfigSecret, ...], Field(max_length=MAX_SECRETS)] = ()
    # Settings whose values `random` makes, seeded like `secrets`.
    generated_secrets: Annotated[
        tuple[GeneratedSecretConfig, ...], Field(max_length=MAX_SECRETS)
    ] = ()

    @classmethod
    def with_defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        # `registry: {}` is Pulumi.yaml's default for a stack without one (the CLI hands the
        # declared default to the program): no registry.
        # `publishContractTo: ""` likewise: none.
        defaults = {"registry": {}, "publishContractTo": "", "developers": ""}
        return {
            key: value
            for key, value in data.items()
            if key not in defaults or value != defaults[key]
        }

    def with_registry_images(self, service: ServiceConfig) -> ServiceConfig:
        """`service` with `registry/...` in its image written as the registry's login server."""
        if self.registry is None or not service.image:
            return service
        return service.model_copy(
            update={"image": in_registry(service.image, self.registry.login_server)}
        )

    @property
    def seeds_secrets(self) -> bool:
        """Whether the stack writes secrets into the vault (from config or generated)."""
        return bool(self.secrets or self.generated_secrets)

    @property
    def no_canary_because(self) -> str | None:
        """Why the stack seeds no canary (CANARY), or None when it does: only into a vault it
        creates, and that Pulumi can delete it from again (see _seeded_secrets_can_be_deleted).
        An existing vault outlives the stack, and would keep the deleted canary soft-deleted,
        which refuses the next stack's write of it."""
        if self.key_vault.existing is not None:
            return "the vault is not this stack's (keyVault.existing), so it seeds no canary"
        if self.key_vault.public_network_access == "Disabled":
            return "the vault's public network access is Disabled, so the stack seeds no canary"
        return None

    @property
    def vault_generated_secrets(self) -> tuple[GeneratedSecretConfig, ...]:
        """What `random` makes for the vault: `generatedSecrets`, and the canary if seeded."""
        canary = (CANARY,) if self.no_canary_because is None else ()
        return self.generated_secrets + canary

    @property
    def purge_protection(self) -> bool:
        setting = self.key_vault.purge_protection
        return self.protect if setting is None else setting
