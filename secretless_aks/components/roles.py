"""Built-in Azure roles and the one helper that makes every role assignment in the project.

Role GUIDs are the same in every tenant and cloud; community code often carries wrong ones,
so they live here once and `tests/test_roles.py` pins each against Microsoft's published list
(https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from secretless_aks.components import azure_limits
from secretless_aks.components.config.models import DeployerConfig


@dataclass(frozen=True)
class Role:
    """A role definition, by its display name and the GUID that names it in ARM."""

    name: str
    guid: str

    @property
    def slug(self) -> str:
        """The name as a resource-name fragment: "Network Contributor" -> "network-contributor"."""
        return self.name.lower().replace(" ", "-")


class BuiltInRole(Role):
    """One of Microsoft's: the same GUID in every tenant and cloud."""


class CustomRole(Role):
    """One this project defines (an authorization.RoleDefinition named by `guid`): the GUID is
    the project's choice, derived so that two definitions never share it."""


# Control-plane identity, on the node subnet: lets AKS join nodes and load balancers to it.
NETWORK_CONTRIBUTOR = BuiltInRole("Network Contributor", "4d97b98b-1d4f-4787-a291-c67834d212e7")
# Granted by nothing: AKS does not need it (the reference article gave it to the control plane;
# aks-baseline and the Azure Verified Module grant only Network Contributor and MIO).
READER = BuiltInRole("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7")
# Control-plane identity, on the kubelet identity: lets AKS assign that identity to the nodes.
# Kubelet identity, on each pod identity (AAD Pod Identity only).
MANAGED_IDENTITY_OPERATOR = BuiltInRole(
    "Managed Identity Operator", "f1a07417-d97a-45cb-824c-7a7467783830"
)
# Kubelet identity, on the node resource group (AAD Pod Identity only).
VIRTUAL_MACHINE_CONTRIBUTOR = BuiltInRole(
    "Virtual Machine Contributor", "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
)
# Service identities: read secret values, at vault scope or on single secrets.
KEY_VAULT_SECRETS_USER = BuiltInRole(
    "Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"
)
# Services that manage secrets, and the deploying principal that seeds them.
KEY_VAULT_SECRETS_OFFICER = BuiltInRole(
    "Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
)
KEY_VAULT_ADMINISTRATOR = BuiltInRole(
    "Key Vault Administrator", "00482a5a-887f-4fb3-b363-3b7fe8e74483"
)
KEY_VAULT_READER = BuiltInRole("Key Vault Reader", "21090545-7ca7-4776-b22c-e363652d74d2")
# The kubelet identity, on the repository's registry (bootstrap's): AKS pulls images as it.
ACR_PULL = BuiltInRole("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d")
# bootstrap's build identity, on the registry only: `az acr build` (ACR Tasks). Microsoft warns
# it amounts to full data-plane access to the registry, so it is held to that one scope.
CONTAINER_REGISTRY_TASKS_CONTRIBUTOR = BuiltInRole(
    "Container Registry Tasks Contributor", "fb382eab-e894-4461-af04-94435c366c3f"
)
# The deploying principal and the admin groups, on the environment's resource group (so the
# grant propagates while the cluster is created): create Kubernetes objects.
AKS_RBAC_CLUSTER_ADMIN = BuiltInRole(
    "Azure Kubernetes Service RBAC Cluster Admin", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
)
AKS_RBAC_ADMIN = BuiltInRole(
    "Azure Kubernetes Service RBAC Admin", "3498e952-d568-435e-9b2c-8d77e338d7f7"
)
AKS_RBAC_READER = BuiltInRole(
    "Azure Kubernetes Service RBAC Reader", "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
)
# Each application team's group (appTeams), on each of its namespaces only: deploy there.
AKS_RBAC_WRITER = BuiltInRole(
    "Azure Kubernetes Service RBAC Writer", "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
)
AKS_CLUSTER_USER = BuiltInRole(
    "Azure Kubernetes Service Cluster User Role", "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"
)
# Always with an ABAC condition (rbac_administrator_condition), never Owner or User Access
# Administrator, which may assign any role. Each deploy identity (bootstrap/), on its own
# environment's subscription: make the program's role assignments (deploy_identity_condition). Each
# application team's group, on each secret in its platformVaultSecrets: give its own workload
# identities Key Vault Secrets User there (TEAM_SECRETS_DELEGATION).
RBAC_ADMINISTRATOR = BuiltInRole(
    "Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
)

# Granted by nothing: they may assign any role, or own everything under their scope. Named so
# that the checks which refuse them (the policy pack, the conditions' tests) name them too.
OWNER = BuiltInRole("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
USER_ACCESS_ADMINISTRATOR = BuiltInRole(
    "User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
)

# Granted by bootstrap/ only (the platform program grants these to services only through the
# access catalogue below):
# Each deploy identity, on the subscription: create the environment's resources.
CONTRIBUTOR = BuiltInRole("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c")
# Deploy identities (and whoever runs bootstrap), on the state container: read and write state.
# Also in the access catalogue, for services.
STORAGE_BLOB_DATA_CONTRIBUTOR = BuiltInRole(
    "Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
)
# The preview identity, on the state container: `pulumi preview` only reads state. Also in
# the access catalogue, for services.
STORAGE_BLOB_DATA_READER = BuiltInRole(
    "Storage Blob Data Reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
)
# The access catalogue's data roles (components/access_catalogue.py says which goes on which
# resource): what a service's identity may hold on the Azure services it reaches, beyond Key
# Vault. Storage Blob Data Reader and Contributor are above.
STORAGE_QUEUE_DATA_CONTRIBUTOR = BuiltInRole(
    "Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
)
STORAGE_TABLE_DATA_CONTRIBUTOR = BuiltInRole(
    "Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
)
SERVICE_BUS_DATA_RECEIVER = BuiltInRole(
    "Azure Service Bus Data Receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"
)
SERVICE_BUS_DATA_SENDER = BuiltInRole(
    "Azure Service Bus Data Sender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
)
EVENT_HUBS_DATA_RECEIVER = BuiltInRole(
    "Azure Event Hubs Data Receiver", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
)
EVENT_HUBS_DATA_SENDER = BuiltInRole(
    "Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975"
)
APP_CONFIGURATION_DATA_READER = BuiltInRole(
    "App Configuration Data Reader", "516239f1-63e1-4d78-a4de-a74fb236a071"
)


class CosmosDataRole(Role):
    """A Cosmos DB for NoSQL built-in data role: a `sqlRoleDefinitions` id inside each account,
    assigned with the account's own role assignments (not ARM's), the same GUID in every one."""


COSMOS_DB_DATA_READER = CosmosDataRole(
    "Cosmos DB Built-in Data Reader", "00000000-0000-0000-0000-000000000001"
)
COSMOS_DB_DATA_CONTRIBUTOR = CosmosDataRole(
    "Cosmos DB Built-in Data Contributor", "00000000-0000-0000-0000-000000000002"
)

# The access catalogue (components/access_catalogue.py reads it): each data role a service may
# hold beyond Key Vault, and the resource types it may be granted on. Resource types are
# lower-cased, as ARM compares them: a provider namespace and its type path.
STORAGE_ACCOUNT = "microsoft.storage/storageaccounts"
BLOB_CONTAINER = f"{STORAGE_ACCOUNT}/blobservices/containers"
STORAGE_QUEUE = f"{STORAGE_ACCOUNT}/queueservices/queues"
STORAGE_TABLE = f"{STORAGE_ACCOUNT}/tableservices/tables"
SERVICE_BUS_NAMESPACE = "microsoft.servicebus/namespaces"
SERVICE_BUS_QUEUE = f"{SERVICE_BUS_NAMESPACE}/queues"
SERVICE_BUS_TOPIC = f"{SERVICE_BUS_NAMESPACE}/topics"
SERVICE_BUS_SUBSCRIPTION = f"{SERVICE_BUS_TOPIC}/subscriptions"
EVENT_HUBS_NAMESPACE = "microsoft.eventhub/namespaces"
EVENT_HUB = f"{EVENT_HUBS_NAMESPACE}/eventhubs"
APP_CONFIGURATION_STORE = "microsoft.appconfiguration/configurationstores"
COSMOS_ACCOUNT = "microsoft.documentdb/databaseaccounts"


@dataclass(frozen=True)
class DataRole:
    """A role of the catalogue, and the resource types it may be granted on."""

    role: Role
    on: tuple[str, ...]

    @property
    def is_cosmos(self) -> bool:
        return isinstance(self.role, CosmosDataRole)


# Data roles on scopes Microsoft documents for each (the service's "authorize with Microsoft
# Entra ID" pages: Storage at account or container/queue/table, Service Bus at namespace,
# queue, topic or subscription, Event Hubs at namespace or event hub, App Configuration at the
# store, Cosmos DB at the account).
DATA_ROLES: tuple[DataRole, ...] = (
    DataRole(STORAGE_BLOB_DATA_READER, (STORAGE_ACCOUNT, BLOB_CONTAINER)),
    DataRole(STORAGE_BLOB_DATA_CONTRIBUTOR, (STORAGE_ACCOUNT, BLOB_CONTAINER)),
    DataRole(STORAGE_QUEUE_DATA_CONTRIBUTOR, (STORAGE_ACCOUNT, STORAGE_QUEUE)),
    DataRole(STORAGE_TABLE_DATA_CONTRIBUTOR, (STORAGE_ACCOUNT, STORAGE_TABLE)),
    DataRole(
        SERVICE_BUS_DATA_RECEIVER,
        (SERVICE_BUS_NAMESPACE, SERVICE_BUS_QUEUE, SERVICE_BUS_TOPIC, SERVICE_BUS_SUBSCRIPTION),
    ),
    DataRole(
        SERVICE_BUS_DATA_SENDER, (SERVICE_BUS_NAMESPACE, SERVICE_BUS_QUEUE, SERVICE_BUS_TOPIC)
    ),
    DataRole(EVENT_HUBS_DATA_RECEIVER, (EVENT_HUBS_NAMESPACE, EVENT_HUB)),
    DataRole(EVENT_HUBS_DATA_SENDER, (EVENT_HUBS_NAMESPACE, EVENT_HUB)),
    DataRole(APP_CONFIGURATION_DATA_READER, (APP_CONFIGURATION_STORE,)),
    DataRole(COSMOS_DB_DATA_READER, (COSMOS_ACCOUNT,)),
    DataRole(COSMOS_DB_DATA_CONTRIBUTOR, (COSMOS_ACCOUNT,)),
)
# The ARM roles of the catalogue: the ones ABAC conditions and the policy pack see.
ARM_DATA_ROLES: tuple[BuiltInRole, ...] = tuple(
    entry.role for entry in DATA_ROLES if isinstance(entry.role, BuiltInRole)
)

# Granted by nothing: besides encrypt and decrypt it allows keys/update/action, with which a
# CI identity could disable the stacks' key and stop every deploy. CI identities get custom
# roles on their own environment's key instead (bootstrap/secretless_bootstrap/key_roles.py).
KEY_VAULT_CRYPTO_USER = BuiltInRole("Key Vault Crypto User", "12338af0-0e69-4776-bea7-57ae8d297424")
# Whoever runs bootstrap, on its vault: create (and on destroy delete) the secrets key.
KEY_VAULT_CRYPTO_OFFICER = BuiltInRole(
    "Key Vault Crypto Officer", "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
)

# Fixed namespace for assignment names: uuid5(this, scope|role|principal) is this project's
# equivalent of Bicep's guid(scope, role, principal).
ASSIGNMENT_NAMESPACE = uuid.UUID("5d0c1f7e-2b9a-4c53-9f0e-6a7b1e3c8d24")

# Managed identities are service principals. Saying so up front lets ARM skip the directory
# look-up that fails with PrincipalNotFound while a new identity is still replicating. For a
# principal that already exists (the deployer) the type is left out: ARM looks it up, and a
# wrong guess fails with UnmatchedPrincipalType.
# https://learn.microsoft.com/azure/role-based-access-control/role-assignments-template#new-service-principal
SERVICE_PRINCIPAL = authorization.PrincipalType.SERVICE_PRINCIPAL
GROUP = authorization.PrincipalType.GROUP


def role_definition_id(subscription_id: str, role: Role) -> str:
    """The subscription-level definition id ARM expects (no resource group segment)."""
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role.guid}"
    )


def assignment_name(scope: str, role: Role, principal_id: str) -> str:
    """Deterministic assignment name: a re-run never duplicates, a rename never collides.

    ARM ids are case-insensitive, so the scope is lower-cased first.
    """
    key = f"{scope.lower()}|{role.guid}|{principal_id.lower()}"
    return str(uuid.uuid5(ASSIGNMENT_NAMESPACE, key))


def subscription_of(scope: str) -> str:
    """The subscription a scope lives in: `/subscriptions/<id>/...` -> `<id>`."""
    parts = scope.split("/")
    if len(parts) < 3 or parts[1].lower() != "subscriptions" or not parts[2]:
        raise ValueError(f"role assignment scope {scope!r} is not an ARM id under a subscription")
    return parts[2]


def _in_subscription(scope: str, subscription_id: str) -> str:
    """`scope`, once checked to be in `subscription_id` (a role definition of another
    subscription names no role there)."""
    if subscription_of(scope).lower() != subscription_id.lower():
        raise ValueError(
            f"role assignment scope {scope!r} is not in subscription {subscription_id}, "
            "where its role definition is named; pass the scope's own subscription"
        )
    return scope


def _output(value: pulumi.Input[str]) -> pulumi.Output[str]:
    """`value` as an Output, without the step `Output.from_input` adds to an Output (an apply
    that unwraps inputs nested in its value; a string has none)."""
    return value if isinstance(value, pulumi.Output) else pulumi.Output.from_input(value)


def assign_role(
    resource_name: str,
    *,
    role: Role,
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    principal_type: authorization.PrincipalType | None,
    description: str,
    condition: pulumi.Input[str] | None = None,
    parent: pulumi.Resource | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> authorization.RoleAssignment:
    """Grant `role` to a principal at `scope`; the one way this project makes role assignments.

    The role definition is named in `subscription_id`, the subscription the scope lives in
    (an existing vault's may not be the deployment's). It is given rather than read off the
    scope so that `pulumi preview` shows which role a new grant gives: the id of a resource
    this deployment creates, and so the scope, is unknown until Azure creates it, while the
    subscription is known. Once the scope is known, a scope in another subscription is refused.
    Changing principal or scope changes the name, so Pulumi replaces the assignment instead of
    attempting the update ARM rejects (RoleAssignmentUpdateNotPermitted). `principal_type` is
    None for a principal that existed before this deployment (see SERVICE_PRINCIPAL). A
    `condition` (Azure ABAC) is sent with CONDITION_VERSION.
    """
    if len(description) > azure_limits.ROLE_ASSIGNMENT_DESCRIPTION_MAX_LENGTH:
        raise ValueError(
            f"role assignment {resource_name}: description has {len(description)} characters; "
            f"keep it to {azure_limits.ROLE_ASSIGNMENT_DESCRIPTION_MAX_LENGTH}"
        )
    return authorization.RoleAssignment(
        resource_name,
        scope=scope,
        role_definition_id=_output(subscription_id).apply(
            lambda subscription: role_definition_id(subscription, role)
        ),
        principal_id=principal_id,
        # The SDK sends "User" when principal_type is None (the REST spec's default since
        # 2022-04-01, Azure/azure-rest-api-specs#21664), which fails for anyone else with
        # UnmatchedPrincipalType. A known-None Output is not replaced, and is left out.
        principal_type=principal_type or pulumi.Output.from_input(None),
        role_assignment_name=pulumi.Output.all(scope, principal_id, subscription_id).apply(
            lambda args: assignment_name(_in_subscription(args[0], args[2]), role, args[1])
        ),
        description=description,
        condition=condition,
        condition_version=None if condition is None else CONDITION_VERSION,
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=parent), opts),
    )


# Who receives a role from the deploy identity, named by what bootstrap knows them as: the
# environment's deploy identity itself (the platform's `deployers`), the environment's admin
# groups, the application teams (their groups, and their CI deploy identities, which bootstrap
# makes) and the developers group. Each kind is listed by principal id in the deploy identity's
# condition.
DEPLOYER = "deploy identity"
ADMIN_GROUPS = "admin groups"
TEAM_GROUPS = "team groups"
DEVELOPERS = "developers group"
RECIPIENT_KINDS = (DEPLOYER, ADMIN_GROUPS, TEAM_GROUPS, DEVELOPERS)


@dataclass(frozen=True)
class Recipients:
    """Who may receive a role: principals of `principal_types` (identities the program creates
    in the same deployment, which it names by type), or the principals of `kinds`, by id."""

    principal_types: tuple[authorization.PrincipalType, ...] = ()
    kinds: tuple[str, ...] = ()


# The one table of what a deploy identity may grant, and to whom; its ABAC condition is generated
# from it (deploy_identity_condition). tests/test_roles.py checks every assignment the program
# declares goes to a principal this table admits.
# - Admin roles (AKS RBAC Cluster Admin, Role Based Access Control Administrator) only by id: a
#   service principal the deploy identity creates and federates itself must never get them.
# - AKS RBAC Writer: the application teams' groups and CI identities, on their namespaces.
# - Key Vault Secrets Officer: the deployers (azure-native deletes secrets through the data
#   plane) and the managed identities of services configured as officers.
# - Data roles: the services' managed identities, and the developers group.
# - Control-plane roles: the cluster's and services' managed identities.
DEPLOY_IDENTITY_GRANTS: dict[Role, Recipients] = {
    NETWORK_CONTRIBUTOR: Recipients((SERVICE_PRINCIPAL,)),
    MANAGED_IDENTITY_OPERATOR: Recipients((SERVICE_PRINCIPAL,)),
    VIRTUAL_MACHINE_CONTRIBUTOR: Recipients((SERVICE_PRINCIPAL,)),
    KEY_VAULT_SECRETS_USER: Recipients((SERVICE_PRINCIPAL,), (DEVELOPERS,)),
    KEY_VAULT_SECRETS_OFFICER: Recipients((SERVICE_PRINCIPAL,), (DEPLOYER,)),
    AKS_RBAC_CLUSTER_ADMIN: Recipients(kinds=(DEPLOYER, ADMIN_GROUPS)),
    AKS_RBAC_WRITER: Recipients(kinds=(TEAM_GROUPS,)),
    RBAC_ADMINISTRATOR: Recipients(kinds=(TEAM_GROUPS,)),
    # Only on the registry (bootstrap's registry_pull_condition): the kubelet identity pulls.
    ACR_PULL: Recipients((SERVICE_PRINCIPAL,)),
    # The access catalogue's ARM data roles, as Key Vault Secrets User: services' identities.
    **{role: Recipients((SERVICE_PRINCIPAL,), (DEVELOPERS,)) for role in ARM_DATA_ROLES},
}


def assign_to_deployers(
    prefix: str,
    grant: str,
    *,
    role: Role,
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    deployers: Sequence[DeployerConfig],
    description: str,
    parent: pulumi.Resource,
) -> list[authorization.RoleAssignment]:
    """`role` at `scope` for each configured deployer: `<prefix>-<objectId>-<grant>`.

    The deployers come from config, never from whoever runs `pulumi up`, so a person's run and
    CI's declare the same grants. Their types are given as configured (they exist already, so
    ARM checks the type rather than guessing it). The first deployer keeps the resource name of
    the single caller's grant that 1.x made (`<prefix>-<grant>`) as an alias: an upgrade run by
    the same principal changes nothing, and one run by another replaces that grant.
    """
    return [
        assign_role(
            f"{prefix}-{deployer.object_id}-{grant}",
            role=role,
            scope=scope,
            subscription_id=subscription_id,
            principal_id=str(deployer.object_id),
            principal_type=authorization.PrincipalType(deployer.principal_type),
            description=description,
            parent=parent,
            opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{prefix}-{grant}")])
            if index == 0
            else None,
        )
        for index, deployer in enumerate(deployers)
    ]


# The roles the platform program grants (all of the table's but RBAC Administrator, which it
# gives only to team groups, with TEAM_SECRETS_DELEGATION).
PLATFORM_GRANTS = tuple(role for role in DEPLOY_IDENTITY_GRANTS if role != RBAC_ADMINISTRATOR)
# The principal types the program names: managed identities, admin and team groups.
PLATFORM_PRINCIPAL_TYPES = (SERVICE_PRINCIPAL, GROUP)
# Azure caps a role assignment's condition at 8 KB (ABAC conditions FAQ); the condition is
# ASCII (GUIDs, names and operators), so characters and bytes agree.
# https://learn.microsoft.com/azure/role-based-access-control/conditions-faq
CONDITION_MAX_LENGTH = 8192
# Azure ABAC conditions on role assignments are version 2.0.
CONDITION_VERSION = "2.0"


@dataclass(frozen=True)
class Delegation:
    """Role assignments a Role Based Access Control Administrator may create and delete: of
    `roles`, to principals of `principal_types` or to the principals `principal_ids`."""

    roles: tuple[Role, ...]
    principal_types: tuple[authorization.PrincipalType, ...] = ()
    principal_ids: tuple[str, ...] = ()


# What a team group may do with its RBAC Administrator on a platform vault's secret: give Key
# Vault Secrets User to service principals (its applications' managed identities), nothing else.
TEAM_SECRETS_DELEGATION = Delegation((KEY_VAULT_SECRETS_USER,), (SERVICE_PRINCIPAL,))


# What a team's deploy identity may do with its RBAC Administrator on its own resource group:
# the roles the consumer template assigns there, Key Vault Secrets User and Secrets Officer on
# the team's own vault and the access catalogue's data roles (app.azureAccess), to service
# principals (its application's identity, and itself as the vault's deployer); nothing else.
TEAM_DEPLOY_DELEGATION = Delegation(
    (KEY_VAULT_SECRETS_USER, KEY_VAULT_SECRETS_OFFICER, *ARM_DATA_ROLES), (SERVICE_PRINCIPAL,)
)


def rbac_administrator_condition(*delegations: Delegation) -> str:
    """The ABAC condition that holds a Role Based Access Control Administrator to `delegations`.

    Only the role, principal id and principal type of an assignment can be tested (not its
    scope, nor its own condition). Write is judged on the request, delete on the existing
    assignment; each needs its own expression.
    https://learn.microsoft.com/azure/role-based-access-control/conditions-authorization-actions-attributes
    https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples
    """
    if not delegations:
        raise ValueError("an RBAC Administrator's condition needs at least one delegation")

    def allowed(action: str, source: str) -> str:
        attribute = f"@{source}[Microsoft.Authorization/roleAssignments"
        clauses = "".join(f" OR {_permits(delegation, attribute)}" for delegation in delegations)
        return f"(!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}}){clauses})"

    return f"{allowed('write', 'Request')} AND {allowed('delete', 'Resource')}"


def _permits(delegation: Delegation, attribute: str) -> str:
    roles = ", ".join(role.guid for role in delegation.roles)
    principals = []
    if delegation.principal_types:
        types = ", ".join(f"'{kind.value}'" for kind in delegation.principal_types)
        principals.append(
            f"{attribute}:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{{types}}}"
        )
    if delegation.principal_ids:
        ids = ", ".join(delegation.principal_ids)
        principals.append(f"{attribute}:PrincipalId] ForAnyOfAnyValues:GuidEquals {{{ids}}}")
    if not principals:
        raise ValueError("a delegation names principal types, principal ids or both")
    principal = principals[0] if len(principals) == 1 else f"({' OR '.join(principals)})"
    return (
        f"({attribute}:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{roles}}} AND {principal})"
    )


def registry_pull_condition() -> str:
    """The condition on a deploy identity's RBAC Administrator on the registry: AcrPull, to the
    recipients DEPLOY_IDENTITY_GRANTS names for it (the kubelet identity, a service
    principal), and nothing else."""
    recipients = DEPLOY_IDENTITY_GRANTS[ACR_PULL]
    return rbac_administrator_condition(Delegation((ACR_PULL,), recipients.principal_types))


def deploy_identity_condition(principals: Mapping[str, Sequence[str]]) -> str:
    """The condition on a deploy identity's Role Based Access Control Administrator, from
    DEPLOY_IDENTITY_GRANTS and the principal ids of each recipient kind (RECIPIENT_KINDS).

    Roles with the same recipients share one clause. A role whose recipients are all kinds with
    no principal (no team group, say) is left out: the deploy identity may give it to no one.
    RBAC Administrator goes to the listed teams' groups and CI identities only (both made or
    approved by an Owner in bootstrap): a condition cannot see the
    condition of the assignment it allows, so an identity that may assign RBAC Administrator
    may assign it unconditioned, which can grant Owner. Naming the groups keeps that to groups
    an Owner approved in bootstrap, never a principal the deploy identity could create or
    control; the policy pack refuses an unconditioned RBAC Administrator on every preview and
    deploy.
    """
    unknown = set(principals) - set(RECIPIENT_KINDS)
    if unknown:
        raise ValueError(f"unknown recipient kinds {sorted(unknown)}; known: {RECIPIENT_KINDS}")
    clauses: dict[tuple[tuple[authorization.PrincipalType, ...], tuple[str, ...]], list[Role]] = {}
    for role, recipients in DEPLOY_IDENTITY_GRANTS.items():
        ids = tuple(
            principal.lower() for kind in recipients.kinds for principal in principals.get(kind, ())
        )
        if recipients.principal_types or ids:
            clauses.setdefault((recipients.principal_types, ids), []).append(role)
    return rbac_administrator_condition(
        *(Delegation(tuple(held), types, ids) for (types, ids), held in clauses.items())
    )
