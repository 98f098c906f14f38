"""Secretless access beyond Key Vault (`services[].azureAccess`): the grants a service gets, on
exactly the resources it names, from the access catalogue; what is refused, in so many words;
and the catalogue as bootstrap's conditions and the policy pack see it."""

from __future__ import annotations

from typing import Any

import pytest

from secretless_aks.components import access_catalogue, roles
from secretless_aks.components.config import ConfigError
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    ProgramFailedError,
    RecordedGraph,
    run_program,
)
from secretless_aks.offline.mocks import MOCK_SUBSCRIPTION_ID
from tests.graph_queries import ROLE_ASSIGNMENT, grant
from tests.stack_configs import stack_config

GROUP = f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-orders-data"
ACCOUNT = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/stordersdata"
CONTAINER = f"{ACCOUNT}/blobServices/default/containers/invoices"
SERVICE_BUS_QUEUE = f"{GROUP}/providers/Microsoft.ServiceBus/namespaces/sb-orders/queues/incoming"
EVENT_HUB = f"{GROUP}/providers/Microsoft.EventHub/namespaces/eh-orders/eventhubs/telemetry"
APP_CONFIGURATION = f"{GROUP}/providers/Microsoft.AppConfiguration/configurationStores/appcs-orders"
COSMOS = f"{GROUP}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-orders"
OTHER_SUBSCRIPTION = "22222222-3333-4444-5555-666666666666"
COSMOS_ASSIGNMENT = "azure-native:cosmosdb:SqlResourceSqlRoleAssignment"

ACCESS = [
    {"resource": CONTAINER, "role": "Storage Blob Data Reader"},
    {"resource": SERVICE_BUS_QUEUE, "role": "Azure Service Bus Data Receiver"},
    {"resource": EVENT_HUB, "role": "Azure Event Hubs Data Sender"},
    {"resource": APP_CONFIGURATION, "role": "App Configuration Data Reader"},
    {"resource": COSMOS, "role": "Cosmos DB Built-in Data Reader"},
]
ARM_GRANTS = {
    CONTAINER: roles.STORAGE_BLOB_DATA_READER,
    SERVICE_BUS_QUEUE: roles.SERVICE_BUS_DATA_RECEIVER,
    EVENT_HUB: roles.EVENT_HUBS_DATA_SENDER,
    APP_CONFIGURATION: roles.APP_CONFIGURATION_DATA_READER,
}


def with_access(*access: dict[str, str], other: bool = True) -> dict[str, Any]:
    """The dev stack with `orders` granted `access`, and (`other`) a service granted nothing."""
    services = [
        {
            "name": "orders",
            "image": "ghcr.io/contoso/orders:1.0.0",
            "secretScope": ["Identity--Secret"],
            "azureAccess": list(access),
        }
    ]
    if other:
        services.append({"name": "billing", "secretScope": ["Identity--Secret"]})
    return stack_config(services=services)


@pytest.fixture(scope="module")
def scenario() -> RecordedGraph:
    return run_program("dev", config=with_access(*ACCESS))


def principal(graph: RecordedGraph, service: str) -> str:
    return graph.named(f"svc-{service}-identity").outputs["principalId"]


def test_each_arm_grant_is_one_assignment_on_exactly_its_resource(scenario: RecordedGraph) -> None:
    orders = principal(scenario, "orders")
    granted = {
        assignment.inputs["scope"]: assignment
        for assignment in scenario.by_type(ROLE_ASSIGNMENT)
        if assignment.inputs["principalId"] == orders
        and grant(assignment).role != roles.KEY_VAULT_SECRETS_USER
    }
    assert set(granted) == set(ARM_GRANTS)
    for scope, role in ARM_GRANTS.items():
        assignment = granted[scope]
        assert assignment.inputs["roleDefinitionId"] == roles.role_definition_id(
            MOCK_SUBSCRIPTION_ID, role
        )
        assert assignment.inputs["principalType"] == "ServicePrincipal"
        assert assignment.inputs["roleAssignmentName"] == roles.assignment_name(scope, role, orders)


def test_cosmos_gets_its_own_role_assignment_with_the_built_in_data_reader(
    scenario: RecordedGraph,
) -> None:
    (assignment,) = scenario.by_type(COSMOS_ASSIGNMENT)
    inputs = assignment.inputs
    assert inputs["accountName"] == "cosmos-orders"
    assert inputs["resourceGroupName"] == "rg-orders-data"
    assert inputs["roleDefinitionId"] == (
        f"{COSMOS}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000001"
    )
    assert inputs["scope"] == COSMOS
    assert inputs["principalId"] == principal(scenario, "orders")
    assert inputs["roleAssignmentId"] == roles.assignment_name(
        COSMOS, roles.COSMOS_DB_DATA_READER, principal(scenario, "orders")
    )


def test_no_other_identity_gets_any_of_it(scenario: RecordedGraph) -> None:
    granted = set(ARM_GRANTS) | {COSMOS}
    orders = principal(scenario, "orders")
    for resource in [*scenario.by_type(ROLE_ASSIGNMENT), *scenario.by_type(COSMOS_ASSIGNMENT)]:
        if resource.inputs["scope"] in granted:
            assert resource.inputs["principalId"] == orders, resource.urn


def refused(*access: dict[str, str]) -> str:
    with pytest.raises(ProgramFailedError) as failure:
        run_program("dev", config=with_access(*access, other=False))
    assert isinstance(failure.value.error, ConfigError), failure.value.error
    return str(failure.value.error).splitlines()[-1].strip()


ROLE_KEY = "- secretless-aks:services[0].azureAccess[0].role: "


@pytest.mark.parametrize(
    ("access", "message"),
    [
        (
            {"resource": CONTAINER, "role": "Storage Blob Data Writer"},
            ROLE_KEY + "'Storage Blob Data Writer' is not in the access catalogue; for this "
            "resource: Storage Blob Data Reader, Storage Blob Data Contributor",
        ),
        (
            {"resource": CONTAINER, "role": "Storage Blob Data Owner"},
            ROLE_KEY + "Storage Blob Data Owner is an Owner-class data role: it can also change "
            "who may read, or delete everything the resource holds; grant the narrowest role the "
            "service needs: Storage Blob Data Reader, Storage Blob Data Contributor",
        ),
        (
            {"resource": SERVICE_BUS_QUEUE, "role": "Azure Event Hubs Data Sender"},
            ROLE_KEY + "Azure Event Hubs Data Sender is not granted on a "
            "microsoft.servicebus/namespaces/queues; for this resource: Azure Service Bus Data "
            "Receiver, Azure Service Bus Data Sender",
        ),
        (
            {
                "resource": f"{GROUP}/providers/Microsoft.Sql/servers/sql-orders/databases/orders",
                "role": "Storage Blob Data Reader",
            },
            ROLE_KEY + access_catalogue.REFUSED["microsoft.sql/servers"],
        ),
        (
            {
                "resource": f"{GROUP}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg",
                "role": "Storage Blob Data Reader",
            },
            ROLE_KEY + access_catalogue.REFUSED["microsoft.dbforpostgresql/flexibleservers"],
        ),
        (
            {
                "resource": f"{GROUP}/providers/Microsoft.Cache/redis/redis-orders",
                "role": "Storage Blob Data Reader",
            },
            ROLE_KEY + access_catalogue.REFUSED["microsoft.cache/redis"],
        ),
        (
            {"resource": "rg-orders-data/stordersdata", "role": "Storage Blob Data Reader"},
            "- secretless-aks:services[0].azureAccess[0].resource: expected an Azure resource "
            "id, /subscriptions/<subscription id>/resourceGroups/<group>/providers/<Namespace>/"
            "<type>/<name>[/<child type>/<child name>]",
        ),
    ],
)
def test_what_is_refused_says_why_and_what_to_do(access: dict[str, str], message: str) -> None:
    assert refused(access) == message


def test_the_refusals_name_the_secretless_path() -> None:
    assert (
        "CREATE USER [<identity name>] FROM EXTERNAL PROVIDER"
        in (access_catalogue.REFUSED["microsoft.sql/servers"])
    )
    assert (
        "pgaadauth_create_principal"
        in access_catalogue.REFUSED["microsoft.dbforpostgresql/servers"]
    )
    assert "being retired" in access_catalogue.REFUSED["microsoft.cache/redis"]


def test_a_resource_in_another_subscription_is_refused_with_the_owners_command() -> None:
    elsewhere = CONTAINER.replace(MOCK_SUBSCRIPTION_ID, OTHER_SUBSCRIPTION)
    with pytest.raises(ProgramFailedError) as failure:
        run_program(
            "dev",
            config=with_access({"resource": elsewhere, "role": "Storage Blob Data Reader"}),
        )
    assert str(failure.value.error) == (
        f"secretless-aks:services[0].azureAccess[0].resource: {elsewhere} is in subscription "
        f"{OTHER_SUBSCRIPTION}, not the environment's ({MOCK_SUBSCRIPTION_ID}), where alone its "
        "deploy identity may grant. Leave it out here; an Owner of that subscription grants it "
        "once: az role assignment create --assignee-object-id <the service's principalId> "
        "--assignee-principal-type ServicePrincipal --role "
        f"{roles.STORAGE_BLOB_DATA_READER.guid} --scope {elsewhere}"
    )


def test_the_catalogue_has_no_owner_class_role_and_every_role_on_some_resource() -> None:
    names = [entry.role.name for entry in access_catalogue.CATALOGUE]
    assert len(names) == len(set(names))
    for name in names:
        assert "Owner" not in name and "Administrator" not in name, name
    for entry in access_catalogue.CATALOGUE:
        assert entry.on, entry.role.name
    assert {role.name for role in access_catalogue.ARM_DATA_ROLES} == {
        "Storage Blob Data Reader",
        "Storage Blob Data Contributor",
        "Storage Queue Data Contributor",
        "Storage Table Data Contributor",
        "Azure Service Bus Data Receiver",
        "Azure Service Bus Data Sender",
        "Azure Event Hubs Data Receiver",
        "Azure Event Hubs Data Sender",
        "App Configuration Data Reader",
    }


def test_the_policy_packs_copy_of_the_catalogue_is_generated_from_it() -> None:
    generated = PROJECT_DIR / "policy" / "secretless_policy" / "access_catalogue.py"
    assert generated.read_text() == access_catalogue.policy_module(), (
        "regenerate it: python -c 'from secretless_aks.components import access_catalogue as "
        'c; open("policy/secretless_policy/access_catalogue.py", "w").write(c.policy_module())\''
    )


# Probes only: the Owner-class data roles the catalogue refuses by name.
OWNER_CLASS_GUIDS = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Azure Service Bus Data Owner": "090c5cfd-751d-490a-894a-3ce6f1109419",
    "Azure Event Hubs Data Owner": "f526a384-b230-433a-b45c-95f59c4a2dec",
    "App Configuration Data Owner": "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b",
}
A_SERVICE = "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
DEVELOPERS = "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"


def test_bootstraps_conditions_and_the_policy_pack_follow_the_catalogue_role_by_role() -> None:
    from policy.secretless_policy import conditions as abac
    from policy.secretless_policy.access_catalogue import ARM_DATA_ROLES, COSMOS_DATA_ROLES
    from policy.secretless_policy.role_assignments import CATALOGUE

    deploy = roles.deploy_identity_condition({roles.DEVELOPERS: (DEVELOPERS,)})
    team = roles.rbac_administrator_condition(roles.TEAM_DEPLOY_DELEGATION)
    assert set(ARM_DATA_ROLES) == {role.guid for role in access_catalogue.ARM_DATA_ROLES}
    for entry in access_catalogue.CATALOGUE:
        guid = entry.role.guid
        if entry.is_cosmos:
            # Not an ARM role: no condition names it, and the pack checks it by itself.
            assert guid in COSMOS_DATA_ROLES
            assert guid not in abac.role_guids(deploy) | abac.role_guids(team)
            continue
        assert ARM_DATA_ROLES[guid] == entry.on, entry.role.name
        assert guid in CATALOGUE, entry.role.name
        for condition in (deploy, team):
            for action in ("write", "delete"):
                to_service = abac.Request(action, guid, A_SERVICE, "ServicePrincipal")
                assert abac.allows(condition, to_service), entry.role.name
            assert not abac.allows(condition, abac.Request("write", guid, A_SERVICE, "User"))
        # The platform's developers group (bootstrap's) may hold what the services hold.
        assert abac.allows(deploy, abac.Request("write", guid, DEVELOPERS, "Group"))
        assert not abac.allows(team, abac.Request("write", guid, DEVELOPERS, "Group"))
    for name, guid in OWNER_CLASS_GUIDS.items():
        assert name in access_catalogue.OWNER_CLASS
        for condition in (deploy, team):
            request = abac.Request("write", guid, A_SERVICE, "ServicePrincipal")
            assert not abac.allows(condition, request), name
        assert guid not in ARM_DATA_ROLES and guid not in CATALOGUE


def test_the_offline_plan_signs_in_to_arm_subscription_id_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from secretless_aks.offline import plan
    from secretless_aks.offline.mocks import AzureMocks
    from secretless_aks.offline.plan_values import with_mocks_named

    theirs = CONTAINER.replace(MOCK_SUBSCRIPTION_ID, OTHER_SUBSCRIPTION)
    config = with_access({"resource": theirs, "role": "Storage Blob Data Reader"})
    # Unset, the plan's invented subscription is no real one, and the error names it so.
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID", raising=False)
    with pytest.raises(ProgramFailedError) as failure:
        run_program(
            "dev", config=config, mocks=AzureMocks(preview=True, signed_in=plan.signed_in())
        )
    assert "not the environment's (<mocked subscription id>)" in with_mocks_named(
        str(failure.value.error)
    )
    # Set, as CI sets it for azure-native, the stack's own resources are planned as its own.
    monkeypatch.setenv("ARM_SUBSCRIPTION_ID", OTHER_SUBSCRIPTION)
    graph = run_program(
        "dev", config=config, mocks=AzureMocks(preview=True, signed_in=plan.signed_in())
    )
    assert [a for a in graph.by_type(ROLE_ASSIGNMENT) if a.inputs["scope"] == theirs]


def test_the_deployment_tells_the_app_where_its_store_and_container_are(
    scenario: RecordedGraph,
) -> None:
    pod = scenario.named("svc-orders-deployment").inputs["spec"]["template"]["spec"]
    env = {variable["name"]: variable["value"] for variable in pod["containers"][0]["env"]}
    assert env["APP_CONFIGURATION_ENDPOINT"] == "https://appcs-orders.azconfig.io"
    # Its settings there carry the stack's name as their label.
    assert env["APP_CONFIGURATION_LABEL"] == "dev"
    assert env["BLOB_CONTAINER_URL"] == "https://stordersdata.blob.core.windows.net/invoices"


def test_a_service_granted_two_stores_is_refused() -> None:
    second = APP_CONFIGURATION.replace("appcs-orders", "appcs-shared")
    assert refused(
        {"resource": APP_CONFIGURATION, "role": "App Configuration Data Reader"},
        {"resource": second, "role": "App Configuration Data Reader"},
    ) == (
        "- secretless-aks:services[0].azureAccess: grants more than one App Configuration "
        "store, and the Deployment names one (APP_CONFIGURATION_ENDPOINT): keep one, or give "
        "the other to a service of its own"
    )
