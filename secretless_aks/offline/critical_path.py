"""How long `pulumi up` takes from an empty environment, and how long it must take.

The estimate is the longest dependency chain of the recorded graph, each resource weighted by
a typical create time (CREATE_SECONDS). The engine starts every operation whose dependencies
are done (`pulumi up --parallel` defaults to unbounded), so with enough parallelism the
chain is the update's duration. A resource waits for its `dependencies` (data links and
`depends_on`) and for its provider; a Kubernetes provider waits for the cluster it reads its
kubeconfig from. Components take no time and hold nothing up. A Deployment or a Helm release
is done only once its pods run (pulumi-kubernetes awaits them), so where every pool the cluster
is created with is tainted NoSchedule (prod's system pool, once a user pool is declared), it
also waits for an untainted agent pool (`pod_pools`): no edge links them, the scheduler does.

The floor is the chain no program can avoid (FLOOR, `floor_seconds`): the resource group; the
cluster's identities and, in parallel, its network; the control-plane role assignments AKS
checks while it creates the cluster, and the wait for them to propagate (AKS does not retry
that check: components/propagation_wait.py); the cluster; then, in parallel, what can only
exist once the cluster does (pools, maintenance configurations, grants inside the cluster or
its node resource group, federated credentials on its OIDC issuer — one after another on one
identity — and Kubernetes objects: a Namespace then what lives in it, AAD Pod Identity's Helm
release then its objects; pods, after a pool they may run on). It is computed from which
resources the stack has, not from the graph's edges, so an edge that makes anything else wait
(a grant on the cluster, a service on another service) shows as an estimate above the floor.

Not included: Azure RBAC propagation. A role assignment is created in seconds but takes up to
~5 minutes to reach AKS and up to ~10 minutes to reach ARM and Key Vault
(https://learn.microsoft.com/azure/aks/manage-azure-rbac,
https://learn.microsoft.com/azure/role-based-access-control/troubleshooting). That is why the
AKS RBAC grants are made at resource-group scope beside the cluster: they propagate while it is
created.

    python -m secretless_aks.offline.critical_path dev prod
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from secretless_aks.components.propagation_wait import CONTROL_PLANE_GRANT_WAIT_SECONDS
from secretless_aks.offline.harness import PROJECT_DIR, RecordedGraph, RecordedResource, run_program

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
VIRTUAL_NETWORK = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
MAINTENANCE_CONFIGURATION = "azure-native:containerservice:MaintenanceConfiguration"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
PROPAGATION_WAIT = "pulumi-python:dynamic/rbac:PropagationWait"
CONTRACT_PUBLICATION = "pulumi-python:dynamic/contract:Publication"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
# AAD Pod Identity's custom resources: their CRDs come with its Helm release.
POD_IDENTITY_GROUP = "kubernetes:aadpodidentity.k8s.io/"
# What pulumi-kubernetes awaits until its pods are ready.
RUNS_PODS = (DEPLOYMENT, HELM_RELEASE)
PROVIDER = "pulumi:providers:"

# Typical create times, in seconds, with where each figure comes from. "Typical" marks the
# figures with no measurement behind them: quick ARM or Kubernetes writes, seconds at most, and
# never on a critical path long enough for their exact value to matter.
CREATE_SECONDS: Mapping[str, float] = {
    # Pulumi logs show `created (156s)` and `created (274s)`; Microsoft Learn's AKS quickstart
    # (learn.microsoft.com/azure/aks/learn/quick-kubernetes-deploy-cli): "After a few minutes".
    MANAGED_CLUSTER: 270,
    # Pulumi log `created (125s)`; learn.microsoft.com/azure/aks/create-node-pools: "It takes a
    # few minutes to create the node pool".
    AGENT_POOL: 150,
    # A synchronous ARM PUT.
    MAINTENANCE_CONFIGURATION: 2,
    # Pulumi logs: ResourceGroup 0.6-1 s, VirtualNetwork 4-5 s, Subnet 3-15 s (pulumi/examples
    # azure-py-loadbalancer-vm README), UserAssignedIdentity ~1.5 s (pulumi/pulumi-azure#142),
    # keyvault Secret 1-3 s.
    RESOURCE_GROUP: 1,
    IDENTITY: 2,
    VIRTUAL_NETWORK: 5,
    SUBNET: 5,
    SECRET: 2,
    # Typical.
    FEDERATED_CREDENTIAL: 3,
    # The PUT: Pulumi logs show 5-11 s. Propagation comes after, and is not counted (above).
    ROLE_ASSIGNMENT: 7,
    # Pulumi logs show 33 s and 71 s.
    VAULT: 50,
    # pulumi-kubernetes waits for the release's resources to be ready (default timeout 300 s,
    # provider/pkg/provider/helm_release.go).
    HELM_RELEASE: 45,
    # pulumi-kubernetes awaits the rollout (default timeout 10 minutes,
    # provider/pkg/await/deployment.go): image pull and readiness.
    DEPLOYMENT: 45,
    # Typical: the API server creates them at once, and pulumi-kubernetes awaits nothing more.
    NAMESPACE: 1,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:core/v1:Service": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    f"{POD_IDENTITY_GROUP}v1:AzureIdentity": 1,
    f"{POD_IDENTITY_GROUP}v1:AzureIdentityBinding": 1,
    # Generated by the provider, no call to Azure.
    "random:index/randomString:RandomString": 0,
    "random:index/randomPassword:RandomPassword": 0,
    # The pause for the control plane's grants to propagate before AKS checks them.
    PROPAGATION_WAIT: CONTROL_PLANE_GRANT_WAIT_SECONDS,
    # Typical: a workspace is one ARM PUT, and a diagnostic setting another.
    "azure-native:operationalinsights:Workspace": 20,
    "azure-native:monitor:DiagnosticSetting": 2,
    # Typical: Cosmos DB writes a role assignment as an asynchronous operation on the account;
    # it needs only the service's identity, beside everything else.
    "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": 30,
    # Typical: one blob PUT of a few kilobytes (components/contract_publication.py).
    CONTRACT_PUBLICATION: 1,
}

# The floor, as docs/performance.md states it (`floor_seconds` computes it).
FLOOR = (
    "resource group → cluster identities | virtual network → subnet → control-plane role "
    "assignments → their propagation wait → cluster → the longest of: agent pool, "
    "maintenance configuration, a grant inside the cluster or its node resource group, "
    "federated credentials of one identity in turn, "
    "Namespace → a Kubernetes object, Helm release → an AAD Pod Identity object, the grants "
    "inside the cluster → the published contract; a Deployment or Helm release after an "
    "untainted pool, where the cluster's own pools are all tainted"
)


def create_seconds(resource: RecordedResource) -> float:
    """A resource's create time: CREATE_SECONDS, 0 for providers, components and reads."""
    if not resource.custom or resource.read or resource.type.startswith(PROVIDER):
        return 0
    try:
        return CREATE_SECONDS[resource.type]
    except KeyError:
        raise KeyError(f"no create time for {resource.type}: add it to CREATE_SECONDS") from None


@dataclass(frozen=True)
class CriticalPath:
    stack: str
    # The chain, first created first, each with the time it is done (seconds from the start).
    chain: tuple[tuple[RecordedResource, float], ...]
    floor: float

    @property
    def estimate(self) -> float:
        return self.chain[-1][1] if self.chain else 0


def waits_for(resource: RecordedResource) -> list[str]:
    """The URNs `resource` cannot start before: its dependencies and its provider."""
    return sorted({*resource.dependencies, *([resource.provider] if resource.provider else [])})


def pod_pools(graph: RecordedGraph) -> tuple[str, ...]:
    """The agent pools pods wait for: none while a pool the cluster is created with takes them;
    else (every one tainted NoSchedule, as the system pool is beside a user pool) the untainted
    AgentPools of the graph."""
    own_pools = [
        pool
        for cluster in graph.resources
        if cluster.type == MANAGED_CLUSTER and not cluster.read
        for pool in cluster.inputs.get("agentPoolProfiles") or []
    ]
    if not own_pools or not all(_tainted(pool) for pool in own_pools):
        return ()
    return tuple(r.urn for r in graph.resources if r.type == AGENT_POOL and not _tainted(r.inputs))


def _tainted(pool: Mapping[str, Any]) -> bool:
    return any(str(taint).endswith(":NoSchedule") for taint in pool.get("nodeTaints") or [])


def critical_path(graph: RecordedGraph) -> CriticalPath:
    """The longest chain of `graph`, weighted by create time, and the stack's floor."""
    by_urn = {resource.urn: resource for resource in graph.resources}
    pools = pod_pools(graph)

    @cache
    def done(urn: str) -> tuple[float, str | None]:
        """When the resource is done, and what it waited for last."""
        resource = by_urn[urn]
        waits = [*waits_for(resource), *(pools if resource.type in RUNS_PODS else ())]
        waited = max(((done(d)[0], d) for d in waits), default=(0.0, None))
        return waited[0] + create_seconds(resource), waited[1]

    chain: list[tuple[RecordedResource, float]] = []
    urn = max(((done(urn)[0], urn) for urn in by_urn), default=(0.0, None))[1]
    while urn is not None:
        chain.append((by_urn[urn], done(urn)[0]))
        urn = done(urn)[1]
    return CriticalPath(graph.stack, tuple(reversed(chain)), floor_seconds(graph))


def floor_seconds(graph: RecordedGraph) -> float:
    """The chain no program can avoid for the resources `graph` has (FLOOR)."""
    present = [r for r in graph.resources if r.custom and not r.read]

    def seconds(type_: str) -> float:
        return CREATE_SECONDS[type_] if any(r.type == type_ for r in present) else 0

    clusters = [r for r in present if r.type == MANAGED_CLUSTER]
    if len(clusters) != 1:
        raise ValueError(f"stack {graph.stack} has {len(clusters)} clusters; expected one")
    network = seconds(VIRTUAL_NETWORK) + seconds(SUBNET)
    before = (
        seconds(RESOURCE_GROUP)
        + max(seconds(IDENTITY), network)
        + seconds(ROLE_ASSIGNMENT)
        + seconds(PROPAGATION_WAIT)
    )
    # Pods wait for a pool they may run on, which can only be created with the cluster's.
    pods = CREATE_SECONDS[AGENT_POOL] if pod_pools(graph) else 0
    after = max(_after_the_cluster(present, clusters[0], pods), default=0)
    return before + seconds(MANAGED_CLUSTER) + after


def _after_the_cluster(
    present: Sequence[RecordedResource], cluster: RecordedResource, pods: float
) -> Iterable[float]:
    """The minimal chain of each resource that can only be created once the cluster is."""
    # Grants in the cluster (a namespace's) or in the node resource group, which the cluster
    # creates. A graph recorded in preview mode does not know these ids.
    inside = (
        f"{cluster.outputs['id']}/".lower(),
        f"/resourcegroups/{cluster.outputs['nodeResourceGroup']}/".lower(),
    )
    credentials: dict[str, int] = {}
    # The published contract follows the teams' grants in their namespaces.
    granted_inside = any(
        resource.type == ROLE_ASSIGNMENT
        and f"{resource.inputs['scope']}/".lower().startswith(inside[0])
        for resource in present
    )
    for resource in present:
        if resource.type == CONTRACT_PUBLICATION:
            yield granted_inside * CREATE_SECONDS[ROLE_ASSIGNMENT] + CREATE_SECONDS[resource.type]
        elif resource.type in (AGENT_POOL, MAINTENANCE_CONFIGURATION):
            yield CREATE_SECONDS[resource.type]
        elif resource.type == ROLE_ASSIGNMENT:
            scope = f"{resource.inputs['scope']}/".lower()
            if scope.startswith(inside[0]) or inside[1] in scope:
                yield CREATE_SECONDS[ROLE_ASSIGNMENT]
        elif resource.type == FEDERATED_CREDENTIAL:
            # Azure writes one credential of an identity at a time.
            identity = resource.inputs["resourceName"]
            credentials[identity] = credentials.get(identity, 0) + 1
            yield credentials[identity] * CREATE_SECONDS[FEDERATED_CREDENTIAL]
        elif resource.type.startswith(POD_IDENTITY_GROUP):
            # Its CRD comes with the Helm release; its Namespace is made meanwhile.
            yield pods + CREATE_SECONDS[HELM_RELEASE] + CREATE_SECONDS[resource.type]
        elif resource.type.startswith("kubernetes:"):
            # A namespaced object waits for its Namespace, and pods for a pool.
            namespace = 0 if resource.type in (NAMESPACE, HELM_RELEASE) else 1
            ready = max(namespace * CREATE_SECONDS[NAMESPACE], pods * (resource.type in RUNS_PODS))
            yield ready + CREATE_SECONDS[resource.type]


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def report(path: CriticalPath) -> str:
    """The estimate and the floor of one stack, and its critical path with the time each step
    is done."""
    verdict = "= floor" if path.estimate == path.floor else f"> floor {_duration(path.floor)}"
    lines = [
        f"Stack {path.stack}: pulumi up from empty ≈ {_duration(path.estimate)} "
        f"({path.estimate:g} s) {verdict}",
    ]
    width = max((len(resource.name) for resource, _ in path.chain), default=0)
    lines += [
        f"  {done:>5g} s  {resource.name:<{width}}  {resource.type}"
        for resource, done in path.chain
        if create_seconds(resource) or resource.type.startswith(PROVIDER)
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secretless_aks.offline.critical_path",
        description="The estimated `pulumi up` time from empty, its critical path and floor.",
    )
    parser.add_argument("stacks", nargs="+", help="stack names (Pulumi.<stack>.yaml)")
    args = parser.parse_args(argv)
    paths = [critical_path(run_program(stack, project_dir=PROJECT_DIR)) for stack in args.stacks]
    print("\n\n".join(report(path) for path in paths))
    print(
        f"\nFloor: {FLOOR}.\nNot counted: RBAC propagation (up to ~5 min to AKS, ~10 min to ARM)."
    )
    return 0 if all(path.estimate == path.floor for path in paths) else 1


if __name__ == "__main__":
    sys.exit(main())
