"""Small questions tests ask of a recorded graph."""

from __future__ import annotations

from dataclasses import dataclass

from secretless_aks.components import roles
from secretless_aks.offline.harness import RecordedGraph, RecordedResource
from secretless_aks.offline.mocks import CI_DEPLOYER_STAND_IN, CI_REGISTRY_STAND_IN

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
ROLES_BY_GUID = {
    role.guid: role for role in vars(roles).values() if isinstance(role, roles.BuiltInRole)
}


@dataclass(frozen=True)
class Grant:
    role: roles.Role
    scope: str
    principal_id: str
    principal_type: str | None  # None: left for ARM to look up (a principal that exists)


def grant(assignment: RecordedResource) -> Grant:
    inputs = assignment.inputs
    guid = inputs["roleDefinitionId"].rsplit("/", 1)[-1]
    # A custom role (bootstrap's key roles) by its GUID: `custom:<guid>`.
    role = ROLES_BY_GUID.get(guid) or roles.CustomRole(f"custom:{guid}", guid)
    return Grant(role, inputs["scope"], inputs["principalId"], inputs.get("principalType"))


def grants(graph: RecordedGraph) -> list[Grant]:
    return [grant(assignment) for assignment in graph.by_type(ROLE_ASSIGNMENT)]


def grants_to(graph: RecordedGraph, principal: RecordedResource) -> set[tuple[str, str]]:
    """(role name, scope) for every assignment to an identity's principal."""
    principal_id = principal.outputs["principalId"]
    return {(g.role.name, g.scope) for g in grants(graph) if g.principal_id == principal_id}


# The deployer's grants under the harness's stand-in for the deployer CI sets (`deployers`).
DEPLOYER_CLUSTER_ADMIN = f"kubernetes-deployer-{CI_DEPLOYER_STAND_IN}-aks-rbac-cluster-admin"
DEPLOYER_SECRETS_OFFICER = f"keyvault-deployer-{CI_DEPLOYER_STAND_IN}-secrets-officer"
# The kubelet's one grant under the harness's stand-in for the registry CI sets (`registry`).
KUBELET_PULLS_FROM_REGISTRY = (roles.ACR_PULL.name, CI_REGISTRY_STAND_IN["id"])
