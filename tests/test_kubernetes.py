"""Kubernetes identity bindings: workload identity, AAD Pod Identity, and both while migrating.

The links are checked as data links (property dependencies), and every rendered manifest is
validated against the Kubernetes schemas and the AAD Pod Identity CRDs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from secretless_aks.components.kubernetes_platform import kubeconfig_for_kubelogin
from secretless_aks.offline.harness import RecordedGraph, RecordedResource, Secret, run_program
from secretless_aks.offline.mocks import CI_DEPLOYER_STAND_IN, MOCK_TENANT_ID
from tests.graph_queries import (
    KUBELET_PULLS_FROM_REGISTRY,
    MANAGED_CLUSTER,
    ROLE_ASSIGNMENT,
    grant,
    grants_to,
)
from tests.pod_security import restricted_violations
from tests.stack_configs import stack_config
from tests.test_config import rejected

FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
AZURE_IDENTITY = "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity"
AZURE_IDENTITY_BINDING = "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding"
SCHEMAS = Path(__file__).parent / "schemas"
ADMIN_GROUP = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
SERVICES = [
    {
        "name": "orders",
        "image": "ghcr.io/contoso/orders@sha256:" + "1" * 64,
        "port": 8080,
        "replicas": 2,
        "allowIngressFrom": ["web"],
        "additionalServiceAccounts": [{"namespace": "jobs", "serviceAccount": "orders-migrator"}],
    },
    {
        "name": "legacy",
        "binding": "podIdentity",
        "image": "ghcr.io/contoso/legacy@sha256:" + "2" * 64,
        "secretScope": ["Identity--Secret"],
    },
    {
        "name": "moving",
        "binding": "both",
        "image": "ghcr.io/contoso/moving@sha256:" + "3" * 64,
        "port": 80,
        "secretScope": ["Identity--Secret"],
    },
]


@pytest.fixture(scope="module")
def bound() -> RecordedGraph:
    """The prod stack with a service in each binding mode and an admin group."""
    return run_program(
        "prod",
        config=stack_config(
            "prod", services=SERVICES, cluster={"adminGroupObjectIds": [ADMIN_GROUP]}
        ),
    )


def kubernetes_objects(graph: RecordedGraph) -> list[RecordedResource]:
    return [r for r in graph.resources if r.type.startswith("kubernetes:")]


def test_provider_is_built_from_the_clusters_kubelogin_credentials(bound: RecordedGraph) -> None:
    provider = bound.named("kubernetes-provider")
    cluster = bound.by_type(MANAGED_CLUSTER)[0]
    assert isinstance(provider.inputs["kubeconfig"], Secret), "the kubeconfig must be secret"
    assert cluster.urn in provider.property_dependencies["kubeconfig"]
    (invoke,) = [i for i in bound.invokes if i.token.endswith("listManagedClusterUserCredentials")]
    assert invoke.args["resourceName"] == "aks-secretless-prod"
    assert invoke.args["format"] == "exec"
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"].value)
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "kubelogin"
    args = user["user"]["exec"]["args"]
    assert args[args.index("--login") + 1] == "azurecli"
    assert "devicecode" not in args
    assert set(user["user"]) == {"exec"}, "no token or client certificate in the kubeconfig"
    assert "kubeconfig" in bound.secret_outputs


def test_kubelogin_is_switched_from_device_code_to_the_azure_cli() -> None:
    config = {
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {"command": "kubelogin", "args": ["get-token", "--login", "devicecode"]}
                },
            },
            {"name": "other", "user": {"exec": {"command": "gke-gcloud-auth-plugin", "args": []}}},
        ]
    }
    converted = yaml.safe_load(
        kubeconfig_for_kubelogin(base64.b64encode(json.dumps(config).encode()).decode())
    )
    assert converted["users"][0]["user"]["exec"]["args"] == ["get-token", "--login", "azurecli"]
    assert converted["users"][1]["user"]["exec"]["args"] == []


def test_every_kubernetes_object_uses_the_cluster_provider(bound: RecordedGraph) -> None:
    provider = bound.named("kubernetes-provider")
    objects = kubernetes_objects(bound)
    assert len(objects) >= 10
    for resource in objects:
        assert resource.provider == provider.urn, resource.urn


def test_deployer_and_admin_groups_administer_the_cluster_through_azure_rbac(
    bound: RecordedGraph,
) -> None:
    # At the environment's resource-group scope and with no input from the cluster, so the
    # grants are made first and propagate to AKS (up to ~5 minutes) while the cluster is built.
    cluster = bound.by_type(MANAGED_CLUSTER)[0]
    group = bound.named("environment")
    assignments = [
        r
        for r in bound.by_type(ROLE_ASSIGNMENT)
        if grant(r).role.name == "Azure Kubernetes Service RBAC Cluster Admin"
    ]
    admins = {(grant(r).principal_id, grant(r).principal_type, grant(r).scope) for r in assignments}
    assert admins == {
        (CI_DEPLOYER_STAND_IN, "ServicePrincipal", group.outputs["id"]),
        (ADMIN_GROUP, "Group", group.outputs["id"]),
    }
    provider = bound.named("kubernetes-provider")
    for assignment in assignments:
        assert cluster.urn not in assignment.dependencies, assignment.urn
        assert cluster.urn not in {
            urn for urns in assignment.property_dependencies.values() for urn in urns
        }, assignment.urn
        assert assignment.urn in provider.dependencies, assignment.urn


def test_every_kubernetes_object_waits_for_the_cluster_admin_grants(bound: RecordedGraph) -> None:
    # Through its provider: the engine creates no object before the provider, and the provider
    # not before the grants.
    provider = bound.named("kubernetes-provider")
    grants_ = {
        r.urn
        for r in bound.by_type(ROLE_ASSIGNMENT)
        if grant(r).role.name == "Azure Kubernetes Service RBAC Cluster Admin"
    }
    assert len(grants_) == 2
    assert grants_ <= set(provider.dependencies)
    for resource in kubernetes_objects(bound):
        assert resource.provider == provider.urn, resource.urn


def test_service_account_carries_the_identitys_client_id_by_data_link(bound: RecordedGraph) -> None:
    identity = bound.named("svc-orders-identity")
    account = bound.named("svc-orders-service-account")
    assert account.inputs["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": identity.outputs["clientId"],
        "azure.workload.identity/tenant-id": MOCK_TENANT_ID,
    }
    assert identity.urn in account.property_dependencies["metadata"]
    assert account.inputs["metadata"]["namespace"] == "orders"
    assert (
        bound.named("kubernetes-namespace-orders").urn in account.property_dependencies["metadata"]
    )


def test_pod_identity_only_service_account_has_no_workload_identity_annotation(
    bound: RecordedGraph,
) -> None:
    assert "annotations" not in bound.named("svc-legacy-service-account").inputs["metadata"]


def test_federated_credential_trusts_the_clusters_issuer_for_exactly_one_account(
    bound: RecordedGraph,
) -> None:
    cluster = bound.by_type(MANAGED_CLUSTER)[0]
    credential = bound.named("svc-orders-federated-orders_orders")
    issuer = cluster.outputs["oidcIssuerProfile"]["issuerURL"]
    assert credential.inputs["issuer"] == issuer and issuer.endswith("/")
    assert cluster.urn in credential.property_dependencies["issuer"]
    assert credential.inputs["subject"] == "system:serviceaccount:orders:orders"
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    identity = bound.named("svc-orders-identity")
    assert credential.inputs["resourceName"] == identity.inputs["resourceName"]
    assert identity.urn in credential.property_dependencies["resourceName"]


def test_credentials_on_one_identity_are_written_one_after_another(bound: RecordedGraph) -> None:
    first = bound.named("svc-orders-federated-orders_orders")
    second = bound.named("svc-orders-federated-jobs_orders-migrator")
    assert second.inputs["subject"] == "system:serviceaccount:jobs:orders-migrator"
    assert first.urn in second.dependencies
    # Different identities stay parallel.
    moving = bound.named("svc-moving-federated-moving_moving")
    assert not {first.urn, second.urn} & set(moving.dependencies)
    assert not [r for r in bound.by_type(FEDERATED_CREDENTIAL) if r.name.startswith("svc-legacy-")]


def test_pod_identity_objects_point_at_the_service_identity(bound: RecordedGraph) -> None:
    identity = bound.named("svc-legacy-identity")
    azure_identity = bound.named("svc-legacy-azure-identity")
    assert azure_identity.inputs["spec"] == {
        "type": 0,
        "resourceID": identity.outputs["id"],
        "clientID": identity.outputs["clientId"],
    }
    assert identity.urn in azure_identity.property_dependencies["spec"]
    binding = bound.named("svc-legacy-azure-identity-binding")
    assert binding.inputs["spec"] == {"azureIdentity": "legacy-identity", "selector": "legacy"}
    release = bound.by_type(HELM_RELEASE)[0]
    for custom in (azure_identity, binding):
        assert release.urn in custom.dependencies, "the CRDs come with the Helm release"


def test_pod_identity_binds_pods_in_their_own_namespace_only(bound: RecordedGraph) -> None:
    (release,) = bound.by_type(HELM_RELEASE)
    assert release.inputs["values"] == {
        "forceNamespaced": "true",
        "rbac": {"allowAccessToSecrets": False},
    }
    for identity in bound.by_type(AZURE_IDENTITY):
        assert identity.inputs["metadata"]["annotations"] == {
            "aadpodidentity.k8s.io/Behavior": "namespaced"
        }


def test_pod_identity_is_installed_once_from_its_final_release(bound: RecordedGraph) -> None:
    (release,) = bound.by_type(HELM_RELEASE)
    assert release.inputs["chart"] == "aad-pod-identity"
    assert release.inputs["version"] == "4.1.18"  # app 1.8.17, the last before the archive
    assert release.inputs["repositoryOpts"] == {
        "repo": "https://raw.githubusercontent.com/Azure/aad-pod-identity/master/charts"
    }


def test_kubelet_gets_pod_identity_roles_only_for_pod_identity_services(
    bound: RecordedGraph,
) -> None:
    kubelet = bound.named("cluster-kubelet-identity")
    assert grants_to(bound, kubelet) == {
        KUBELET_PULLS_FROM_REGISTRY,
        ("Managed Identity Operator", bound.named("svc-legacy-identity").outputs["id"]),
        ("Managed Identity Operator", bound.named("svc-moving-identity").outputs["id"]),
        (
            "Virtual Machine Contributor",
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
            "rg-secretless-prod-nodes",
        ),
    }


def test_the_kubelets_node_group_role_says_why_it_exists(bound: RecordedGraph) -> None:
    (assignment,) = [
        r
        for r in bound.by_type(ROLE_ASSIGNMENT)
        if r.name == "kubernetes-kubelet-virtual-machine-contributor-on-node-resource-group"
    ]
    assert assignment.inputs["description"] == (
        "AAD Pod Identity (NMI, as the kubelet identity) assigns pod identities to node VMs; "
        "granted only while a service uses pod identity."
    )


def test_every_namespace_enforces_the_restricted_pod_security_standard(
    bound: RecordedGraph,
) -> None:
    namespaces = bound.by_type(NAMESPACE)
    assert len(namespaces) == 3
    for namespace in namespaces:
        labels = namespace.inputs["metadata"]["labels"]
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


def test_every_rendered_pod_meets_the_restricted_standard(bound: RecordedGraph) -> None:
    deployments = bound.by_type("kubernetes:apps/v1:Deployment")
    assert len(deployments) == 3
    for deployment in deployments:
        pod = deployment.inputs["spec"]["template"]["spec"]
        assert restricted_violations(pod) == [], deployment.name


def test_the_restricted_check_catches_what_admission_would_refuse() -> None:
    pod = {
        "hostNetwork": True,
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        "containers": [
            {"name": "app", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}
        ],
    }
    assert restricted_violations(pod) == [
        "hostNetwork is set",
        "volume host is of type ['hostPath']",
        "app: allowPrivilegeEscalation is not false",
        "app: capabilities do not drop ALL",
        "app: adds capabilities ['NET_ADMIN']",
        "app: runAsNonRoot is not true",
        "app: seccompProfile is not RuntimeDefault or Localhost",
    ]


def test_every_service_namespace_denies_ingress_and_each_port_admits_its_callers(
    bound: RecordedGraph,
) -> None:
    policies = {r.name: r.inputs for r in bound.by_type(NETWORK_POLICY)}
    for namespace in ("orders", "legacy", "moving"):
        deny = policies[f"kubernetes-namespace-{namespace}-deny-ingress"]
        assert deny["metadata"]["namespace"] == namespace
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    orders = policies["svc-orders-allow-ingress"]
    assert orders["metadata"]["namespace"] == "orders"
    assert orders["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"podSelector": {}},
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}},
                ],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }
        ],
    }
    assert policies["svc-moving-allow-ingress"]["spec"]["ingress"][0]["from"] == [
        {"podSelector": {}}
    ]
    assert "svc-legacy-allow-ingress" not in policies  # no port, nothing to open
    assert len(policies) == 5


def test_workload_identity_alone_needs_no_pod_identity_roles_and_no_helm_release() -> None:
    graph = run_program("dev", config=stack_config(services=[SERVICES[0]]))
    assert grants_to(graph, graph.named("cluster-kubelet-identity")) == {
        KUBELET_PULLS_FROM_REGISTRY
    }
    assert graph.by_type(HELM_RELEASE) == []
    assert graph.by_type(AZURE_IDENTITY) == []


def test_pod_labels_follow_the_binding(bound: RecordedGraph) -> None:
    def pod_labels(service: str) -> dict[str, str]:
        return bound.named(f"svc-{service}-deployment").inputs["spec"]["template"]["metadata"][
            "labels"
        ]

    assert pod_labels("orders")["azure.workload.identity/use"] == "true"
    assert "aadpodidbinding" not in pod_labels("orders")
    assert pod_labels("legacy")["aadpodidbinding"] == "legacy"
    assert "azure.workload.identity/use" not in pod_labels("legacy")
    assert pod_labels("moving")["azure.workload.identity/use"] == "true"
    assert pod_labels("moving")["aadpodidbinding"] == "moving"


def test_deployment_runs_as_its_service_account_locked_down(bound: RecordedGraph) -> None:
    spec = bound.named("svc-orders-deployment").inputs["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 2
    # Binding labels stay out of the immutable selector, so a migration can change them.
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "orders"}}
    assert pod["serviceAccountName"] == "orders"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]


def test_a_service_is_declared_only_with_a_port(bound: RecordedGraph) -> None:
    services = {r.name for r in bound.by_type("kubernetes:core/v1:Service")}
    assert services == {"svc-orders-service", "svc-moving-service"}


def test_shared_namespace_is_declared_once() -> None:
    graph = run_program(
        "dev",
        config=stack_config(
            services=[
                {"name": "orders", "namespace": "shop"},
                {"name": "billing", "namespace": "shop"},
            ]
        ),
    )
    assert [r.name for r in graph.by_type("kubernetes:core/v1:Namespace")] == [
        "kubernetes-namespace-shop"
    ]


def _manifest(resource: RecordedResource) -> dict[str, Any]:
    return {key: value for key, value in resource.inputs.items() if not isinstance(value, Secret)}


@pytest.mark.parametrize("stack", ["prod"])
def test_every_manifest_passes_the_kubernetes_schema_in_strict_mode(
    bound: RecordedGraph, stack: str
) -> None:
    version = bound.by_type(MANAGED_CLUSTER)[0].inputs["kubernetesVersion"]
    validated = 0
    for resource in kubernetes_objects(bound):
        if resource.type in (HELM_RELEASE, AZURE_IDENTITY, AZURE_IDENTITY_BINDING):
            continue
        kubernetes_validate.validate(_manifest(resource), version, strict=True)
        validated += 1
    # namespaces, accounts, deployments, services, network policies (3 deny, 2 ports)
    assert validated == 3 + 3 + 3 + 2 + 5


def test_pod_identity_objects_pass_the_crd_schemas(bound: RecordedGraph) -> None:
    for type_, schema_file in (
        (AZURE_IDENTITY, "azureidentity-aadpodidentity-v1.json"),
        (AZURE_IDENTITY_BINDING, "azureidentitybinding-aadpodidentity-v1.json"),
    ):
        schema = json.loads((SCHEMAS / schema_file).read_text())
        objects = bound.by_type(type_)
        assert len(objects) == 2  # legacy and moving
        for resource in objects:
            jsonschema.validate(_manifest(resource), schema)


def test_crd_schema_rejects_the_articles_misplaced_spec() -> None:
    # The source article nested `spec` under `metadata`; the schema must catch that.
    schema = json.loads((SCHEMAS / "azureidentity-aadpodidentity-v1.json").read_text())
    wrong = {
        "apiVersion": "aadpodidentity.k8s.io/v1",
        "kind": "AzureIdentity",
        "metadata": {"name": "x", "namespace": "y", "spec": {"type": 0}},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)


def test_more_than_twenty_credentials_on_one_identity_is_rejected() -> None:
    extra = [{"namespace": "jobs", "serviceAccount": f"job-{i}"} for i in range(20)]
    message = rejected(
        stack_config(services=[{"name": "orders", "additionalServiceAccounts": extra}])
    )
    assert (
        "secretless-aks:services[0].additionalServiceAccounts: 21 ServiceAccounts would need 21 "
        "federated credentials; Azure allows 20 federated credentials per identity"
    ) in message


def test_additional_accounts_need_workload_identity() -> None:
    message = rejected(
        stack_config(
            services=[
                {
                    "name": "legacy",
                    "binding": "podIdentity",
                    "additionalServiceAccounts": [{"namespace": "jobs", "serviceAccount": "j"}],
                }
            ]
        )
    )
    assert (
        "secretless-aks:services[0].additionalServiceAccounts: needs binding workloadIdentity "
        "or both"
    ) in message
