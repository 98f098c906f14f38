"""What the platform grants an application team (appTeams): its namespaces, AKS RBAC Writer on
each of them and nowhere broader, and, only with platformVaultSecrets, an RBAC Administrator
on exactly those secrets that may grant nothing but Key Vault Secrets User to service
principals."""

from __future__ import annotations

import pytest

from secretless_aks import contract
from secretless_aks.components import roles
from secretless_aks.offline.harness import RecordedGraph, RecordedResource, run_program
from tests.graph_queries import MANAGED_CLUSTER, ROLE_ASSIGNMENT, grant, grants
from tests.stack_configs import stack_config

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
VAULT = "azure-native:keyvault:Vault"
SECRET = {"secure": "v1:AAAA"}
PAYMENTS_GROUP = "2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40"
SEARCH_GROUP = "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"
TEAMS = [
    {
        "name": "payments",
        "groupObjectId": PAYMENTS_GROUP,
        "namespaces": ["payments", "payments-jobs"],
        # One this stack seeds, one someone else put in the vault.
        "platformVaultSecrets": ["Payments--ApiKey", "Partner--Token"],
    },
    {"name": "search", "groupObjectId": SEARCH_GROUP, "namespaces": ["search"]},
]
AKS_RBAC_ROLES = {
    roles.AKS_RBAC_CLUSTER_ADMIN,
    roles.AKS_RBAC_ADMIN,
    roles.AKS_RBAC_WRITER,
    roles.AKS_RBAC_READER,
    roles.AKS_CLUSTER_USER,
}


@pytest.fixture(scope="module", params=[False, True], ids=["deployed", "previewed"])
def teams(request: pytest.FixtureRequest) -> RecordedGraph:
    """The dev stack with two teams, one of which reads two of the platform vault's secrets."""
    config = stack_config(appTeams=TEAMS, secrets={"Payments": {"ApiKey": SECRET}})
    return run_program("dev", config=config, preview=request.param)


@pytest.fixture(scope="module")
def deployed() -> RecordedGraph:
    return run_program(
        "dev", config=stack_config(appTeams=TEAMS, secrets={"Payments": {"ApiKey": SECRET}})
    )


def to_group(graph: RecordedGraph, group: str) -> list[RecordedResource]:
    return [a for a in graph.by_type(ROLE_ASSIGNMENT) if a.inputs["principalId"] == group]


def test_each_team_gets_aks_rbac_writer_on_each_of_its_namespaces_as_a_group(
    deployed: RecordedGraph,
) -> None:
    cluster_id = deployed.by_type(MANAGED_CLUSTER)[0].outputs["id"]
    for team in TEAMS:
        writers = [
            grant(a)
            for a in to_group(deployed, team["groupObjectId"])
            if grant(a).role == roles.AKS_RBAC_WRITER
        ]
        assert sorted(g.scope for g in writers) == sorted(
            f"{cluster_id}/namespaces/{namespace}" for namespace in team["namespaces"]
        )
        assert {g.principal_type for g in writers} == {"Group"}


def test_no_team_gets_a_kubernetes_role_beyond_its_namespaces(teams: RecordedGraph) -> None:
    # Not on the cluster, its resource group or anything broader: one namespace each.
    for team in TEAMS:
        for assignment in to_group(teams, team["groupObjectId"]):
            given = grant(assignment)
            if given.role in AKS_RBAC_ROLES:
                assert given.role == roles.AKS_RBAC_WRITER, assignment.urn
                assert assignment.property_dependencies["scope"], "scoped under the cluster"
                if not teams.preview:
                    assert "/managedClusters/aks-secretless-dev/namespaces/" in given.scope


def test_the_namespace_grants_wait_for_the_cluster_only(deployed: RecordedGraph) -> None:
    # No wait on the Namespace: the grant propagates to AKS while it is created.
    cluster = deployed.by_type(MANAGED_CLUSTER)[0]
    for team in TEAMS:
        for assignment in to_group(deployed, team["groupObjectId"]):
            if grant(assignment).role == roles.AKS_RBAC_WRITER:
                assert assignment.property_dependencies["scope"] == (cluster.urn,)


def test_rbac_administrator_goes_on_exactly_the_listed_secrets_held_to_secrets_user(
    deployed: RecordedGraph,
) -> None:
    vault = deployed.by_type(VAULT)[0].outputs["id"]
    seeded = deployed.named("keyvault-secret-payments--apikey")
    administrators = [
        a for a in to_group(deployed, PAYMENTS_GROUP) if grant(a).role == roles.RBAC_ADMINISTRATOR
    ]
    assert sorted(grant(a).scope for a in administrators) == [
        f"{vault}/secrets/Partner--Token",
        seeded.outputs["id"],
    ]
    for assignment in administrators:
        assert assignment.inputs["principalType"] == "Group"
        assert assignment.inputs["condition"] == roles.rbac_administrator_condition(
            roles.TEAM_SECRETS_DELEGATION
        )
        assert assignment.inputs["conditionVersion"] == "2.0"
    # The seeded secret's grant waits for the secret.
    (on_seeded,) = [a for a in administrators if grant(a).scope == seeded.outputs["id"]]
    assert seeded.urn in on_seeded.property_dependencies["scope"]


def test_a_team_without_platform_vault_secrets_gets_no_right_on_the_vault(
    teams: RecordedGraph,
) -> None:
    assert {grant(a).role for a in to_group(teams, SEARCH_GROUP)} == {roles.AKS_RBAC_WRITER}


def test_without_teams_nothing_is_granted_to_a_team_or_delegated(dev: RecordedGraph) -> None:
    assert roles.AKS_RBAC_WRITER not in {g.role for g in grants(dev)}
    assert roles.RBAC_ADMINISTRATOR not in {g.role for g in grants(dev)}
    assert dev.outputs["appTeams"] == {}


def test_each_team_namespace_is_restricted_and_denies_ingress(teams: RecordedGraph) -> None:
    for team in TEAMS:
        for namespace in team["namespaces"]:
            created = teams.named(f"team-{team['name']}-namespace-{namespace}")
            assert created.type == NAMESPACE
            metadata = created.inputs["metadata"]
            assert metadata["name"] == namespace
            for mode in ("enforce", "audit", "warn"):
                assert metadata["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"
            policy = teams.named(f"team-{team['name']}-namespace-{namespace}-deny-ingress")
            assert policy.type == NETWORK_POLICY
            assert policy.inputs["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
            assert created.urn in policy.property_dependencies["metadata"]


def test_team_objects_belong_to_the_team_and_use_the_clusters_provider(
    teams: RecordedGraph,
) -> None:
    provider = teams.named("kubernetes-provider")
    for team in TEAMS:
        component = teams.named(f"team-{team['name']}")
        assert component.type == "secretless-aks:team:AppTeam"
        children = [r for r in teams.resources if r.parent == component.urn]
        assert children
        for child in children:
            assert child.name.startswith(f"team-{team['name']}-"), child.urn
            if child.type.startswith("kubernetes:"):
                assert child.provider == provider.urn, child.urn


def test_the_contract_lists_each_teams_namespaces(teams: RecordedGraph) -> None:
    assert teams.outputs["appTeams"] == {team["name"]: team["namespaces"] for team in TEAMS}
    assert teams.outputs["contractVersion"] == 1
    assert teams.outputs["contractMinorVersion"] == contract.CONTRACT_MINOR_VERSION


PAYMENTS_CI = "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


def test_the_teams_ci_identity_gets_what_its_group_gets_and_no_more() -> None:
    teams = [{**TEAMS[0], "deployerObjectId": PAYMENTS_CI}, TEAMS[1]]
    graph = run_program(
        "dev", config=stack_config(appTeams=teams, secrets={"Payments": {"ApiKey": SECRET}})
    )
    held = {
        name: grant(a)
        for a in graph.by_type(ROLE_ASSIGNMENT)
        if (name := a.name).startswith("team-")
    }
    group = {(g.role, g.scope) for g in held.values() if g.principal_id == PAYMENTS_GROUP}
    ci = {(g.role, g.scope) for g in held.values() if g.principal_id == PAYMENTS_CI}
    assert ci == group and len(ci) == 4  # two namespaces, two secrets
    for name, given in held.items():
        if given.principal_id == PAYMENTS_CI:
            # An identity bootstrap made: ARM looks its type up.
            assert given.principal_type is None
            assert name.startswith("team-payments-deployer-"), name
    delegations = [
        a
        for a in graph.by_type(ROLE_ASSIGNMENT)
        if a.inputs["principalId"] == PAYMENTS_CI and grant(a).role == roles.RBAC_ADMINISTRATOR
    ]
    for delegation in delegations:
        assert delegation.inputs["condition"] == roles.rbac_administrator_condition(
            roles.TEAM_SECRETS_DELEGATION
        )
    # The group's grants keep their names: a stack that adds the CI identity changes nothing else.
    assert "team-payments-azure-kubernetes-service-rbac-writer-on-namespace-payments" in held
