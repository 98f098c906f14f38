"""The platform's side of bootstrap's registry: the kubelet pulls with AcrPull, the workloads
wait for that grant, the cluster does not, and consumers read the login server."""

from __future__ import annotations

from secretless_aks.components import roles
from secretless_aks.offline.harness import RecordedGraph, run_program
from secretless_aks.offline.mocks import CI_REGISTRY_STAND_IN
from tests.graph_queries import MANAGED_CLUSTER, grant
from tests.stack_configs import stack_config

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PULL_GRANT = "registry-kubelet-acrpull"


def test_the_kubelet_principal_gets_acrpull_at_the_registry_as_a_service_principal(
    dev: RecordedGraph,
) -> None:
    pull = grant(dev.named(PULL_GRANT))
    kubelet = dev.named("cluster-kubelet-identity")
    assert (pull.role, pull.scope) == (roles.ACR_PULL, CI_REGISTRY_STAND_IN["id"])
    assert (pull.principal_id, pull.principal_type) == (
        kubelet.outputs["principalId"],
        "ServicePrincipal",
    )
    # Named in the registry's subscription (bootstrap's management one), not the cluster's.
    assert dev.named(PULL_GRANT).inputs["roleDefinitionId"] == roles.role_definition_id(
        roles.subscription_of(CI_REGISTRY_STAND_IN["id"]), roles.ACR_PULL
    )


def test_every_deployment_waits_for_the_pull_grant_and_the_cluster_does_not(
    dev: RecordedGraph,
) -> None:
    pull = dev.named(PULL_GRANT).urn
    deployments = dev.by_type(DEPLOYMENT)
    assert deployments
    for deployment in deployments:
        assert pull in deployment.dependencies, deployment.name
    (cluster,) = dev.by_type(MANAGED_CLUSTER)
    assert pull not in cluster.dependencies
    assert not [deps for deps in cluster.property_dependencies.values() if pull in deps]


def test_the_dev_deployment_pulls_its_image_by_digest_from_the_login_server(
    dev: RecordedGraph,
) -> None:
    (container,) = dev.named("svc-my-great-service-deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ]
    image = container["image"]
    assert image.startswith(f"{CI_REGISTRY_STAND_IN['loginServer']}/secretless-app@sha256:")
    assert dev.outputs["registryLoginServer"] == CI_REGISTRY_STAND_IN["loginServer"]


def test_a_stack_with_no_registry_set_declares_no_pull_grant_and_exports_an_empty_server() -> None:
    services = [{"name": "orders", "image": "ghcr.io/contoso/orders:1.0.0"}]
    config = stack_config(registry={}, services=services)
    graph = run_program("dev", config=config)
    assert PULL_GRANT not in {r.name for r in graph.resources}
    assert graph.outputs["registryLoginServer"] == ""
