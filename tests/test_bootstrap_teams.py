"""Application teams as tenants of the bootstrap (bootstrap:appTeams): per team and
environment a deploy identity federated with the team's own repository, a resource group, a
state container and a key, and no role on anything of the platform's or another team's."""

from __future__ import annotations

import pytest

from secretless_aks import published_contract
from secretless_aks.components import roles
from secretless_aks.offline.harness import RecordedGraph, RecordedResource, run_program
from secretless_bootstrap import github, key_roles, naming
from tests.graph_queries import ROLE_ASSIGNMENT, grant
from tests.test_bootstrap import BOOTSTRAP, ENVIRONMENTS, EXAMPLE, MANAGEMENT, STACKS

TEAMS = EXAMPLE["bootstrap:appTeams"]
# (team, GitHub environment) for every environment each team lists.
DEPLOYMENTS = [(team, environment) for team in TEAMS for environment in team["environments"]]
DEPLOY_KEY_ROLE = naming.custom_role(MANAGEMENT, key_roles.DEPLOY.purpose)
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"


@pytest.fixture(scope="module")
def example() -> RecordedGraph:
    return run_program("example", project_dir=BOOTSTRAP)


def team_stack(team: dict, environment: str) -> str:
    return naming.team_stack(team["name"], STACKS[environment])


def deploy_identity(graph: RecordedGraph, team: dict, environment: str) -> RecordedResource:
    return graph.named(f"deploy-{team_stack(team, environment)}-identity")


def test_the_example_declares_two_teams_one_of_them_in_both_environments() -> None:
    assert [team["name"] for team in TEAMS] == ["payments", "search"]
    assert [len(team["environments"]) for team in TEAMS] == [2, 1]


@pytest.mark.parametrize(
    ("team", "environment"), DEPLOYMENTS, ids=[f"{t['name']}-{e}" for t, e in DEPLOYMENTS]
)
def test_each_team_deploys_as_its_own_identity_federated_with_its_own_repository(
    example: RecordedGraph, team: dict, environment: str
) -> None:
    identity = deploy_identity(example, team, environment)
    assert identity.inputs["resourceName"] == (
        f"id-secretless-{STACKS[environment]}-team-{team['name']}-deploy"
    )
    (credential,) = [c for c in example.by_type(CREDENTIAL) if c.parent == identity.parent]
    repository = github.Repository.parse(
        team["githubRepository"],
        team["githubOwnerId"],
        team["githubRepositoryId"],
        team["githubSubjectFormat"],
    )
    # The team repository's environment of that name, in the subject form it uses.
    assert credential.inputs["subject"] == repository.subject(f"environment:{environment}")
    assert team["githubRepository"].split("/")[1] in credential.inputs["subject"]
    assert credential.inputs["issuer"] == github.ISSUER


@pytest.mark.parametrize(
    ("team", "environment"), DEPLOYMENTS, ids=[f"{t['name']}-{e}" for t, e in DEPLOYMENTS]
)
def test_each_team_has_its_own_group_container_and_key_and_roles_on_those_only(
    example: RecordedGraph, team: dict, environment: str
) -> None:
    stack = team_stack(team, environment)
    settings = ENVIRONMENTS[environment]
    group = example.named(f"{stack}-group")
    assert group.inputs["resourceGroupName"] == f"rg-team-{team['name']}-{settings['stack']}"
    assert group.outputs["id"].startswith(f"/subscriptions/{settings['subscriptionId']}/")
    assert group.protect is bool(settings.get("protected"))
    container = example.named(f"state-container-{stack}")
    key = example.named(f"state-key-{stack}")
    assert container.inputs["containerName"] == f"state-{stack}"
    assert key.inputs["keyName"] == f"stack-{stack}"
    principal = deploy_identity(example, team, environment).outputs["principalId"]
    held = {
        (grant(a).role.name, grant(a).scope)
        for a in example.by_type(ROLE_ASSIGNMENT)
        if a.inputs["principalId"] == principal
    }
    contract = example.named(f"state-contract-{settings['stack']}")
    assert held == {
        (roles.CONTRIBUTOR.name, group.outputs["id"]),
        (roles.RBAC_ADMINISTRATOR.name, group.outputs["id"]),
        (roles.STORAGE_BLOB_DATA_CONTRIBUTOR.name, container.outputs["id"]),
        (f"custom:{DEPLOY_KEY_ROLE[1]}", key.outputs["id"]),
        # Read, and no more, on its environment's published contract.
        (roles.STORAGE_BLOB_DATA_READER.name, contract.outputs["id"]),
    }


def test_no_team_identity_holds_anything_of_the_platforms_or_another_teams(
    example: RecordedGraph,
) -> None:
    # Every grant's scope, walked: a team identity's scopes are its own group, container and
    # key, on which no other CI identity holds a role, and its environment's published
    # contract, which it only reads and which only the platform's deploy identity writes.
    holders: dict[str, set[str]] = {}
    for assignment in example.by_type(ROLE_ASSIGNMENT):
        scope = assignment.inputs["scope"].lower()
        holders.setdefault(scope, set()).add(assignment.inputs["principalId"])
    identities = {
        identity.outputs["principalId"]
        for identity in example.by_type("azure-native:managedidentity:UserAssignedIdentity")
    }
    for team, environment in DEPLOYMENTS:
        principal = deploy_identity(example, team, environment).outputs["principalId"]
        stack = team_stack(team, environment)
        own = (
            f"/containers/state-{stack}",
            f"/keys/stack-{stack}",
            f"/resourcegroups/rg-team-{team['name']}-{STACKS[environment]}",
        )
        scopes = {scope for scope, held in holders.items() if principal in held}
        contract = f"/containers/contract-{STACKS[environment]}"
        (shared,) = [scope for scope in scopes if scope.endswith(contract)]
        platform_deployer = example.named(f"deploy-{environment}-identity")
        writers = {
            a.inputs["principalId"]
            for a in example.by_type(ROLE_ASSIGNMENT)
            if a.inputs["scope"].lower() == shared
            and grant(a).role == roles.STORAGE_BLOB_DATA_CONTRIBUTOR
        }
        assert writers == {platform_deployer.outputs["principalId"]}
        scopes.remove(shared)
        assert len(scopes) == len(own)
        for scope in scopes:
            assert scope.endswith(own), scope
            # Whoever runs the bootstrap creates the stacks in every container, as for the
            # platform's; no other identity of the bootstrap holds anything there.
            assert holders[scope] & identities == {principal}, scope


def test_a_team_deploy_identity_may_grant_only_its_vaults_data_roles_to_service_principals(
    example: RecordedGraph,
) -> None:
    administrators = [
        a
        for a in example.by_type(ROLE_ASSIGNMENT)
        if grant(a).role == roles.RBAC_ADMINISTRATOR
        and "/resourceGroups/rg-team-" in a.inputs["scope"]
    ]
    assert len(administrators) == len(DEPLOYMENTS)
    for administrator in administrators:
        assert administrator.inputs["condition"] == roles.rbac_administrator_condition(
            roles.TEAM_DEPLOY_DELEGATION
        )
    assert set(roles.TEAM_DEPLOY_DELEGATION.roles) == {
        roles.KEY_VAULT_SECRETS_USER,
        roles.KEY_VAULT_SECRETS_OFFICER,
        # app.azureAccess on the team's own resources: the access catalogue's ARM roles.
        *roles.ARM_DATA_ROLES,
    }
    assert roles.TEAM_DEPLOY_DELEGATION.principal_types == (roles.SERVICE_PRINCIPAL,)


def test_the_teams_variables_are_what_their_repositories_ci_needs(example: RecordedGraph) -> None:
    variables = example.outputs["teamVariables"]
    assert {name: sorted(envs) for name, envs in variables.items()} == {
        "payments": ["dev", "production"],
        "search": ["dev"],
    }
    for team, environment in DEPLOYMENTS:
        stack = team_stack(team, environment)
        these = variables[team["name"]][environment]
        identity = deploy_identity(example, team, environment)
        assert these["AZURE_CLIENT_ID"] == identity.outputs["clientId"]
        assert these["DEPLOYER_OBJECT_ID"] == identity.outputs["principalId"]
        assert these["AZURE_SUBSCRIPTION_ID"] == ENVIRONMENTS[environment]["subscriptionId"]
        assert these["PULUMI_BACKEND_URL"].startswith(f"azblob://state-{stack}?storage_account=")
        assert these["PULUMI_SECRETS_PROVIDER"].startswith("azurekeyvault://")
        assert f"/keys/stack-{stack}/" in these["PULUMI_SECRETS_PROVIDER"]
        assert these["RESOURCE_GROUP"] == f"rg-team-{team['name']}-{STACKS[environment]}"
        # Where the team's project reads the platform (platformContract): the very blob the
        # platform's CI publishes to in that environment, and a URL the template accepts.
        published = example.outputs["githubVariables"][environment]["PLATFORM_CONTRACT_URL"]
        assert these["PLATFORM_CONTRACT_URL"] == published
        assert published.endswith(f"/contract-{STACKS[environment]}/platform-contract.json")
        assert published_contract.url_problem(published) is None
