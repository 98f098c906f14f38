"""The pause between the control plane's role assignments and the cluster: in the graph, in its
provider's lifecycle, and in the hand-off from the program to the engine's dynamic provider
host, which unpickles the provider from state in another process."""

from __future__ import annotations

import pytest

from secretless_aks.components import propagation_wait
from secretless_aks.components.propagation_wait import CONTROL_PLANE_GRANT_WAIT_SECONDS
from secretless_aks.offline.harness import RecordedGraph
from secretless_aks.offline.replacements import forces_replacement
from tests.dynamic_host import in_provider_host

WAIT = "cluster-controlplane-grants-propagation"
WAIT_TYPE = "pulumi-python:dynamic/rbac:PropagationWait"
CONTROL_PLANE_GRANTS = (
    "cluster-controlplane-managed-identity-operator-on-kubelet-identity",
    "cluster-controlplane-network-contributor-on-node-subnet",
)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_cluster_waits_a_minute_after_the_control_planes_grants(
    stack: str, dev: RecordedGraph, prod: RecordedGraph
) -> None:
    graph = {"dev": dev, "prod": prod}[stack]
    wait = graph.named(WAIT)
    assert wait.type == WAIT_TYPE
    grants = [graph.named(name) for name in CONTROL_PLANE_GRANTS]
    assert wait.inputs["seconds"] == CONTROL_PLANE_GRANT_WAIT_SECONDS == 60
    # It follows each grant by its id: a replaced grant replaces the wait, which waits again.
    assert wait.inputs["triggers"] == {
        "managed-identity-operator-on-kubelet-identity": grants[0].outputs["id"],
        "network-contributor-on-node-subnet": grants[1].outputs["id"],
    }
    assert set(wait.dependencies) == {grant.urn for grant in grants}
    cluster = graph.named("cluster-aks")
    assert wait.urn in cluster.dependencies
    # Nothing but the cluster (and what follows it) waits: identities, network, vault do not.
    waiting = {r.name for r in graph.resources if wait.urn in r.dependencies}
    assert waiting == {"cluster-aks"}


def test_only_new_triggers_replace_the_wait() -> None:
    assert forces_replacement(WAIT_TYPE, "triggers.network-contributor-on-node-subnet")
    assert not forces_replacement(WAIT_TYPE, "seconds")
    provider = propagation_wait._WaitProvider()
    olds = {"seconds": 60, "triggers": {"a": "id-1"}, "__provider": "old"}
    same = provider.diff("id", olds, {**olds, "__provider": "new code"})
    assert (same.changes, same.replaces) == (False, [])
    regranted = provider.diff("id", olds, {**olds, "triggers": {"a": "id-2"}})
    assert (regranted.changes, regranted.replaces) == (True, ["triggers"])
    assert regranted.delete_before_replace is False
    longer = provider.diff("id", olds, {**olds, "seconds": 90})
    assert (longer.changes, longer.replaces) == (True, [])


def test_create_sleeps_and_update_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(propagation_wait.time, "sleep", slept.append)
    provider = propagation_wait._WaitProvider()
    props = {"seconds": 60, "triggers": {"a": "id-1"}, "__provider": "code"}
    created = provider.create(props)
    assert slept == [60.0]
    assert created.outs == {"seconds": 60, "triggers": {"a": "id-1"}}
    provider.update("id", props, {**props, "seconds": 90})
    assert slept == [60.0]


def test_the_dynamic_provider_host_can_load_the_provider_the_state_holds(
    dev: RecordedGraph,
) -> None:
    created = "provider.create({'seconds': 0, 'triggers': {'a': 'id-1'}}).outs"
    assert in_provider_host(dev.named(WAIT).inputs["__provider"], created) == [
        "secretless_aks.components.propagation_wait",
        {"seconds": 0, "triggers": {"a": "id-1"}},
    ]
