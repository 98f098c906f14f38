"""Stack configuration: read once, validated completely, frozen.

Components never call `pulumi.Config`; `__main__` loads a `StackConfig` here and hands each
component the part it needs. Every rule is checked before a resource is declared, and all
problems are reported together, each naming its key as it is written in the stack file.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
import typing
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
import pulumi.runtime.config
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.config_secrets import SECRETS_KEY, ConfigSecret, parse_config_secrets
from components.secret_names import validate_secret_name

PROJECT = "secretless-aks"
LOCATION_KEY = "azure-native:location"

# Defaults live here and nowhere else.
DEFAULT_MAX_PODS = 30
DEFAULT_SERVICE_CIDR = ipaddress.IPv4Network("172.16.0.0/16")
DEFAULT_DNS_SERVICE_IP = ipaddress.IPv4Address("172.16.0.10")
# The cluster's node pool upgrades one extra node at a time; the subnet must hold it too.
NODE_POOL_MAX_SURGE = 1
# Azure keeps the first four addresses and the last one of every subnet.
AZURE_RESERVED_ADDRESSES_PER_SUBNET = 5
# Ranges AKS keeps for itself; a service CIDR must not overlap them.
# https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites
AKS_RESERVED_RANGES = tuple(
    ipaddress.IPv4Network(cidr)
    for cidr in ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24")
)

STACK_NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
STACK_NAME_LENGTH = (2, 16)  # every Azure name below, the vault's included, fits
# Kubernetes object names: an RFC 1123 label (namespaces, services), a subdomain (accounts).
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
VAULT_NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$"
RESOURCE_GROUP_PATTERN = r"^[-\w.()]*[-\w()]$"
IMAGE_PATTERN = r"^[^\s]+$"
DEFAULT_SOFT_DELETE_RETENTION_DAYS = 90
DEFAULT_PUBLIC_NETWORK_ACCESS = "Enabled"
DEFAULT_REPLICAS = 1
# ARM ids are case-insensitive in their fixed segments ("resourcegroups" is common in the wild).
SUBNET_ID_PATTERN = (
    r"^(?i)/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"/resourceGroups/[^/]{1,90}/providers/Microsoft\.Network/virtualNetworks/[^/]{2,64}"
    r"/subnets/[^/]{1,80}$"
)
VM_SIZE_PATTERN = r"^Standard_[A-Za-z0-9_]+$"
KUBERNETES_VERSION_PATTERN = r"^\d+\.\d+(\.\d+)?$"
LOCATION_PATTERN = r"^[a-z][a-z0-9]+$"
# What each pattern means, for error messages a person can act on.
PATTERN_HINTS = {
    SUBNET_ID_PATTERN: "a subnet resource id: /subscriptions/<subscription id>/resourceGroups/"
    "<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
    VM_SIZE_PATTERN: "an Azure VM size such as Standard_D4s_v5",
    KUBERNETES_VERSION_PATTERN: "a Kubernetes version such as 1.35 or 1.35.2",
    LOCATION_PATTERN: "an Azure region name such as westeurope (lowercase, no spaces)",
    DNS_LABEL_PATTERN: "a Kubernetes name: lowercase letters, digits and '-', "
    "starting and ending with a letter or digit",
    DNS_SUBDOMAIN_PATTERN: "a Kubernetes name: lowercase letters, digits, '-' and '.'",
    VAULT_NAME_PATTERN: "a Key Vault name: 3-24 letters, digits and hyphens, starting with a "
    "letter and ending with a letter or digit",
    RESOURCE_GROUP_PATTERN: "a resource group name: letters, digits, '-', '_', '.', '(' and ')', "
    "not ending in '.'",
    IMAGE_PATTERN: "a container image reference without spaces",
}
# What pydantic's error kinds mean, in the words of a stack file.
KIND_HINTS = {
    "ip_v4_network": "an IPv4 CIDR such as 10.40.0.0/16",
    "ip_v4_address": "an IPv4 address such as 172.16.0.10",
    "uuid_parsing": "an Entra object id (a GUID)",
    "uuid_type": "an Entra object id (a GUID)",
    "bool_type": "true or false (unquoted)",
    "int_type": "a whole number (unquoted)",
    "dict_type": "an object (key: value pairs)",
    "model_type": "an object (key: value pairs)",
    "tuple_type": "a list",
}
# Fields the program fills itself; a stack file cannot set them as secretless-aks:<key>.
INTERNAL_FIELDS = ("stack", "location")


class ConfigError(pulumi.RunError):
    """Bad stack configuration. Raised before any resource is declared."""


class KeyRuleError(ValueError):
    """A rule across several fields, reported against the one key the user should change."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class _Model(BaseModel):
    # frozen: components cannot change config; extra=forbid: a typo is an error, not a default.
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, validate_by_name=False
    )


class ClusterConfig(_Model):
    """`secretless-aks:cluster`: the AKS cluster and its system node pool."""

    node_count: Annotated[StrictInt, Field(ge=1, le=1000)]
    node_vm_size: Annotated[str, Field(pattern=VM_SIZE_PATTERN)]
    tier: Literal["Free", "Standard"]
    kubernetes_version: Annotated[str, Field(pattern=KUBERNETES_VERSION_PATTERN)] | None = None
    disable_local_accounts: StrictBool = True
    admin_group_object_ids: tuple[uuid.UUID, ...] = ()
    availability_zones: (
        Annotated[tuple[Literal["1", "2", "3"], ...], Field(min_length=1, max_length=3)] | None
    ) = None
    max_pods: Annotated[StrictInt, Field(ge=10, le=250)] = DEFAULT_MAX_PODS

    @model_validator(mode="after")
    def _no_repeats(self) -> ClusterConfig:
        for key, values in (
            ("adminGroupObjectIds", self.admin_group_object_ids),
            ("availabilityZones", self.availability_zones or ()),
        ):
            if len(set(values)) != len(values):
                raise KeyRuleError(key, "each entry must appear once")
        return self


class NetworkConfig(_Model):
    """`secretless-aks:network`: an existing subnet, or a VNet and node subnet to create."""

    existing_subnet_id: Annotated[str, Field(pattern=SUBNET_ID_PATTERN)] | None = None
    address_space: ipaddress.IPv4Network | None = None
    node_subnet_prefix: ipaddress.IPv4Network | None = None
    service_cidr: ipaddress.IPv4Network = DEFAULT_SERVICE_CIDR
    dns_service_ip: ipaddress.IPv4Address = DEFAULT_DNS_SERVICE_IP

    @model_validator(mode="after")
    def _one_source_of_subnet(self) -> NetworkConfig:
        cidrs = (self.address_space, self.node_subnet_prefix)
        if self.existing_subnet_id is not None:
            if any(cidrs):
                raise KeyRuleError(
                    "existingSubnetId",
                    "give either existingSubnetId or addressSpace + nodeSubnetPrefix, not both",
                )
            return self
        if self.address_space is None or self.node_subnet_prefix is None:
            missing = "addressSpace" if self.address_space is None else "nodeSubnetPrefix"
            raise KeyRuleError(
                missing,
                "required unless existingSubnetId is given "
                "(set both addressSpace and nodeSubnetPrefix, or existingSubnetId)",
            )
        if not self.node_subnet_prefix.subnet_of(self.address_space):
            raise KeyRuleError(
                "nodeSubnetPrefix",
                f"{self.node_subnet_prefix} does not lie inside addressSpace {self.address_space}",
            )
        return self

    @model_validator(mode="after")
    def _service_range_is_usable(self) -> NetworkConfig:
        if self.address_space is not None and self.service_cidr.overlaps(self.address_space):
            raise KeyRuleError(
                "serviceCidr",
                f"{self.service_cidr} overlaps addressSpace {self.address_space}; "
                "Kubernetes service addresses must not collide with the VNet",
            )
        for reserved in AKS_RESERVED_RANGES:
            if self.service_cidr.overlaps(reserved):
                raise KeyRuleError(
                    "serviceCidr", f"{self.service_cidr} overlaps {reserved}, which AKS reserves"
                )
        hosts = self.service_cidr.num_addresses
        first_usable = self.service_cidr.network_address + 2  # .1 is the kubernetes service
        if not (
            first_usable <= self.dns_service_ip < self.service_cidr.network_address + hosts - 1
        ):
            raise KeyRuleError(
                "dnsServiceIp",
                f"{self.dns_service_ip} must be an address inside serviceCidr "
                f"{self.service_cidr} other than its first two and its last",
            )
        return self


class ExistingVault(_Model):
    """A vault another team owns; it is read, never created or changed."""

    name: Annotated[str, Field(pattern=VAULT_NAME_PATTERN)]
    resource_group: Annotated[
        str, Field(min_length=1, max_length=90, pattern=RESOURCE_GROUP_PATTERN)
    ]
    subscription_id: uuid.UUID | None = None


class KeyVaultConfig(_Model):
    """`secretless-aks:keyVault`: create a vault (the default) or use an existing one."""

    existing: ExistingVault | None = None
    # Default: on when the stack protects its resources (prod). Once on, Azure never turns
    # it off again; a purged vault cannot be recovered, a protected one can.
    purge_protection: StrictBool | None = None
    soft_delete_retention_days: Annotated[StrictInt, Field(ge=7, le=90)] | None = None
    public_network_access: Literal["Enabled", "Disabled"] | None = None
    allowed_ip_ranges: tuple[ipaddress.IPv4Network, ...] = ()

    @model_validator(mode="after")
    def _creation_settings_need_a_created_vault(self) -> KeyVaultConfig:
        if self.existing is not None:
            for name in sorted(self.model_fields_set - {"existing"}):
                raise KeyRuleError(
                    to_camel(name),
                    "applies only to a vault this stack creates, not an existing one",
                )
        if self.allowed_ip_ranges and self.public_network_access == "Disabled":
            raise KeyRuleError(
                "allowedIpRanges", "has no effect with publicNetworkAccess Disabled; remove one"
            )
        return self

    @model_validator(mode="after")
    def _existing_name_has_no_double_hyphen(self) -> KeyVaultConfig:
        if self.existing is not None and "--" in self.existing.name:
            raise KeyRuleError("existing.name", "a Key Vault name cannot contain '--'")
        return self


KeyVaultRole = Literal["secretsUser", "secretsOfficer", "none"]
# Azure allows 20 federated identity credentials on one user-assigned identity.
MAX_FEDERATED_CREDENTIALS_PER_IDENTITY = 20


class ServiceAccountRef(_Model):
    """Another ServiceAccount (a job's, say) federated to the same identity."""

    namespace: Annotated[str, Field(pattern=DNS_LABEL_PATTERN, max_length=63)]
    service_account: Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]


Binding = Literal["workloadIdentity", "podIdentity", "both"]


class ServiceConfig(_Model):
    """One entry of `secretless-aks:services`: an application and its own identity."""

    name: Annotated[str, Field(pattern=DNS_LABEL_PATTERN, max_length=63)]
    namespace: Annotated[str, Field(pattern=DNS_LABEL_PATTERN, max_length=63)]
    service_account: Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
    binding: Binding = "workloadIdentity"
    key_vault_role: KeyVaultRole = "secretsUser"
    secret_scope: tuple[Annotated[str, AfterValidator(validate_secret_name)], ...] | None = None
    image: Annotated[str, Field(pattern=IMAGE_PATTERN, max_length=512)] | None = None
    replicas: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    additional_service_accounts: tuple[ServiceAccountRef, ...] = ()

    @property
    def uses_workload_identity(self) -> bool:
        return self.binding in ("workloadIdentity", "both")

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

    @model_validator(mode="before")
    @classmethod
    def _namespace_and_account_default_to_the_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" in data:
            name = data["name"]
            # An invalid name is reported once, on `name`, not again on each default.
            default = (
                name if isinstance(name, str) and re.fullmatch(DNS_LABEL_PATTERN, name) else "x"
            )
            data = {"namespace": default, "serviceAccount": default, **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ServiceConfig:
        if self.image is None:
            for key, value in (("replicas", self.replicas), ("port", self.port)):
                if value is not None:
                    raise KeyRuleError(
                        key, "needs an image: only a service with an image runs here"
                    )
        if self.additional_service_accounts:
            if not self.uses_workload_identity:
                raise KeyRuleError(
                    "additionalServiceAccounts", "needs binding workloadIdentity or both"
                )
            accounts = self.federated_service_accounts
            if len(set(accounts)) != len(accounts):
                raise KeyRuleError(
                    "additionalServiceAccounts", "each ServiceAccount must appear once"
                )
            if len(accounts) > MAX_FEDERATED_CREDENTIALS_PER_IDENTITY:
                raise KeyRuleError(
                    "additionalServiceAccounts",
                    f"{len(accounts)} ServiceAccounts would need {len(accounts)} federated "
                    f"credentials; Azure allows {MAX_FEDERATED_CREDENTIALS_PER_IDENTITY} "
                    "per identity",
                )
        if self.secret_scope is not None:
            if not self.secret_scope:
                raise KeyRuleError("secretScope", "list at least one secret, or leave it out")
            if self.key_vault_role == "none":
                raise KeyRuleError("secretScope", "needs a keyVaultRole other than none")
            lowered = [name.lower() for name in self.secret_scope]
            if len(set(lowered)) != len(lowered):
                raise KeyRuleError(
                    "secretScope", "each secret must appear once (names are case-insensitive)"
                )
        return self


class StackConfig(_Model):
    """Everything one stack (environment) is configured with."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    stack: Annotated[
        str,
        Field(
            pattern=STACK_NAME_PATTERN,
            min_length=STACK_NAME_LENGTH[0],
            max_length=STACK_NAME_LENGTH[1],
        ),
    ]
    location: Annotated[str, Field(pattern=LOCATION_PATTERN)]
    cluster: ClusterConfig
    network: NetworkConfig
    protect: StrictBool = False
    key_vault: KeyVaultConfig = KeyVaultConfig()
    services: tuple[ServiceConfig, ...] = ()
    # Who runs `pulumi up`: a CI service principal by default, a person when run by hand.
    deployer_principal_type: Literal["ServicePrincipal", "User", "Group"] = "ServicePrincipal"
    secrets: tuple[ConfigSecret, ...] = ()

    @property
    def purge_protection(self) -> bool:
        setting = self.key_vault.purge_protection
        return self.protect if setting is None else setting

    @model_validator(mode="after")
    def _services_are_distinct(self) -> StackConfig:
        names: set[str] = set()
        accounts: dict[tuple[str, str], str] = {}
        for service in self.services:
            if service.name in names:
                raise KeyRuleError("services", f"service name {service.name!r} appears twice")
            names.add(service.name)
            account = (service.namespace, service.service_account)
            if account in accounts:
                # One ServiceAccount carries one client-id annotation: one identity.
                raise KeyRuleError(
                    "services",
                    f"services {accounts[account]!r} and {service.name!r} share the "
                    f"ServiceAccount {account[0]}/{account[1]}; each needs its own",
                )
            accounts[account] = service.name
        return self

    @model_validator(mode="after")
    def _subnet_holds_the_pods(self) -> StackConfig:
        # Azure CNI gives every pod an address from the node subnet and reserves them per node:
        # (nodes + surge) * (maxPods + 1). https://learn.microsoft.com/azure/aks/azure-cni-overview
        subnet = self.network.node_subnet_prefix
        if subnet is None:
            return self
        needed = (self.cluster.node_count + NODE_POOL_MAX_SURGE) * (self.cluster.max_pods + 1)
        usable = subnet.num_addresses - AZURE_RESERVED_ADDRESSES_PER_SUBNET
        if needed > usable:
            smallest = 32 - math.ceil(math.log2(needed + AZURE_RESERVED_ADDRESSES_PER_SUBNET))
            raise KeyRuleError(
                "network.nodeSubnetPrefix",
                f"{subnet} has {usable} usable addresses, but {self.cluster.node_count} nodes "
                f"(+{NODE_POOL_MAX_SURGE} during upgrades) with maxPods {self.cluster.max_pods} "
                f"need {needed}; use a /{smallest} or larger",
            )
        return self


def load_stack_config() -> StackConfig:
    """Read and validate this stack's configuration from the Pulumi runtime.

    The stack file itself (the CLI runs the program in the project directory) tells which
    values were stored encrypted: the runtime only sees them decrypted.
    """
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    stack_file = Path(source)
    written = yaml.safe_load(stack_file.read_text()) if stack_file.exists() else None
    return parse_stack_config(
        stack,
        _runtime_config(),
        source=source,
        secret_keys=_runtime_secret_keys(),
        stack_file=written.get("config") if isinstance(written, dict) else None,
    )


def parse_stack_config(
    stack: str,
    values: Mapping[str, str],
    *,
    source: str,
    secret_keys: frozenset[str] = frozenset(),
    stack_file: Mapping[str, Any] | None = None,
) -> StackConfig:
    """Validate raw config values (Pulumi's `namespace:key` -> string map) into a StackConfig.

    `secret_keys` are the keys Pulumi marks secret; `stack_file` is the stack file's `config:`
    block as written, when there is one. Raises ConfigError naming `source` and every wrong key.
    """
    problems: list[str] = []
    document: dict[str, Any] = {"stack": stack}
    if LOCATION_KEY in values:
        document["location"] = values[LOCATION_KEY]
    prefix = f"{PROJECT}:"
    for full_key, text in sorted(values.items()):
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key in INTERNAL_FIELDS:
            problems.append(f"{full_key}: unknown key{_suggestion((key,))}")
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text  # a plain string value; the model says if that is wrong
        if full_key == SECRETS_KEY:
            document["secrets"], secret_problems = parse_config_secrets(
                value,
                stack_file_value=(stack_file or {}).get(SECRETS_KEY),
                is_secret_key=full_key in secret_keys,
                source=source,
            )
            problems.extend(secret_problems)
        else:
            document[key] = value
    try:
        config = StackConfig.model_validate(document)
    except ValidationError as error:
        problems.extend(_describe(detail) for detail in error.errors(include_url=False))
    else:
        if not problems:
            return config
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    raise ConfigError(
        f"invalid configuration in {source} ({count}):\n"
        + "\n".join(f"  - {problem}" for problem in problems)
    )


def _runtime_config() -> dict[str, str]:
    # pulumi.Config cannot list its keys, and unknown keys must be reported, so read the map
    # the language host fills (PULUMI_CONFIG) and anything set in-process (tests, the plan).
    return {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}


def _runtime_secret_keys() -> frozenset[str]:
    # The language host passes PULUMI_CONFIG_SECRET_KEYS to set_all_config, as the tests
    # and the plan do; is_config_secret reads that one set.
    return frozenset(
        key for key in _runtime_config() if pulumi.runtime.config.is_config_secret(key)
    )


def _key_path(loc: tuple[int | str, ...]) -> str:
    head, *rest = loc
    if head == "stack":
        return "stack name"
    path = LOCATION_KEY if head == "location" else f"{PROJECT}:{head}"
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _describe(detail: Any) -> str:
    loc: tuple[int | str, ...] = tuple(detail["loc"])
    kind: str = detail["type"]
    found = detail.get("input")
    context = detail.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, KeyRuleError):
        # A rule across fields names its key relative to the model that checked it.
        return f"{_key_path((*loc, *cause.key.split('.')))}: {cause}"
    path = _key_path(loc)
    if kind == "missing":
        return f"{path}: required key is missing"
    if kind == "extra_forbidden":
        return f"{path}: unknown key{_suggestion(loc)}"
    if loc == ("stack",):
        return (
            f"stack name {found!r} cannot name Azure resources: use 2-16 lowercase letters, "
            "digits and hyphens, starting with a letter and not ending with a hyphen"
        )
    if kind == "string_pattern_mismatch":
        expected = PATTERN_HINTS.get(context.get("pattern", ""), f"a value matching {context}")
        return f"{path}: expected {expected}, found {_show(found)}"
    if kind in KIND_HINTS:
        return f"{path}: expected {KIND_HINTS[kind]}, found {_show(found)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = context.get("ge", context.get("le"))
        return f"{path}: expected {bound} {limit}, found {_show(found)}"
    if kind == "string_type" and isinstance(found, int | float):
        return f"{path}: expected a string, found the number {found} (quote it in the stack file)"
    message: str = detail["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be ", "expected ").replace(
        "Input should ", "expected to "
    )
    return f"{path}: {message[0].lower()}{message[1:]}, found {_show(found)}"


def _show(found: Any) -> str:
    if isinstance(found, dict | list):
        return json.dumps(found)
    return repr(found)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, looking through Optional, tuples and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        model = _model_in(argument)
        if model is not None:
            return model
    return None


def _suggestion(loc: tuple[int | str, ...]) -> str:
    """Name the closest known key, or list the known keys, for an unknown key at `loc`."""
    model: type[BaseModel] | None = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # a list index: the element model was found with the list's field
        field = model.model_fields.get(part) if model else None
        model = _model_in(field.annotation) if field else None
    if model is None:
        return ""
    known = [
        field.alias or name
        for name, field in model.model_fields.items()
        if not (model is StackConfig and name in INTERNAL_FIELDS)
    ]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(sorted(known))}"


__all__ = [
    "ClusterConfig",
    "ConfigError",
    "NetworkConfig",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
]
