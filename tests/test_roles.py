"""The role catalogue and the one role-assignment helper."""

from __future__ import annotations

import re
import uuid

import pytest

from components import roles
from offline.harness import PROJECT_DIR, RecordedGraph, run_program
from offline.mocks import MOCK_DEPLOYER_OBJECT_ID, MOCK_SUBSCRIPTION_ID
from offline.stack_file import read_config
from tests.graph_queries import IDENTITY, ROLE_ASSIGNMENT, ROLES_BY_GUID, grants

# Microsoft's published built-in role ids
# (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles), as pinned in
# DESIGN.md. A wrong GUID grants a different role everywhere it is used.
PUBLISHED_ROLE_IDS = {
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Virtual Machine Contributor": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    # Granted by bootstrap/ only.
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
}


def test_catalogue_matches_the_published_role_ids_exactly() -> None:
    catalogue = {role.name: role.guid for role in ROLES_BY_GUID.values()}
    assert catalogue == PUBLISHED_ROLE_IDS


def test_role_definition_id_is_the_subscription_level_form() -> None:
    assert roles.role_definition_id(MOCK_SUBSCRIPTION_ID, roles.READER) == (
        f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/"
        "roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
    )


def test_assignment_name_is_a_stable_guid_of_scope_role_and_principal() -> None:
    scope = f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-a"
    principal = "0d6e2a57-6f5c-4d38-9e4f-0a8b3c2d1e0f"
    name = roles.assignment_name(scope, roles.READER, principal)
    assert uuid.UUID(name).version == 5
    assert name == roles.assignment_name(scope, roles.READER, principal)
    # ARM ids are case-insensitive: the same assignment must get the same name.
    assert name == roles.assignment_name(scope.upper(), roles.READER, principal.upper())
    others = {
        roles.assignment_name(scope + "x", roles.READER, principal),
        roles.assignment_name(scope, roles.NETWORK_CONTRIBUTOR, principal),
        roles.assignment_name(scope, roles.READER, principal[:-1] + "e"),
    }
    assert name not in others
    assert len(others) == 3


def test_scope_outside_a_subscription_is_refused() -> None:
    with pytest.raises(ValueError, match="is not an ARM id under a subscription"):
        roles.subscription_of("/providers/Microsoft.Management/managementGroups/root")


def test_every_assignment_in_the_graph_is_made_by_the_helper(dev: RecordedGraph) -> None:
    assignments = dev.by_type(ROLE_ASSIGNMENT)
    assert assignments
    for assignment in assignments:
        inputs = assignment.inputs
        guid = inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        role = ROLES_BY_GUID[guid]
        subscription = roles.subscription_of(inputs["scope"])
        assert inputs["roleDefinitionId"] == roles.role_definition_id(subscription, role)
        assert inputs["roleAssignmentName"] == roles.assignment_name(
            inputs["scope"], role, inputs["principalId"]
        ), assignment.urn
        assert inputs["description"], f"{assignment.urn} does not say why it exists"


def test_principal_type_is_given_only_for_principals_this_deployment_creates(
    prod: RecordedGraph,
) -> None:
    # A new identity needs principalType (else PrincipalNotFound while it replicates); the
    # deployer exists already, and a wrong type fails with UnmatchedPrincipalType, so ARM is
    # left to look it up. Admin groups are always groups.
    identities = {r.outputs["principalId"] for r in prod.by_type(IDENTITY)}
    assignments = prod.by_type(ROLE_ASSIGNMENT)
    assert any(a.inputs["principalId"] == MOCK_DEPLOYER_OBJECT_ID for a in assignments)
    for assignment in assignments:
        principal = assignment.inputs["principalId"]
        expected = (
            "ServicePrincipal"
            if principal in identities
            else None
            if principal == MOCK_DEPLOYER_OBJECT_ID
            else "Group"
        )
        assert assignment.inputs.get("principalType") == expected, assignment.urn


# --- what the deploy identity's Role Based Access Control Administrator may assign ----------


@pytest.fixture(scope="module")
def rich() -> RecordedGraph:
    """The richest stack: every binding, admin groups, seeded secrets, pod identity."""
    return run_program("rich", config=read_config(PROJECT_DIR / "tests/stacks/Pulumi.rich.yaml"))


def test_every_role_the_platform_grants_is_a_platform_grant_and_none_goes_unused(
    rich: RecordedGraph, prod: RecordedGraph
) -> None:
    # The deploy identity may assign PLATFORM_GRANTS only (its ABAC condition): a grant
    # outside them fails in Azure, and one the program no longer makes widens the condition.
    granted = {g.role for graph in (rich, prod) for g in grants(graph)}
    assert granted == set(roles.PLATFORM_GRANTS)


def test_every_principal_the_platform_grants_to_is_of_a_platform_principal_type(
    rich: RecordedGraph, prod: RecordedGraph
) -> None:
    # Managed identities and groups by type; the deployer (no type) by its own id.
    allowed = {principal_type.value for principal_type in roles.PLATFORM_PRINCIPAL_TYPES}
    for graph in (rich, prod):
        for g in grants(graph):
            assert g.principal_type in allowed or g.principal_id == MOCK_DEPLOYER_OBJECT_ID, g


GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_the_condition_names_exactly_the_platform_grants_for_write_and_delete() -> None:
    deployer = "0d6e2a57-6f5c-4d38-9e4f-0a8b3c2d1e0f"
    condition = roles.rbac_administrator_condition(deployer)
    listed = re.findall(r"RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{([^}]*)\}", condition)
    assert len(listed) == 2  # the request's role (write) and the existing one's (delete)
    for guids in listed:
        assert set(re.findall(GUID, guids)) == {role.guid for role in roles.PLATFORM_GRANTS}
    assert "'ServicePrincipal', 'Group'" in condition
    assert condition.count(f"GuidEquals {{{deployer}}}") == 2
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/write'}" in condition
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}" in condition
    assert roles.CONDITION_VERSION == "2.0"
