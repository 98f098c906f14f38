"""The deploy's critical path: `pulumi up` from empty takes the floor's time, and an edge that
makes anything else wait shows as a longer path."""

from __future__ import annotations

import dataclasses

import pytest

from secretless_aks.components import roles
from secretless_aks.offline.critical_path import (
    AGENT_POOL,
    CREATE_SECONDS,
    DEPLOYMENT,
    FEDERATED_CREDENTIAL,
    MANAGED_CLUSTER,
    create_seconds,
    critical_path,
    pod_pools,
    report,
    waits_for,
)
from secretless_aks.offline.harness import PROJECT_DIR, RecordedGraph, RecordedResource, run_program
from tests.graph_queries import DEPLOYER_CLUSTER_ADMIN, ROLE_ASSIGNMENT, grant
from tests.stack_configs import stack_config

WAIT = "cluster-controlplane-grants-propagation"
SEARCH_GROUP = "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"


def with_edge(graph: RecordedGraph, dependent: str, dependency: str) -> RecordedGraph:
    """`graph` with `dependent` also depending on `dependency`."""
    extra = graph.named(dependency).urn

    def add(resource: RecordedResource) -> RecordedResource:
        if resource.name != dependent:
            return resource
        return dataclasses.replace(resource, dependencies=(*resource.dependencies, extra))

    return dataclasses.replace(graph, resources=[add(r) for r in graph.resources])


def upstream(graph: RecordedGraph, resource: RecordedResource) -> set[str]:
    """The names of everything `resource` waits for, directly or not."""
    seen: set[str] = set()
    pending = waits_for(resource)
    while pending:
        urn = pending.pop()
        if urn not in seen:
            seen.add(urn)
            pending += waits_for(graph.by_urn(urn))
    return {graph.by_urn(urn).name for urn in seen}


def service_of(graph: RecordedGraph, resource: RecordedResource) -> str | None:
    """The ServiceIdentity component a resource belongs to, if any."""
    by_urn = {r.urn: r for r in graph.resources}  # the stack itself is not recorded
    node: RecordedResource | None = resource
    while node is not None:
        if node.type == "secretless-aks:service:ServiceIdentity":
            return node.name
        node = by_urn.get(node.parent or "")
    return None


def test_dev_and_prod_deploy_from_empty_in_their_floor_time(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    # dev: identities and network, role assignments and their propagation wait, cluster, then a
    # Namespace and a Deployment;
    # prod: the same up to the cluster, then its user pool.
    dev_path, prod_path = critical_path(dev), critical_path(prod)
    assert (dev_path.estimate, dev_path.floor) == (394, 394)
    assert (prod_path.estimate, prod_path.floor) == (498, 498)
    for path in (dev_path, prod_path):
        names = [r.name for r, _ in path.chain]
        assert names[names.index(WAIT) + 1] == "cluster-aks"
        assert dict((r.name, done) for r, done in path.chain)[WAIT] == 18 + 60
    assert [r.name for r, _ in prod_path.chain][-2:] == [
        "cluster-aks",
        "cluster-pool-userf0a72f",
    ]


def test_pods_on_a_cluster_whose_own_pool_is_tainted_wait_for_the_user_pool() -> None:
    # prod's system pool is tainted CriticalAddonsOnly: no edge makes a Deployment wait for
    # the user pool, but pulumi-kubernetes awaits its rollout, which needs the pool's nodes.
    service = {"name": "orders", "image": "ghcr.io/contoso/orders@sha256:" + "0" * 64}
    graph = run_program("prod", config=stack_config("prod", services=[service]))
    (pool,) = graph.by_type(AGENT_POOL)
    assert pod_pools(graph) == (pool.urn,)
    path = critical_path(graph)
    cluster_done = 348
    done = cluster_done + CREATE_SECONDS[AGENT_POOL] + CREATE_SECONDS[DEPLOYMENT]
    assert (path.estimate, path.floor) == (done, done)
    assert [r.name for r, _ in path.chain][-3:] == [
        "cluster-aks",
        pool.name,
        "svc-orders-deployment",
    ]


def test_pods_on_a_cluster_whose_own_pool_takes_them_wait_for_no_pool(
    dev: RecordedGraph, rich: RecordedGraph
) -> None:
    assert pod_pools(dev) == pod_pools(rich) == ()


def test_the_richest_stack_deploys_in_its_floor_time(rich: RecordedGraph) -> None:
    path = critical_path(rich)
    assert path.estimate == path.floor
    assert report(path).startswith("Stack rich: pulumi up from empty ≈ 6 min 34 s (394 s) = floor")


def test_a_teams_grant_in_its_namespace_comes_after_the_cluster_and_nothing_else() -> None:
    team = {"name": "search", "groupObjectId": SEARCH_GROUP, "namespaces": ["search"]}
    graph = run_program("dev", config=stack_config(services=None, appTeams=[team]))
    path = critical_path(graph)
    assert (path.estimate, path.floor) == (356, 356)
    # The grant, then the published contract, which names the namespace only once the team
    # may write there.
    assert [resource.name for resource, _ in path.chain[-2:]] == [
        "team-search-azure-kubernetes-service-rbac-writer-on-namespace-search",
        "contract",
    ]


def test_the_aks_rbac_grants_run_beside_the_cluster_and_the_provider_waits_for_them(
    rich: RecordedGraph,
) -> None:
    grants = [
        r for r in rich.by_type(ROLE_ASSIGNMENT) if grant(r).role == roles.AKS_RBAC_CLUSTER_ADMIN
    ]
    assert len(grants) == 2  # the deployer and one admin group
    for assignment in grants:
        assert upstream(rich, assignment) == {"environment"}
    assert {g.name for g in grants} <= upstream(rich, rich.named("kubernetes-provider"))


def test_a_grant_that_waits_for_the_cluster_lengthens_the_path_beyond_the_floor(
    dev: RecordedGraph,
) -> None:
    slower = critical_path(with_edge(dev, DEPLOYER_CLUSTER_ADMIN, "cluster-aks"))
    assert slower.estimate == slower.floor + CREATE_SECONDS[ROLE_ASSIGNMENT]
    assert DEPLOYER_CLUSTER_ADMIN in [r.name for r, _ in slower.chain]


def test_a_service_that_waits_for_another_lengthens_the_path_beyond_the_floor(
    rich: RecordedGraph,
) -> None:
    slower = critical_path(with_edge(rich, "svc-billing-deployment", "svc-orders-deployment"))
    assert slower.estimate > slower.floor


def test_a_cluster_that_waits_for_the_vault_lengthens_the_path_beyond_the_floor(
    dev: RecordedGraph,
) -> None:
    # The vault (51 s) is done before the grants' propagation wait (78 s): the cluster's order
    # hides an edge to it; an edge from the wait does not.
    assert critical_path(with_edge(dev, "cluster-aks", "keyvault-vault")).estimate == 394
    slower = critical_path(with_edge(dev, WAIT, "keyvault-vault"))
    assert slower.estimate > slower.floor


def test_no_service_waits_for_another(rich: RecordedGraph) -> None:
    for resource in rich.resources:
        own = service_of(rich, resource)
        if own is None:
            continue
        others = {service_of(rich, rich.by_urn(urn)) for urn in waits_for(resource)}
        assert others <= {own, None}, resource.name


def test_federated_credentials_wait_for_one_another_on_one_identity_only(
    rich: RecordedGraph,
) -> None:
    credentials = rich.by_type(FEDERATED_CREDENTIAL)
    by_urn = {c.urn: c for c in credentials}
    chained = 0
    for credential in credentials:
        before = [by_urn[urn] for urn in credential.dependencies if urn in by_urn]
        assert all(b.inputs["resourceName"] == credential.inputs["resourceName"] for b in before)
        assert len(before) <= 1
        chained += len(before)
    assert chained >= 1  # orders federates a second ServiceAccount


def test_every_resource_the_program_declares_has_a_create_time(
    dev: RecordedGraph, prod: RecordedGraph, rich: RecordedGraph
) -> None:
    for graph in (dev, prod, rich):
        for resource in graph.resources:
            create_seconds(resource)  # raises KeyError naming a type without a figure
    assert create_seconds(dev.named("cluster-aks")) == CREATE_SECONDS[MANAGED_CLUSTER]
    assert create_seconds(dev.named("kubernetes-provider")) == 0


def test_a_type_without_a_create_time_is_named() -> None:
    unknown = RecordedResource(
        urn="urn:x", type="azure-native:cdn:Profile", name="cdn", custom=True, parent=None,
        dependencies=(), property_dependencies={}, provider=None, protect=False, inputs={},
        outputs={},
    )  # fmt: skip
    with pytest.raises(KeyError, match="no create time for azure-native:cdn:Profile"):
        create_seconds(unknown)


def test_the_performance_page_states_the_figures_the_model_computes(
    dev: RecordedGraph, prod: RecordedGraph
) -> None:
    text = (PROJECT_DIR / "docs" / "performance.md").read_text()
    for path in (critical_path(dev), critical_path(prod)):
        minutes, seconds = divmod(round(path.estimate), 60)
        row = (
            f"| {path.stack} | {path.estimate:g} s ({minutes} min {seconds:02d} s) "
            f"| {path.floor:g} s |"
        )
        assert row in text, row
    wait_done = dict((r.name, done) for r, done in critical_path(dev).chain)[WAIT]
    assert f"propagation wait {wait_done:g} s" in text
