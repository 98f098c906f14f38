"""Role assignments: narrow scopes, no role that can take over a subscription, and principals
the stack accounts for."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from . import conditions
from .access_catalogue import ARM_DATA_ROLES
from .cluster import CLUSTER
from .model import Resource, Rule, Settings, Stack, applies_to, differs, known

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
AZURE_IDENTITY = "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity"
# Principals the stack creates: its user-assigned identities, and the cluster's (whose
# principal ids come from the cluster's outputs).
STACK_PRINCIPALS = (IDENTITY, CLUSTER)

# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
FORBIDDEN_ROLES = {
    OWNER: "Owner",
    CONTRIBUTOR: "Contributor",
    USER_ACCESS_ADMINISTRATOR: "User Access Administrator",
}
# The roles the platform grants (secretless_aks/components/roles.py PLATFORM_GRANTS; a test
# keeps the two equal): an RBAC Administrator may be allowed to assign these and no other.
# The access catalogue's data roles come from its generated copy.
CATALOGUE = frozenset(ARM_DATA_ROLES) | frozenset(
    {
        "4d97b98b-1d4f-4787-a291-c67834d212e7",  # Network Contributor
        MANAGED_IDENTITY_OPERATOR,
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",  # Virtual Machine Contributor
        "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",  # Key Vault Secrets Officer
        "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",  # AKS RBAC Cluster Admin
        "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",  # AKS RBAC Writer
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",  # AcrPull
    }
)
# What a condition is asked, to see whether it lets its holder take over: each role that can
# grant or own everything, to a principal nobody names, of every type.
TAKEOVER_ROLES = {**FORBIDDEN_ROLES, RBAC_ADMINISTRATOR: "Role Based Access Control Administrator"}
PROBE_PRINCIPAL = "00000000-0000-4000-8000-000000000000"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
# A scope no narrower than a subscription: the root, a management group, a subscription.
BROAD_SCOPE = re.compile(
    r"/|/providers/Microsoft\.Management/managementGroups/[^/]+/?|/subscriptions/[^/]+/?",
    re.IGNORECASE,
)


def role_guid(assignment: Resource) -> str | None:
    """The role definition's GUID, or None while it is not known."""
    definition = assignment.get("roleDefinitionId")
    if not (known(definition) and isinstance(definition, str)):
        return None
    return definition.rstrip("/").rsplit("/", 1)[-1].lower()


@applies_to(ROLE_ASSIGNMENT)
def _below_subscription(assignment: Resource, _: Settings) -> Iterable[str]:
    scope = assignment.get("scope")
    if known(scope) and isinstance(scope, str) and BROAD_SCOPE.fullmatch(scope):
        yield (
            f"scope the assignment to the resource it is for, not {scope}: a grant at "
            "subscription level or above reaches every resource under it"
        )


@applies_to(ROLE_ASSIGNMENT)
def _forbidden_roles(assignment: Resource, _: Settings) -> Iterable[str]:
    guid = role_guid(assignment)
    if guid in FORBIDDEN_ROLES:
        yield (
            f"grant a narrower built-in role than {FORBIDDEN_ROLES[guid]}: it can take over "
            "everything under its scope (Key Vault Secrets User, AKS RBAC Writer, ...)"
        )
    condition = assignment.get("condition")
    if guid == RBAC_ADMINISTRATOR and not (known(condition) and condition):
        yield (
            "give Role Based Access Control Administrator a condition (ABAC, conditionVersion "
            "2.0) naming the roles and principal types it may assign: unconditioned, it can "
            "grant Owner"
        )
    elif guid == RBAC_ADMINISTRATOR and isinstance(condition, str):
        yield from _condition_problems(condition)


def _condition_problems(condition: str) -> Iterator[str]:
    """What an RBAC Administrator's condition lets its holder assign beyond the catalogue."""
    try:
        outside = conditions.role_guids(condition) - CATALOGUE
        takeovers = sorted(
            name
            for role, name in TAKEOVER_ROLES.items()
            for action in ("write", "delete")
            for kind in PRINCIPAL_TYPES
            if conditions.allows(condition, conditions.Request(action, role, PROBE_PRINCIPAL, kind))
        )
    except SyntaxError as error:
        yield (
            "write the Role Based Access Control Administrator's condition as the project "
            f"generates it (roles.rbac_administrator_condition): this one cannot be read ({error})"
        )
        return
    if outside:
        yield (
            "hold the Role Based Access Control Administrator's condition to the roles the "
            f"platform grants: it also names {', '.join(sorted(outside))}"
        )
    for name in dict.fromkeys(takeovers):
        yield (
            f"hold the Role Based Access Control Administrator's condition to the roles the "
            f"platform grants: it lets its holder assign {name}"
        )


def _from_stack(stack: Stack, assignment: Resource) -> bool:
    return bool(stack.sources(assignment, "principalId", *STACK_PRINCIPALS))


def _principal_type(stack: Stack, _: Settings) -> Iterator[tuple[Resource, str]]:
    for assignment in stack.of_type(ROLE_ASSIGNMENT):
        if _from_stack(stack, assignment) and differs(
            assignment.get("principalType"), "ServicePrincipal"
        ):
            yield (
                assignment,
                (
                    "set principalType to ServicePrincipal for an identity this stack creates: ARM "
                    "then skips the directory look-up that fails (PrincipalNotFound) while the new "
                    "identity replicates"
                ),
            )


def _known_principals(stack: Stack, settings: Settings) -> Iterator[tuple[Resource, str]]:
    # The deployers, the cluster's admin groups, the application teams' groups (appTeams) and
    # the developers group are configured; every other principal is an identity the stack declares.
    configured = (
        settings.deployers
        | settings.app_team_groups
        | settings.developers
        | {
            str(group).lower()
            for cluster in stack.of_type(CLUSTER)
            for group in cluster.get("aadProfile", "adminGroupObjectIDs") or ()
            if known(group)
        }
    )
    outside: dict[str, list[Resource]] = {}
    for assignment in stack.of_type(ROLE_ASSIGNMENT):
        principal = assignment.get("principalId")
        if _from_stack(stack, assignment) or not (known(principal) and isinstance(principal, str)):
            continue
        if principal.lower() not in configured:
            outside.setdefault(principal.lower(), []).append(assignment)
    principals = ", ".join(sorted(outside))
    for assignments in outside.values():
        for assignment in assignments:
            yield (
                assignment,
                (
                    "grant roles only to identities this stack declares, its deployers "
                    "(deployers), the cluster's admin groups (aadProfile.adminGroupObjectIDs) "
                    "and the application teams' groups and deploy identities (appTeams); "
                    f"{len(outside)} other principal"
                    f"{'s get' if len(outside) > 1 else ' gets'} roles here ({principals})"
                ),
            )


def _kubelet_operator_scope(stack: Stack, _: Settings) -> Iterator[tuple[Resource, str]]:
    kubelets = {
        identity.urn
        for cluster in stack.of_type(CLUSTER)
        for identity in stack.sources(cluster, "identityProfile", IDENTITY)
    }
    pod_identities = {
        identity.urn
        for azure_identity in stack.of_type(AZURE_IDENTITY)
        for identity in stack.sources(azure_identity, "spec", IDENTITY)
    }
    for assignment in stack.of_type(ROLE_ASSIGNMENT):
        if role_guid(assignment) != MANAGED_IDENTITY_OPERATOR:
            continue
        if not kubelets.intersection(assignment.built_from("principalId")):
            continue
        scopes = {identity.urn for identity in stack.sources(assignment, "scope", IDENTITY)}
        if not scopes or not scopes <= pod_identities:
            yield (
                assignment,
                (
                    "grant the kubelet Managed Identity Operator only on identities an "
                    "AzureIdentity (AAD Pod Identity) uses: anywhere else it lets every node act "
                    "as that identity"
                ),
            )


RULES = (
    Rule(
        "role-assignment-principal-type",
        "Assignments to identities the stack creates name principalType ServicePrincipal.",
        "first deployments failing while a new identity replicates in Entra ID",
        check_stack=_principal_type,
    ),
    Rule(
        "role-assignment-below-subscription",
        "Every assignment is scoped below the subscription.",
        "an identity reaching every resource of the subscription",
        check_resource=_below_subscription,
    ),
    Rule(
        "role-assignment-forbidden-roles",
        "Never Owner, Contributor, User Access Administrator, or an unconditioned Role Based "
        "Access Control Administrator.",
        "an application identity that can grant itself, or anyone, any access",
        check_resource=_forbidden_roles,
    ),
    Rule(
        "role-assignment-known-principals",
        "Roles go only to identities the stack declares, its deployers, admin and team groups.",
        "access for a principal nobody reviewing the stack can account for",
        check_stack=_known_principals,
    ),
    Rule(
        "kubelet-managed-identity-operator-scope",
        "The kubelet holds Managed Identity Operator only on pod-identity identities.",
        "every node, and so every pod, able to act as identities meant for one service",
        check_stack=_kubelet_operator_scope,
    ),
)
