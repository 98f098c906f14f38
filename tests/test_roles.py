"""The role catalogue and the one role-assignment helper."""

from __future__ import annotations

import re
import uuid

import pulumi
import pytest

from policy.secretless_policy import conditions as abac
from secretless_aks.components import access_catalogue, azure_access, roles
from secretless_aks.offline.harness import (
    UNKNOWN,
    ProgramFailedError,
    RecordedGraph,
    run_program,
)
from secretless_aks.offline.mocks import (
    CI_DEPLOYER_STAND_IN,
    CI_REGISTRY_STAND_IN,
    MOCK_SUBSCRIPTION_ID,
    AzureMocks,
)
from tests.graph_queries import (
    DEPLOYER_CLUSTER_ADMIN,
    DEPLOYER_SECRETS_OFFICER,
    IDENTITY,
    ROLE_ASSIGNMENT,
    ROLES_BY_GUID,
    grant,
    grants,
)
from tests.stack_configs import RICH_CONFIG, stack_config

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
    "Container Registry Tasks Contributor": "fb382eab-e894-4461-af04-94435c366c3f",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service RBAC Admin": "3498e952-d568-435e-9b2c-8d77e338d7f7",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    "Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    # Granted by nothing.
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    # Granted by bootstrap/ only.
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    # The access catalogue's data roles (the two Storage Blob Data roles are above).
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Event Hubs Data Receiver": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "App Configuration Data Reader": "516239f1-63e1-4d78-a4de-a74fb236a071",
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
        assert inputs["roleAssignmentName"] == roles.assignment_name(
            inputs["scope"], role, inputs["principalId"]
        ), assignment.urn
        assert inputs["description"], f"{assignment.urn} does not say why it exists"


def test_every_principal_type_is_the_one_the_principal_has(prod: RecordedGraph) -> None:
    # A new identity needs principalType (else PrincipalNotFound while it replicates); a
    # deployer exists already and gets the type its config entry names (a wrong one fails with
    # UnmatchedPrincipalType, but the type never depends on who runs). Admin groups are groups.
    identities = {r.outputs["principalId"] for r in prod.by_type(IDENTITY)}
    assignments = prod.by_type(ROLE_ASSIGNMENT)
    assert any(a.inputs["principalId"] == CI_DEPLOYER_STAND_IN for a in assignments)
    for assignment in assignments:
        principal = assignment.inputs["principalId"]
        expected = (
            "ServicePrincipal"
            if principal in identities or principal == CI_DEPLOYER_STAND_IN
            else "Group"
        )
        assert assignment.inputs.get("principalType") == expected, assignment.urn


# --- what the deploy identity's Role Based Access Control Administrator may assign ----------


def test_every_role_the_platform_grants_is_a_platform_grant_and_none_goes_unused(
    rich: RecordedGraph, prod: RecordedGraph
) -> None:
    # The deploy identity may assign PLATFORM_GRANTS (its ABAC condition), and RBAC
    # Administrator to the team groups bootstrap lists: a grant outside them fails in Azure,
    # and one the program no longer makes widens the condition.
    granted = {g.role for graph in (rich, prod) for g in grants(graph)}
    assert granted == {*roles.PLATFORM_GRANTS, roles.RBAC_ADMINISTRATOR}


def test_rbac_administrator_goes_only_to_team_groups_held_to_granting_secrets_user(
    rich: RecordedGraph,
) -> None:
    teams = {team["groupObjectId"] for team in RICH_CONFIG["secretless-aks:appTeams"]}
    administrators = [
        a for a in rich.by_type(ROLE_ASSIGNMENT) if grant(a).role == roles.RBAC_ADMINISTRATOR
    ]
    assert administrators
    for assignment in administrators:
        assert assignment.inputs["principalId"] in teams, assignment.urn
        assert assignment.inputs["condition"] == roles.rbac_administrator_condition(
            roles.TEAM_SECRETS_DELEGATION
        )
        assert assignment.inputs["conditionVersion"] == roles.CONDITION_VERSION


def test_every_principal_the_platform_grants_to_is_of_a_platform_principal_type(
    rich: RecordedGraph, prod: RecordedGraph
) -> None:
    # Managed identities and groups by type; the deployer (no type) by its own id.
    allowed = {principal_type.value for principal_type in roles.PLATFORM_PRINCIPAL_TYPES}
    for graph in (rich, prod):
        for g in grants(graph):
            assert g.principal_type in allowed or g.principal_id == CI_DEPLOYER_STAND_IN, g


GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DEPLOYER = "0d6e2a57-6f5c-4d38-9e4f-0a8b3c2d1e0f"
TEAM_GROUP = "2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40"


def listed_roles(condition: str) -> list[set[str]]:
    """The role GUIDs of each clause, in order."""
    found = re.findall(r"RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{([^}]*)\}", condition)
    return [set(re.findall(GUID, guids)) for guids in found]


ADMIN_GROUP = "4f9c2a61-7b3e-4d85-a0c6-1e2d3f4a5b6c"
DEVELOPERS = "5a0d3b72-8c4f-4e96-b1d7-2f3e4a5b6c7d"
STRANGER = "6b1e4c83-9d5a-4fa7-82e8-3a4f5b6c7d8e"
PRINCIPALS = {
    roles.DEPLOYER: (DEPLOYER,),
    roles.ADMIN_GROUPS: (ADMIN_GROUP,),
    roles.TEAM_GROUPS: (TEAM_GROUP,),
    roles.DEVELOPERS: (DEVELOPERS,),
}
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


def may(condition: str, role: str, principal: str, kind: str) -> bool:
    """Whether the condition lets its holder both create and delete the assignment."""
    return all(
        abac.allows(condition, abac.Request(action, role, principal, kind))
        for action in ("write", "delete")
    )


@pytest.mark.parametrize(
    ("role", "principal", "kind", "allowed"),
    [
        # Roles that could assign anything, or own anything: to no one.
        (OWNER, DEPLOYER, "ServicePrincipal", False),
        (OWNER, ADMIN_GROUP, "Group", False),
        (USER_ACCESS_ADMINISTRATOR, TEAM_GROUP, "Group", False),
        (USER_ACCESS_ADMINISTRATOR, STRANGER, "ServicePrincipal", False),
        (CONTRIBUTOR, STRANGER, "ServicePrincipal", False),
        # Admin roles only to the principals bootstrap names, never by type.
        (roles.AKS_RBAC_CLUSTER_ADMIN.guid, DEPLOYER, "ServicePrincipal", True),
        (roles.AKS_RBAC_CLUSTER_ADMIN.guid, ADMIN_GROUP, "Group", True),
        (roles.AKS_RBAC_CLUSTER_ADMIN.guid, STRANGER, "ServicePrincipal", False),
        (roles.AKS_RBAC_CLUSTER_ADMIN.guid, STRANGER, "Group", False),
        (roles.AKS_RBAC_CLUSTER_ADMIN.guid, TEAM_GROUP, "Group", False),
        (roles.RBAC_ADMINISTRATOR.guid, TEAM_GROUP, "Group", True),
        (roles.RBAC_ADMINISTRATOR.guid, STRANGER, "ServicePrincipal", False),
        (roles.RBAC_ADMINISTRATOR.guid, DEPLOYER, "ServicePrincipal", False),
        (roles.RBAC_ADMINISTRATOR.guid, ADMIN_GROUP, "Group", False),
        # Team groups write in their namespaces; nobody else gets Writer.
        (roles.AKS_RBAC_WRITER.guid, TEAM_GROUP, "Group", True),
        (roles.AKS_RBAC_WRITER.guid, STRANGER, "ServicePrincipal", False),
        # Secrets Officer: the deployer, and services' identities configured as officers.
        (roles.KEY_VAULT_SECRETS_OFFICER.guid, DEPLOYER, "ServicePrincipal", True),
        (roles.KEY_VAULT_SECRETS_OFFICER.guid, STRANGER, "ServicePrincipal", True),
        (roles.KEY_VAULT_SECRETS_OFFICER.guid, DEVELOPERS, "Group", False),
        (roles.KEY_VAULT_SECRETS_OFFICER.guid, STRANGER, "User", False),
        # Data roles: service principals and the developers group.
        (roles.KEY_VAULT_SECRETS_USER.guid, STRANGER, "ServicePrincipal", True),
        (roles.KEY_VAULT_SECRETS_USER.guid, DEVELOPERS, "Group", True),
        (roles.KEY_VAULT_SECRETS_USER.guid, STRANGER, "Group", False),
        (roles.KEY_VAULT_SECRETS_USER.guid, STRANGER, "User", False),
        # Control-plane roles: service principals only.
        (roles.NETWORK_CONTRIBUTOR.guid, STRANGER, "ServicePrincipal", True),
        (roles.MANAGED_IDENTITY_OPERATOR.guid, STRANGER, "ServicePrincipal", True),
        (roles.VIRTUAL_MACHINE_CONTRIBUTOR.guid, DEVELOPERS, "Group", False),
        (roles.MANAGED_IDENTITY_OPERATOR.guid, STRANGER, "User", False),
    ],
)
def test_the_deploy_condition_judges_concrete_requests_as_the_catalogue_table_says(
    role: str, principal: str, kind: str, allowed: bool
) -> None:
    condition = roles.deploy_identity_condition(PRINCIPALS)
    assert may(condition, role, principal, kind) is allowed
    # Whatever the condition allows to be created it allows to be deleted, and the reverse.
    write = abac.allows(condition, abac.Request("write", role, principal, kind))
    delete = abac.allows(condition, abac.Request("delete", role, principal, kind))
    assert write is delete


def test_the_deploy_condition_allows_any_other_action_and_names_both_sources() -> None:
    condition = roles.deploy_identity_condition(PRINCIPALS)
    assert abac.allows(condition, abac.Request("read", OWNER, STRANGER, "User"))
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/write'}" in condition
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}" in condition
    assert roles.CONDITION_VERSION == "2.0"


def test_without_team_groups_no_one_may_be_made_rbac_administrator_or_writer() -> None:
    condition = roles.deploy_identity_condition({roles.DEPLOYER: (DEPLOYER,)})
    for role in (roles.RBAC_ADMINISTRATOR, roles.AKS_RBAC_WRITER):
        assert role.guid not in condition
        for principal, kind in ((DEPLOYER, "ServicePrincipal"), (TEAM_GROUP, "Group")):
            assert not may(condition, role.guid, principal, kind)
    with pytest.raises(ValueError, match="unknown recipient kinds"):
        roles.deploy_identity_condition({"everyone": (STRANGER,)})


def test_roles_with_the_same_recipients_share_one_clause() -> None:
    condition = roles.deploy_identity_condition(PRINCIPALS)
    clauses = listed_roles(condition)
    # Write and delete each: control-plane roles, Secrets User, Secrets Officer, Cluster Admin,
    # Writer with RBAC Administrator (both to team groups).
    assert len(clauses) == 10
    assert clauses[:5] == clauses[5:]
    assert {roles.AKS_RBAC_WRITER.guid, roles.RBAC_ADMINISTRATOR.guid} in clauses


def test_a_team_group_may_grant_key_vault_secrets_user_to_service_principals_only() -> None:
    condition = roles.rbac_administrator_condition(roles.TEAM_SECRETS_DELEGATION)
    secrets_user = {roles.KEY_VAULT_SECRETS_USER.guid}
    assert listed_roles(condition) == [secrets_user, secrets_user]
    assert condition.count("StringEqualsIgnoreCase {'ServicePrincipal'}") == 2
    assert "PrincipalId" not in condition


def test_a_condition_without_a_delegation_or_principals_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one delegation"):
        roles.rbac_administrator_condition()
    with pytest.raises(ValueError, match="principal types, principal ids or both"):
        roles.rbac_administrator_condition(roles.Delegation((roles.KEY_VAULT_SECRETS_USER,)))


# --- the role definition each grant names, in previews and deployments ----------------------

OTHER_SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
VAULT_IN_OTHER_SUBSCRIPTION = (
    f"/subscriptions/{OTHER_SUBSCRIPTION}/resourceGroups/rg-sec/providers/"
    "Microsoft.KeyVault/vaults/kv-shared"
)
SUBNET_IN_OTHER_SUBSCRIPTION = (
    f"/subscriptions/{OTHER_SUBSCRIPTION}/resourceGroups/rg-hub"
    "/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks"
)
# (stack, config) of each recorded configuration; None: the stack file as it is.
CONFIGURATIONS = {
    "dev": ("dev", None),
    "prod": ("prod", None),
    "rich": ("rich", RICH_CONFIG),
    "vault-in-another-subscription": (
        "dev",
        stack_config(
            keyVault={
                "existing": {
                    "name": "kv-shared",
                    "resourceGroup": "rg-sec",
                    "subscriptionId": OTHER_SUBSCRIPTION,
                }
            },
            services=[
                {"name": "orders", "secretScope": ["Orders--DbPassword"]},
                {"name": "payments", "keyVaultRole": "secretsOfficer"},
                {"name": "legacy", "binding": "podIdentity", "secretScope": ["Identity--Secret"]},
            ],
            appTeams=[
                {
                    "name": "search",
                    "groupObjectId": TEAM_GROUP,
                    "namespaces": ["search"],
                    "platformVaultSecrets": ["Search--ApiKey"],
                }
            ],
            # dev's generated setting would be seeded, which a vault elsewhere refuses.
            generatedSecrets=None,
        ),
    ),
    "subnet-in-another-subscription": (
        "dev",
        stack_config(
            network={
                "existingSubnetId": SUBNET_IN_OTHER_SUBSCRIPTION,
                "addressSpace": None,
                "nodeSubnetPrefix": None,
            }
        ),
    ),
}
# The role each grant of the dev, prod and rich stacks gives, by resource name.
EXPECTED_ROLES = {
    "cluster-controlplane-managed-identity-operator-on-kubelet-identity": (
        roles.MANAGED_IDENTITY_OPERATOR
    ),
    "cluster-controlplane-network-contributor-on-node-subnet": roles.NETWORK_CONTRIBUTOR,
    DEPLOYER_SECRETS_OFFICER: roles.KEY_VAULT_SECRETS_OFFICER,
    DEPLOYER_CLUSTER_ADMIN: roles.AKS_RBAC_CLUSTER_ADMIN,
    "registry-kubelet-acrpull": roles.ACR_PULL,
    "kubernetes-admin-group-6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b-aks-rbac-cluster-admin": (
        roles.AKS_RBAC_CLUSTER_ADMIN
    ),
    "kubernetes-kubelet-virtual-machine-contributor-on-node-resource-group": (
        roles.VIRTUAL_MACHINE_CONTRIBUTOR
    ),
    "svc-my-great-service-key-vault-secrets-user-on-secret-identity--secret": (
        roles.KEY_VAULT_SECRETS_USER
    ),
    "svc-orders-key-vault-secrets-user-on-secret-orders--dbpassword": (
        roles.KEY_VAULT_SECRETS_USER
    ),
    "svc-moving-key-vault-secrets-user-on-secret-identity--secret": (roles.KEY_VAULT_SECRETS_USER),
    "svc-moving-kubelet-managed-identity-operator": roles.MANAGED_IDENTITY_OPERATOR,
    "svc-legacy-key-vault-secrets-user-on-secret-identity--secret": (roles.KEY_VAULT_SECRETS_USER),
    "svc-legacy-kubelet-managed-identity-operator": roles.MANAGED_IDENTITY_OPERATOR,
    **{
        f"team-{team}-azure-kubernetes-service-rbac-writer-on-namespace-{namespace}": (
            roles.AKS_RBAC_WRITER
        )
        for team, namespace in (
            ("payments", "payments"),
            ("payments", "payments-jobs"),
            ("search", "search"),
        )
    },
    **{
        f"team-payments-role-based-access-control-administrator-on-secret-{secret}": (
            roles.RBAC_ADMINISTRATOR
        )
        for secret in ("payments--apikey", "partner--token")
    },
}


# The richest stack's azureAccess: each ARM grant, by the name the program gives it.
EXPECTED_ROLES |= {
    f"svc-{service['name']}-{access_catalogue.BY_NAME[access['role']].role.slug}-on-"
    f"{azure_access.grant_target(access_catalogue.parse_resource_id(access['resource']))}": (
        access_catalogue.BY_NAME[access["role"]].role
    )
    for service in RICH_CONFIG["secretless-aks:services"]
    for access in service.get("azureAccess", ())
    if not access_catalogue.BY_NAME[access["role"]].is_cosmos
}


@pytest.fixture(scope="module", params=list(CONFIGURATIONS))
def recorded(request: pytest.FixtureRequest) -> tuple[RecordedGraph, RecordedGraph]:
    """A configuration as `pulumi up` declares it, and as `pulumi preview` shows it."""
    stack, config = CONFIGURATIONS[request.param]
    return run_program(stack, config=config), run_program(stack, config=config, preview=True)


def definitions(graph: RecordedGraph) -> dict[str, object]:
    """Each role assignment's roleDefinitionId, by URN."""
    return {a.urn: a.inputs["roleDefinitionId"] for a in graph.by_type(ROLE_ASSIGNMENT)}


def test_a_preview_shows_the_role_definition_of_every_grant_as_deployed(
    recorded: tuple[RecordedGraph, RecordedGraph],
) -> None:
    # A reviewer, and the policy pack, see which role a new grant gives before it is made.
    deployed, previewed = recorded
    assert definitions(previewed)
    assert definitions(previewed) == definitions(deployed)


def test_a_deployment_names_each_role_in_its_scopes_own_subscription(
    recorded: tuple[RecordedGraph, RecordedGraph],
) -> None:
    # What the program named when it read the subscription off the scope, before the
    # subscription was given explicitly: a deployment's values are unchanged.
    deployed, _ = recorded
    for assignment in deployed.by_type(ROLE_ASSIGNMENT):
        inputs = assignment.inputs
        role = ROLES_BY_GUID[inputs["roleDefinitionId"].rsplit("/", 1)[-1]]
        subscription = roles.subscription_of(inputs["scope"])
        assert inputs["roleDefinitionId"] == roles.role_definition_id(subscription, role), (
            assignment.urn
        )


@pytest.mark.parametrize("stack", ["dev", "prod", "rich"])
def test_a_preview_of_a_stack_names_each_expected_role_in_the_deployments_subscription(
    stack: str,
) -> None:
    # ... but for the kubelet's AcrPull, named where bootstrap's registry is.
    registry_subscription = roles.subscription_of(CI_REGISTRY_STAND_IN["id"])
    previewed = run_program(stack, config=CONFIGURATIONS[stack][1], preview=True)
    assignments = previewed.by_type(ROLE_ASSIGNMENT)
    assert assignments
    for assignment in assignments:
        subscription = (
            registry_subscription
            if assignment.name == "registry-kubelet-acrpull"
            else MOCK_SUBSCRIPTION_ID
        )
        expected = roles.role_definition_id(subscription, EXPECTED_ROLES[assignment.name])
        assert assignment.inputs["roleDefinitionId"] == expected, assignment.urn


@pytest.mark.parametrize("preview", [False, True], ids=["deployed", "previewed"])
def test_grants_on_a_vault_in_another_subscription_name_that_subscriptions_roles(
    preview: bool,
) -> None:
    stack, config = CONFIGURATIONS["vault-in-another-subscription"]
    graph = run_program(stack, config=config, preview=preview)
    named = {a.name: a.inputs for a in graph.by_type(ROLE_ASSIGNMENT)}
    on_the_vault = {
        "svc-orders-key-vault-secrets-user-on-secret-orders--dbpassword": (
            roles.KEY_VAULT_SECRETS_USER,
            f"{VAULT_IN_OTHER_SUBSCRIPTION}/secrets/Orders--DbPassword",
        ),
        "svc-payments-key-vault-secrets-officer-on-vault": (
            roles.KEY_VAULT_SECRETS_OFFICER,
            VAULT_IN_OTHER_SUBSCRIPTION,
        ),
        "svc-legacy-key-vault-secrets-user-on-secret-identity--secret": (
            roles.KEY_VAULT_SECRETS_USER,
            f"{VAULT_IN_OTHER_SUBSCRIPTION}/secrets/Identity--Secret",
        ),
        "team-search-role-based-access-control-administrator-on-secret-search--apikey": (
            roles.RBAC_ADMINISTRATOR,
            f"{VAULT_IN_OTHER_SUBSCRIPTION}/secrets/Search--ApiKey",
        ),
    }
    for name, (role, scope) in on_the_vault.items():
        assert named[name]["roleDefinitionId"] == roles.role_definition_id(OTHER_SUBSCRIPTION, role)
        # Under the mocks a preview's read leaves the vault's id unknown (the engine knows it).
        assert named[name]["scope"] == (UNKNOWN if preview else scope)
    # Everything else lives in the deployment's subscription, pod identity's grants included.
    assert named["svc-legacy-kubelet-managed-identity-operator"]["roleDefinitionId"] == (
        roles.role_definition_id(MOCK_SUBSCRIPTION_ID, roles.MANAGED_IDENTITY_OPERATOR)
    )
    for name in set(named) - set(on_the_vault) - {"registry-kubelet-acrpull"}:
        assert f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/" in named[name]["roleDefinitionId"], name


@pytest.mark.parametrize("preview", [False, True], ids=["deployed", "previewed"])
def test_network_contributor_on_a_subnet_in_another_subscription_names_that_subscriptions_role(
    preview: bool,
) -> None:
    stack, config = CONFIGURATIONS["subnet-in-another-subscription"]
    graph = run_program(stack, config=config, preview=preview)
    on_subnet = graph.named("cluster-controlplane-network-contributor-on-node-subnet").inputs
    assert on_subnet["scope"] == SUBNET_IN_OTHER_SUBSCRIPTION
    assert on_subnet["roleDefinitionId"] == roles.role_definition_id(
        OTHER_SUBSCRIPTION, roles.NETWORK_CONTRIBUTOR
    )
    on_kubelet = graph.named("cluster-controlplane-managed-identity-operator-on-kubelet-identity")
    assert on_kubelet.inputs["roleDefinitionId"] == roles.role_definition_id(
        MOCK_SUBSCRIPTION_ID, roles.MANAGED_IDENTITY_OPERATOR
    )


class _VaultInAnotherSubscription(AzureMocks):
    """Azure answering with a created vault's id in a subscription the program did not name."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, state = super().new_resource(args)
        if args.typ == "azure-native:keyvault:Vault" and resource_id:
            resource_id = resource_id.replace(MOCK_SUBSCRIPTION_ID, OTHER_SUBSCRIPTION)
            state["id"] = resource_id
        return resource_id, state


def test_a_scope_outside_the_subscription_given_for_it_is_refused() -> None:
    # The role definition would name a role of another subscription than the scope's.
    with pytest.raises(ProgramFailedError) as failure:
        run_program(
            "dev",
            config=stack_config(generatedSecrets=None),
            mocks=_VaultInAnotherSubscription(preview=False),
        )
    assert (
        f"role assignment scope '/subscriptions/{OTHER_SUBSCRIPTION}/resourceGroups/"
        "rg-secretless-dev/providers/Microsoft.KeyVault/vaults/kv-dev-i3q751py14353ar66/secrets/"
        "Identity--Secret' is not "
        f"in subscription {MOCK_SUBSCRIPTION_ID}, where its role definition is named; pass the "
        "scope's own subscription"
    ) in str(failure.value)


def test_the_policy_packs_catalogue_is_the_roles_the_platform_grants() -> None:
    from policy.secretless_policy.role_assignments import CATALOGUE

    assert {role.guid for role in roles.PLATFORM_GRANTS} == CATALOGUE
