"""The developer loop's grants (`secretless-aks:developers`): on an unprotected stack the
group holds what the services hold, each grant once, and nothing more; a protected stack
refuses it."""

from __future__ import annotations

import pytest

from secretless_aks.components import roles
from secretless_aks.components.config import ConfigError
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import ProgramFailedError, RecordedGraph, run_program
from secretless_aks.offline.plan import policy_verdict
from tests.graph_queries import ROLE_ASSIGNMENT
from tests.stack_configs import RICH_CONFIG, stack_config

DEVELOPERS = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
COSMOS_ASSIGNMENT = "azure-native:cosmosdb:SqlResourceSqlRoleAssignment"
DATA_ROLES = {role.guid for role in roles.ARM_DATA_ROLES} | {roles.KEY_VAULT_SECRETS_USER.guid}


# The richest stack, unprotected, with every catalogue role among its services.
UNPROTECTED_RICH = {
    **RICH_CONFIG,
    "secretless-aks:protect": False,
    "secretless-aks:developers": DEVELOPERS,
}


@pytest.fixture(scope="module")
def rich_with_developers() -> RecordedGraph:
    return run_program("dev", config=UNPROTECTED_RICH)


def held(graph: RecordedGraph, principals: set[str]) -> set[tuple[str, str]]:
    """(scope, role) of every data role `principals` hold: ARM and Cosmos DB's own."""
    arm = {
        (a.inputs["scope"], a.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
        for a in graph.by_type(ROLE_ASSIGNMENT)
        if a.inputs["principalId"] in principals
        and a.inputs["roleDefinitionId"].rsplit("/", 1)[-1] in DATA_ROLES
    }
    cosmos = {
        (a.inputs["scope"], a.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
        for a in graph.by_type(COSMOS_ASSIGNMENT)
        if a.inputs["principalId"] in principals
    }
    return arm | cosmos


def test_the_developers_group_holds_what_the_services_hold_each_once(
    rich_with_developers: RecordedGraph,
) -> None:
    graph = rich_with_developers
    services = {
        identity.outputs["principalId"]
        for identity in graph.by_type("azure-native:managedidentity:UserAssignedIdentity")
        if identity.name.startswith("svc-")
    }
    assert held(graph, {DEVELOPERS}) == held(graph, services)
    mine = [a for a in graph.by_type(ROLE_ASSIGNMENT) if a.inputs["principalId"] == DEVELOPERS]
    assert mine and all(a.inputs["principalType"] == "Group" for a in mine)
    assert len(mine) == len({(a.inputs["scope"], a.inputs["roleDefinitionId"]) for a in mine})
    # Never what a service may write in the vault.
    officer = roles.KEY_VAULT_SECRETS_OFFICER.guid
    assert not [a for a in mine if a.inputs["roleDefinitionId"].endswith(officer)]


def test_the_policy_pack_knows_the_group(rich_with_developers: RecordedGraph) -> None:
    _, violations = policy_verdict(to_json(rich_with_developers), UNPROTECTED_RICH)
    assert [v for v in violations if v.mandatory] == []


def test_a_protected_stack_refuses_developers() -> None:
    with pytest.raises(ProgramFailedError) as failed:
        run_program("prod", config=stack_config("prod", developers=DEVELOPERS))
    assert isinstance(failed.value.error, ConfigError)
    assert str(failed.value.error).splitlines()[1:] == [
        "  - secretless-aks:developers: a protected stack gives developers no data access: set "
        "it on an unprotected stack only (dev), where developers run the services on their own "
        "machines"
    ]


def test_without_developers_no_group_holds_a_data_role(dev: RecordedGraph) -> None:
    assert not [
        a
        for a in dev.by_type(ROLE_ASSIGNMENT)
        if a.inputs.get("principalType") == "Group"
        and a.inputs["roleDefinitionId"].rsplit("/", 1)[-1] in DATA_ROLES
    ]
