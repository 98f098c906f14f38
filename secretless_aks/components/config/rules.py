"""Rules across several keys, each reported against the one key the user should change.

They are plain functions, not pydantic validators, so that each can run on a partly valid
stack file: `check` walks the config (whole, or built from the keys that are valid on their
own) and runs every rule whose inputs are there. A rule that reads a key which was invalid
meets an AttributeError, and is skipped: its inputs are reported already.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from secretless_aks.components import access_catalogue, azure_limits, roles
from secretless_aks.components.config.models import (
    CANARY,
    NETWORK_PLUGIN,
    NODE_POOL_MAX_SURGE,
    PLATFORM_REGISTRY_PREFIX,
    TOKEN_CREDENTIALS,
    VAULT_WIDE,
    AppTeamConfig,
    AzureAccessConfig,
    ClusterConfig,
    KeyVaultConfig,
    MonitoringConfig,
    NetworkConfig,
    ServiceConfig,
    StackConfig,
    UserPoolConfig,
    image_registry,
    pinned_by_digest,
)
from secretless_aks.components.config.problems import Key
from secretless_aks.components.naming import TeamNames

# Azure keeps the first four addresses and the last one of every subnet.
AZURE_RESERVED_ADDRESSES_PER_SUBNET = 5
# Ranges AKS keeps for itself; a service CIDR must not overlap them.
# https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites
AKS_RESERVED_RANGES = tuple(
    ipaddress.IPv4Network(cidr)
    for cidr in ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24")
)


# Where the policy pack judges the same thing, the rule here refuses it in the same words
# (policy/secretless_policy/sources.py holds the table; tests/test_policy.py compares them).
LOCAL_ACCOUNTS_WORDS = "a local admin kubeconfig is a static cluster credential"
PURGE_PROTECTION_WORDS = (
    "a deleted vault and its secrets then stay recoverable for the retention period"
)
FEDERATED_LIMIT_WORDS = (
    f"Azure allows {azure_limits.FEDERATED_CREDENTIALS_PER_IDENTITY} federated credentials per "
    "identity"
)
CANARY_WORDS = (
    f"{CANARY.name} is the verifier's canary (python -m secretless_aks.verify), a secret that "
    "every service's identity must be refused"
)
IMAGE_DIGEST_WORDS = (
    "a tag can be moved to other bytes; a digest keeps every node on the reviewed ones"
)
MONITORING_WORDS = (
    "a protected stack keeps the vault's and the cluster's audit logs, which say who read what"
)
TOKEN_CREDENTIALS_WORDS = (
    "DefaultAzureCredential then tries its binding's credential only, never the whole chain"
)
KNOWN_REGISTRIES_WORDS = (
    "images come from the platform's registry (secretless-aks:registry) or one listed in "
    "secretless-aks:allowedRegistries"
)


class KeyRuleError(ValueError):
    """A broken rule, reported against `key` (relative to the model the rule checks)."""

    def __init__(self, key: str | Key, message: str) -> None:
        super().__init__(message)
        self.key: Key = tuple(key.split(".")) if isinstance(key, str) else key


Rule = Callable[[Any], None]
# Another project's own rules across keys, by the model each checks (see `check`).
ExtraRules = Mapping[type[BaseModel], Sequence[Rule]]


def _no_repeats(cluster: ClusterConfig) -> None:
    for key, values in (
        ("adminGroupObjectIds", cluster.admin_group_object_ids),
        ("availabilityZones", cluster.availability_zones or ()),
    ):
        if len(set(values)) != len(values):
            raise KeyRuleError(key, "each entry must appear once")


def _user_pool_zones_appear_once(pool: UserPoolConfig) -> None:
    zones = pool.availability_zones or ()
    if len(set(zones)) != len(zones):
        raise KeyRuleError("availabilityZones", "each entry must appear once")


EVERY_IPV4_ADDRESS = ipaddress.IPv4Network("0.0.0.0/0")


def covers_every_address(ranges: Sequence[ipaddress.IPv4Network]) -> bool:
    """Whether the ranges together are all of IPv4 (0.0.0.0/1 and 128.0.0.0/1, say)."""
    return list(ipaddress.collapse_addresses(ranges)) == [EVERY_IPV4_ADDRESS]


def _local_accounts_stay_disabled(cluster: ClusterConfig) -> None:
    if not cluster.disable_local_accounts:
        raise KeyRuleError("disableLocalAccounts", f"must stay true: {LOCAL_ACCOUNTS_WORDS}")


def _network_policy_runs_on_the_plugin(cluster: ClusterConfig) -> None:
    plugins = azure_limits.NETWORK_POLICY_PLUGINS[cluster.network_policy]
    if NETWORK_PLUGIN not in plugins:
        raise KeyRuleError(
            "networkPolicy",
            f"{cluster.network_policy} needs network plugin {' or '.join(sorted(plugins))}, "
            f"but this cluster uses {NETWORK_PLUGIN}",
        )


def _pinned_version_outlives_auto_upgrades(cluster: ClusterConfig) -> None:
    # AKS never downgrades: once a channel has moved the cluster past the pinned version, the
    # next `pulumi up` would ask for a downgrade and fail. A pinned minor version (1.35) lets the
    # patch channel move within it; the same minor is no upgrade request.
    version, channel = cluster.kubernetes_version, cluster.upgrade_channel
    if version is None:
        return
    minor = ".".join(version.split(".")[:2])
    if channel in ("stable", "rapid"):
        raise KeyRuleError(
            "upgradeChannel",
            f"{channel} moves the cluster to newer minor versions than kubernetesVersion "
            f"{version}, and the next pulumi up would ask AKS to downgrade; use patch or none, "
            "or remove kubernetesVersion",
        )
    if channel == "patch" and version != minor:
        raise KeyRuleError(
            "upgradeChannel",
            f"patch moves the cluster past kubernetesVersion {version}, and the next pulumi up "
            f"would ask AKS to downgrade; pin the minor version only ({minor}), or use none",
        )


def _maintenance_window_has_work(cluster: ClusterConfig) -> None:
    # Unmanaged: the node OS patches itself (unattended-upgrade), outside any AKS window.
    if (
        cluster.maintenance_window is not None
        and cluster.upgrade_channel == "none"
        and cluster.node_os_upgrade_channel in ("None", "Unmanaged")
    ):
        raise KeyRuleError(
            "maintenanceWindow",
            f"schedules nothing: with upgradeChannel none and nodeOsUpgradeChannel "
            f"{cluster.node_os_upgrade_channel} AKS makes no upgrades of its own; choose a "
            "channel or remove the window",
        )


def _authorized_ranges_restrict_access(cluster: ClusterConfig) -> None:
    ranges = cluster.api_server_authorized_ip_ranges
    if ranges is None:
        return
    key, limit = "apiServerAuthorizedIpRanges", azure_limits.API_SERVER_AUTHORIZED_IP_RANGES
    if not ranges:
        raise KeyRuleError(key, "list at least one range, or leave the key out")
    if covers_every_address(ranges):
        raise KeyRuleError(
            key,
            "together these ranges admit every IPv4 address; list the operators' and CI "
            "runners' egress ranges, or leave the key out",
        )
    if len(set(ranges)) != len(ranges):
        raise KeyRuleError(key, "each entry must appear once")
    if len(ranges) > limit:
        raise KeyRuleError(
            key,
            f"{len(ranges)} ranges, but AKS accepts at most {limit}; merge them into wider ranges",
        )


def _one_source_of_subnet(network: NetworkConfig) -> None:
    cidrs = (network.address_space, network.node_subnet_prefix)
    if network.existing_subnet_id is not None:
        if any(cidrs):
            raise KeyRuleError(
                "existingSubnetId",
                "give either existingSubnetId or addressSpace + nodeSubnetPrefix, not both",
            )
        return
    if network.address_space is None or network.node_subnet_prefix is None:
        missing = "addressSpace" if network.address_space is None else "nodeSubnetPrefix"
        raise KeyRuleError(
            missing,
            "required unless existingSubnetId is given "
            "(set both addressSpace and nodeSubnetPrefix, or existingSubnetId)",
        )
    if not network.node_subnet_prefix.subnet_of(network.address_space):
        raise KeyRuleError(
            "nodeSubnetPrefix",
            f"{network.node_subnet_prefix} does not lie inside addressSpace "
            f"{network.address_space}",
        )


def _service_range_is_usable(network: NetworkConfig) -> None:
    service_cidr = network.service_cidr
    if network.address_space is not None and service_cidr.overlaps(network.address_space):
        raise KeyRuleError(
            "serviceCidr",
            f"{service_cidr} overlaps addressSpace {network.address_space}; "
            "Kubernetes service addresses must not collide with the VNet",
        )
    for reserved in AKS_RESERVED_RANGES:
        if service_cidr.overlaps(reserved):
            raise KeyRuleError(
                "serviceCidr", f"{service_cidr} overlaps {reserved}, which AKS reserves"
            )


def _dns_address_is_in_the_service_range(network: NetworkConfig) -> None:
    service_cidr, dns_ip = network.service_cidr, network.dns_service_ip
    first_usable = service_cidr.network_address + 2  # .1 is the kubernetes service
    if not first_usable <= dns_ip < service_cidr.broadcast_address:
        raise KeyRuleError(
            "dnsServiceIp",
            f"{dns_ip} must be an address inside serviceCidr {service_cidr} other than its "
            "first two and its last",
        )


def _creation_settings_only_when_created(vault: KeyVaultConfig) -> None:
    if vault.existing is not None:
        for key, value in (
            ("purgeProtection", vault.purge_protection),
            ("softDeleteRetentionDays", vault.soft_delete_retention_days),
            ("publicNetworkAccess", vault.public_network_access),
            ("allowedIpRanges", vault.allowed_ip_ranges or None),
        ):
            if value is not None:
                raise KeyRuleError(
                    key, "applies only to a vault this stack creates, not an existing one"
                )


def _firewall_settings_agree(vault: KeyVaultConfig) -> None:
    if vault.allowed_ip_ranges and vault.public_network_access == "Disabled":
        raise KeyRuleError(
            "allowedIpRanges", "has no effect with publicNetworkAccess Disabled; remove one"
        )
    if vault.allowed_ip_ranges and covers_every_address(vault.allowed_ip_ranges):
        raise KeyRuleError(
            "allowedIpRanges",
            "together these ranges admit every IPv4 address, which opens the firewall they "
            "close; list the addresses that need the vault",
        )


def _image_settings_need_an_image(service: ServiceConfig) -> None:
    if service.image is None:
        for key, value in (("replicas", service.replicas), ("port", service.port)):
            if value is not None:
                raise KeyRuleError(key, "needs an image: only a service with an image runs here")


def _probes_need_a_port(service: ServiceConfig) -> None:
    if service.probes is not None and service.port is None:
        raise KeyRuleError("probes", "needs a port: the kubelet probes the service's port")


def _ingress_needs_a_port(service: ServiceConfig) -> None:
    if not service.allow_ingress_from:
        return
    if service.port is None:
        raise KeyRuleError("allowIngressFrom", "needs a port: it opens the service's port")
    if len(set(service.allow_ingress_from)) != len(service.allow_ingress_from):
        raise KeyRuleError("allowIngressFrom", "each namespace must appear once")


def _pod_identity_cannot_write_secrets(service: ServiceConfig) -> None:
    # NMI runs as the kubelet identity, which may attach any pod identity to any node: a pod on
    # any node could then borrow an identity that writes the vault.
    if service.uses_pod_identity and service.key_vault_role == "secretsOfficer":
        raise KeyRuleError(
            "keyVaultRole",
            "secretsOfficer is refused with pod identity: NMI, running as the kubelet identity, "
            "can attach this identity to any node; use binding workloadIdentity, or secretsUser",
        )


def _additional_accounts_fit_one_identity(service: ServiceConfig) -> None:
    if not service.additional_service_accounts:
        return
    if not service.uses_workload_identity:
        raise KeyRuleError("additionalServiceAccounts", "needs binding workloadIdentity or both")
    accounts = service.federated_service_accounts
    if len(set(accounts)) != len(accounts):
        raise KeyRuleError("additionalServiceAccounts", "each ServiceAccount must appear once")
    if len(accounts) > azure_limits.FEDERATED_CREDENTIALS_PER_IDENTITY:
        raise KeyRuleError(
            "additionalServiceAccounts",
            f"{len(accounts)} ServiceAccounts would need {len(accounts)} federated credentials; "
            f"{FEDERATED_LIMIT_WORDS}",
        )


def _secret_names_listed_once(key: str, names: tuple[str, ...]) -> None:
    if not names:
        raise KeyRuleError(key, "list at least one secret, or leave it out")
    lowered = [name.lower() for name in names]
    if len(set(lowered)) != len(lowered):
        raise KeyRuleError(key, "each secret must appear once (names are case-insensitive)")


def _canary_not_granted(key: str, names: tuple[str, ...]) -> None:
    if CANARY.name.lower() in (name.lower() for name in names):
        raise KeyRuleError(key, f"{CANARY_WORDS}: no service may be granted it")


def _secret_scope_is_usable(service: ServiceConfig) -> None:
    scope = service.secret_scope
    if scope is not None:
        if scope and service.key_vault_role == "none":
            raise KeyRuleError("secretScope", "needs a keyVaultRole other than none")
        if VAULT_WIDE in scope and len(scope) > 1:
            raise KeyRuleError(
                "secretScope", "'*' means every secret in the vault and stands alone"
            )
        _secret_names_listed_once("secretScope", scope)
        _canary_not_granted("secretScope", scope)
    # (secretsOfficer with pod identity is refused on keyVaultRole already.)
    if service.uses_pod_identity and service.key_vault_role == "secretsUser" and service.vault_wide:
        raise KeyRuleError(
            "secretScope",
            f"binding {service.binding} must name the secrets it reads: a pod identity can be "
            "assigned to any node (the node-wide path), so a vault-wide role would reach "
            "every secret from there",
        )


def _team_lists_are_usable(team: AppTeamConfig) -> None:
    if not team.namespaces:
        raise KeyRuleError(
            "namespaces", "list at least one namespace: the team's group may write in these only"
        )
    if len(set(team.namespaces)) != len(team.namespaces):
        raise KeyRuleError("namespaces", "each namespace must appear once")
    if team.platform_vault_secrets is not None:
        _secret_names_listed_once("platformVaultSecrets", team.platform_vault_secrets)
        _canary_not_granted("platformVaultSecrets", team.platform_vault_secrets)


def _someone_administers_the_cluster(stack: StackConfig) -> None:
    if not stack.deployers and not stack.cluster.admin_group_object_ids:
        raise KeyRuleError(
            "deployers",
            "is empty, and so is secretless-aks:cluster.adminGroupObjectIds: no one could "
            "create the Kubernetes objects or administer the cluster. CI sets deployers from "
            "its environment's DEPLOYER_OBJECT_ID; people belong in an admin group",
        )


def _registry_images_need_the_registry(stack: StackConfig) -> None:
    if stack.registry is not None:
        return
    for index, service in enumerate(stack.services):
        if (service.image or "").startswith(PLATFORM_REGISTRY_PREFIX):
            raise KeyRuleError(
                ("services", index, "image"),
                f"{PLATFORM_REGISTRY_PREFIX} names the platform's registry, but "
                "secretless-aks:registry is not set (CI sets it from its environment's "
                "REGISTRY_ID and REGISTRY_LOGIN_SERVER)",
            )


def _images_come_from_known_registries(stack: StackConfig) -> None:
    # Without a registry or a list, the stack names no registry to hold images to.
    if stack.registry is None and not stack.allowed_registries:
        return
    known = set(stack.allowed_registries)
    if stack.registry is not None:
        known.add(stack.registry.login_server)
    for index, service in enumerate(stack.services):
        image = stack.with_registry_images(service).image
        # A `registry/` image left so has no registry: _registry_images_need_the_registry says so.
        if image is None or image.startswith(PLATFORM_REGISTRY_PREFIX):
            continue
        host = image_registry(image)
        if host not in known:
            raise KeyRuleError(
                ("services", index, "image"),
                f"comes from {host}: {KNOWN_REGISTRIES_WORDS}; push it there, or add {host} to "
                "allowedRegistries",
            )


def _allowed_registries_listed_once(stack: StackConfig) -> None:
    if len(set(stack.allowed_registries)) != len(stack.allowed_registries):
        raise KeyRuleError("allowedRegistries", "each registry must appear once")


def _protected_stacks_pin_images_by_digest(stack: StackConfig) -> None:
    if not stack.protect:
        return
    for index, service in enumerate(stack.services):
        if service.image is not None and not pinned_by_digest(service.image):
            raise KeyRuleError(
                ("services", index, "image"),
                "must be pinned by digest (@sha256: and 64 hex digits) on a protected stack "
                f"(protect: true): {IMAGE_DIGEST_WORDS}",
            )


def _deployers_listed_once(stack: StackConfig) -> None:
    ids = [deployer.object_id for deployer in stack.deployers]
    if len(set(ids)) != len(ids):
        raise KeyRuleError("deployers", "each objectId must appear once")


def _service_names_are_distinct(stack: StackConfig) -> None:
    names: set[str] = set()
    for service in stack.services:
        if service.name in names:
            raise KeyRuleError("services", f"service name {service.name!r} appears twice")
        names.add(service.name)


def _each_service_account_federates_one_identity(stack: StackConfig) -> None:
    # One ServiceAccount carries one client-id annotation, and a token whose subject two
    # identities trust could sign in as either: each subject belongs to one service.
    owners: dict[tuple[str, str], str] = {}
    for service in stack.services:
        account = (service.namespace, service.service_account)
        if account in owners and owners[account] != service.name:  # a twin: reported above
            raise KeyRuleError(
                "services",
                f"services {owners[account]!r} and {service.name!r} share the ServiceAccount "
                f"{account[0]}/{account[1]}; each needs its own",
            )
        owners[account] = service.name
    for index, service in enumerate(stack.services):
        for position, ref in enumerate(service.additional_service_accounts):
            account = (ref.namespace, ref.service_account)
            owner = owners.setdefault(account, service.name)
            if owner != service.name:
                raise KeyRuleError(
                    ("services", index, "additionalServiceAccounts", position),
                    f"{account[0]}/{account[1]} already belongs to service {owner!r}; one "
                    "ServiceAccount can be federated to one identity only",
                )


def _each_team_has_its_own_name_and_group(stack: StackConfig) -> None:
    names: set[str] = set()
    groups: dict[str, str] = {}
    for index, team in enumerate(stack.app_teams):
        if team.name in names:
            raise KeyRuleError("appTeams", f"team name {team.name!r} appears twice")
        names.add(team.name)
        # Two teams on one group would be one team, with two names for its grants.
        group = str(team.group_object_id)
        if group in groups:
            raise KeyRuleError(
                ("appTeams", index, "groupObjectId"),
                f"{group} is the group of team {groups[group]!r} already; give each team its own",
            )
        groups[group] = team.name


def team_resource_names(team: AppTeamConfig) -> list[str]:
    """Every Pulumi name an AppTeam gives its resources (TeamNames, as the component does)."""
    from secretless_aks.components import roles  # roles reads config's models: imported late

    names = TeamNames(team.name)
    found = [names.component]
    for namespace in team.namespaces:
        found += [
            names.namespace(namespace),
            f"{names.namespace(namespace)}-deny-ingress",
            names.grant(roles.AKS_RBAC_WRITER.slug, f"namespace-{namespace}"),
        ]
    found += [
        names.grant(roles.RBAC_ADMINISTRATOR.slug, f"secret-{secret.lower()}")
        for secret in team.platform_vault_secrets or ()
    ]
    return found


def _team_resource_names_are_distinct(stack: StackConfig) -> None:
    # Pulumi tells resources apart by type and name, not by parent: two teams whose names and
    # namespaces join into the same name (team p with namespace q-namespace-r, and team
    # p-namespace-q with namespace r) would stop `pulumi up` half-way.
    owners: dict[str, str] = {}
    for team in stack.app_teams:
        for name in team_resource_names(team):
            other = owners.setdefault(name, team.name)
            if other != team.name:
                raise KeyRuleError(
                    "appTeams",
                    f"teams {other!r} and {team.name!r} would both name a resource {name}: "
                    "team and namespace names join with '-'; rename one",
                )


def _each_namespace_has_one_owner(stack: StackConfig) -> None:
    # AKS RBAC Writer lets a team run pods as any ServiceAccount in its namespace, and so sign
    # in as any identity federated with one there: a team namespace is nobody else's.
    owners: dict[str, str] = {}
    for service in stack.services:
        owners.setdefault(service.namespace, f"service {service.name!r}")
        for ref in service.additional_service_accounts:
            owners.setdefault(
                ref.namespace,
                f"service {service.name!r} (its ServiceAccount {ref.service_account})",
            )
    for index, team in enumerate(stack.app_teams):
        for position, namespace in enumerate(team.namespaces):
            owner = owners.setdefault(namespace, f"team {team.name!r}")
            if owner != f"team {team.name!r}":
                raise KeyRuleError(
                    ("appTeams", index, "namespaces", position),
                    f"{namespace} belongs to {owner} already: one namespace, one owner, since "
                    "AKS RBAC Writer there lets a team run pods as any ServiceAccount in it",
                )


def _subnet_holds_the_pods(stack: StackConfig) -> None:
    # Azure CNI gives every pod an address from the node subnet and reserves them per node:
    # (nodes + surge) * (maxPods + 1) for each pool, the user pool's included (it joins the
    # same subnet). https://learn.microsoft.com/azure/aks/azure-cni-overview
    subnet = stack.network.node_subnet_prefix
    if subnet is None:
        return
    cluster = stack.cluster
    pools = [(cluster.node_count, cluster.max_pods)]
    if cluster.user_pool is not None:
        pools.append((cluster.user_pool.node_count, cluster.user_pool.max_pods))
    needed = sum((nodes + NODE_POOL_MAX_SURGE) * (max_pods + 1) for nodes, max_pods in pools)
    usable = subnet.num_addresses - AZURE_RESERVED_ADDRESSES_PER_SUBNET
    if needed > usable:
        smallest = 32 - math.ceil(math.log2(needed + AZURE_RESERVED_ADDRESSES_PER_SUBNET))
        if len(pools) == 1:
            ((nodes, max_pods),) = pools
            demand = (
                f"{_nodes(nodes)} (+{NODE_POOL_MAX_SURGE} during upgrades) with maxPods {max_pods}"
            )
        else:
            (system_nodes, system_pods), (user_nodes, user_pods) = pools
            demand = (
                f"the system pool's {_nodes(system_nodes)} with maxPods {system_pods} and the "
                f"user pool's {_nodes(user_nodes)} with maxPods {user_pods} (each pool "
                f"+{NODE_POOL_MAX_SURGE} during upgrades)"
            )
        raise KeyRuleError(
            "network.nodeSubnetPrefix",
            f"{subnet} has {usable} usable addresses, but {demand} need {needed}; use a "
            f"/{smallest} or larger",
        )


def _nodes(count: int) -> str:
    return f"{count} node{'' if count == 1 else 's'}"


def _protected_vaults_keep_purge_protection(stack: StackConfig) -> None:
    vault = stack.key_vault
    if stack.protect and vault.existing is None and vault.purge_protection is False:
        raise KeyRuleError(
            "keyVault.purgeProtection",
            f"must be true on a protected stack (protect: true): {PURGE_PROTECTION_WORDS}",
        )


SEEDED_SECRETS_KEYS = "secretless-aks:secrets or generatedSecrets"


def _seeded_secrets_can_be_deleted(stack: StackConfig) -> None:
    # azure-native writes a secret through ARM but deletes it through the vault's data plane
    # (custom_keyvault.go in pulumi-azure-native): with public access disabled, removing a
    # secret from config or destroying the stack fails from anywhere but a private endpoint.
    if stack.seeds_secrets and stack.key_vault.public_network_access == "Disabled":
        raise KeyRuleError(
            "keyVault.publicNetworkAccess",
            f"Disabled cannot go with seeded secrets ({SEEDED_SECRETS_KEYS}): Pulumi deletes "
            "a secret through the vault's data plane, which then refuses the deployer. Seed "
            "the secrets another way, or keep access Enabled and close it with allowedIpRanges "
            "(listing the deployer's egress)",
        )


def _seeded_secrets_go_to_this_subscription(stack: StackConfig) -> None:
    # The deployment's azure-native provider writes a seeded secret, and names its own
    # subscription in the secret's ARM id: a vault in another one is not found there.
    existing = stack.key_vault.existing
    if stack.seeds_secrets and existing is not None and existing.subscription_id is not None:
        raise KeyRuleError(
            "keyVault.existing.subscriptionId",
            f"cannot go with seeded secrets ({SEEDED_SECRETS_KEYS}), which are written in this "
            "deployment's subscription: seed them from a stack in the vault's subscription, or "
            "leave subscriptionId out when the vault is in this one",
        )


def _generated_secrets_are_distinct(stack: StackConfig) -> None:
    # Key Vault names are case-insensitive: two entries, or an entry and a config secret, that
    # map to one name would write the same secret twice.
    seeded = {secret.name.lower(): f"secrets path {secret.path!r}" for secret in stack.secrets}
    reserved = f"{CANARY_WORDS}: the stack seeds it itself"
    for secret in stack.secrets:
        if secret.name.lower() == CANARY.name.lower():
            raise KeyRuleError("secrets", f"{secret.path!r} maps to {reserved}")
    for index, generated in enumerate(stack.generated_secrets):
        if generated.name.lower() == CANARY.name.lower():
            raise KeyRuleError(("generatedSecrets", index, "path"), f"maps to {reserved}")
    for index, generated in enumerate(stack.generated_secrets):
        twin = seeded.get(generated.name.lower())
        if twin is not None:
            raise KeyRuleError(
                ("generatedSecrets", index, "path"),
                f"{generated.path!r} maps to the secret name {generated.name!r}, as {twin} "
                "does (Key Vault names are case-insensitive); keep one of them",
            )
        seeded[generated.name.lower()] = f"generatedSecrets path {generated.path!r}"


def _access_is_in_the_catalogue(access: AzureAccessConfig) -> None:
    try:
        resource = access_catalogue.parse_resource_id(access.resource)
    except ValueError as error:
        raise KeyRuleError("resource", str(error)) from None
    problem = access_catalogue.refusal(resource, access.role)
    if problem is not None:
        raise KeyRuleError("role", problem)


def _one_store_and_one_container_to_render(service: ServiceConfig) -> None:
    # The Deployment tells the app of one store and one container (manifests.py).
    for kind, role_names, what, variable in (
        (
            roles.APP_CONFIGURATION_STORE,
            access_catalogue.APP_CONFIGURATION_READERS,
            "App Configuration store",
            "APP_CONFIGURATION_ENDPOINT",
        ),
        (
            roles.BLOB_CONTAINER,
            access_catalogue.BLOB_READERS,
            "blob container",
            "BLOB_CONTAINER_URL",
        ),
    ):
        if len(service.granted_on(kind, role_names)) > 1:
            raise KeyRuleError(
                "azureAccess",
                f"grants more than one {what}, and the Deployment names one ({variable}): "
                f"keep one, or give the other to a service of its own",
            )


def _access_listed_once(service: ServiceConfig) -> None:
    seen: set[tuple[str, str]] = set()
    for index, access in enumerate(service.azure_access):
        key = (access.resource.lower(), access.role)
        if key in seen:
            raise KeyRuleError(("azureAccess", index), "each grant must appear once")
        seen.add(key)


def _one_monitoring_target(monitoring: MonitoringConfig) -> None:
    chosen = [
        key
        for key, value in (
            ("off", monitoring.off),
            ("workspaceId", monitoring.workspace_id),
            ("create", monitoring.create),
        )
        if value
    ]
    if len(chosen) > 1:
        raise KeyRuleError(chosen[1], f"choose one of off, workspaceId and create, not {chosen}")


def _protected_stacks_keep_audit_logs(stack: StackConfig) -> None:
    if stack.protect and stack.monitoring.off:
        raise KeyRuleError("monitoring.off", f"must stay false: {MONITORING_WORDS}")


def _developers_only_on_unprotected_stacks(stack: StackConfig) -> None:
    if stack.protect and stack.developers is not None:
        raise KeyRuleError(
            "developers",
            "a protected stack gives developers no data access: set it on an unprotected "
            "stack only (dev), where developers run the services on their own machines",
        )


def _platform_services_pin_their_credential(stack: StackConfig) -> None:
    for index, service in enumerate(stack.services):
        if service.pin_credential is False:
            raise KeyRuleError(
                ("services", index, "pinCredential"),
                f"must stay true on the platform's services (AZURE_TOKEN_CREDENTIALS "
                f"{TOKEN_CREDENTIALS[service.binding]}): {TOKEN_CREDENTIALS_WORDS}",
            )


RULES: dict[type[BaseModel], tuple[Rule, ...]] = {
    AzureAccessConfig: (_access_is_in_the_catalogue,),
    MonitoringConfig: (_one_monitoring_target,),
    ClusterConfig: (
        _no_repeats,
        _local_accounts_stay_disabled,
        _network_policy_runs_on_the_plugin,
        _pinned_version_outlives_auto_upgrades,
        _maintenance_window_has_work,
        _authorized_ranges_restrict_access,
    ),
    UserPoolConfig: (_user_pool_zones_appear_once,),
    NetworkConfig: (
        _one_source_of_subnet,
        _service_range_is_usable,
        _dns_address_is_in_the_service_range,
    ),
    KeyVaultConfig: (_creation_settings_only_when_created, _firewall_settings_agree),
    ServiceConfig: (
        _image_settings_need_an_image,
        _probes_need_a_port,
        _ingress_needs_a_port,
        _pod_identity_cannot_write_secrets,
        _additional_accounts_fit_one_identity,
        _secret_scope_is_usable,
        _access_listed_once,
        _one_store_and_one_container_to_render,
    ),
    AppTeamConfig: (_team_lists_are_usable,),
    StackConfig: (
        _someone_administers_the_cluster,
        _deployers_listed_once,
        _registry_images_need_the_registry,
        _allowed_registries_listed_once,
        _images_come_from_known_registries,
        _protected_stacks_pin_images_by_digest,
        _platform_services_pin_their_credential,
        _developers_only_on_unprotected_stacks,
        _protected_stacks_keep_audit_logs,
        _service_names_are_distinct,
        _each_service_account_federates_one_identity,
        _each_team_has_its_own_name_and_group,
        _team_resource_names_are_distinct,
        _each_namespace_has_one_owner,
        _subnet_holds_the_pods,
        _protected_vaults_keep_purge_protection,
        _seeded_secrets_can_be_deleted,
        _seeded_secrets_go_to_this_subscription,
        _generated_secrets_are_distinct,
    ),
}


def check(
    model: BaseModel,
    *,
    partial: bool,
    key: Key = (),
    extra: ExtraRules = MappingProxyType({}),
) -> Iterator[tuple[Key, str]]:
    """(key, message) for every broken rule in `model` and the models inside it: the rules
    here, then `extra` (another project's own, by the model each checks).

    With `partial`, `model` may lack keys that were invalid; a rule that reads one is skipped.
    """
    for rule in (*RULES.get(type(model), ()), *extra.get(type(model), ())):
        try:
            rule(model)
        except KeyRuleError as broken:
            yield (*key, *broken.key), str(broken)
        except AttributeError:
            if not partial:
                raise
    for name, field in type(model).model_fields.items():
        value = getattr(model, name, None)
        alias = field.alias or name
        if isinstance(value, BaseModel):
            yield from check(value, partial=partial, key=(*key, alias), extra=extra)
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from check(item, partial=partial, key=(*key, alias, index), extra=extra)
