"""Kubernetes manifests that bind a service's pods to its Azure identity, as plain data.

Pure functions: the component declares these through the Kubernetes provider, and the tests
validate every rendered one against the Kubernetes schemas (and the AAD Pod Identity CRDs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pulumi

from secretless_aks.components import access_catalogue, roles
from secretless_aks.components.config import DEFAULT_REPLICAS, ProbesConfig, ServiceConfig

# Azure Workload Identity's webhook contract (https://azure.github.io/azure-workload-identity):
# the pod label opts a pod in; the ServiceAccount annotations say which identity it gets.
WORKLOAD_IDENTITY_USE_LABEL = "azure.workload.identity/use"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
# Entra ID accepts Kubernetes tokens for this audience only.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"

# AAD Pod Identity (deprecated 2022, archived 2023; kept for clusters that still run it).
AAD_POD_IDENTITY_API_VERSION = "aadpodidentity.k8s.io/v1"
POD_IDENTITY_SELECTOR_LABEL = "aadpodidbinding"
USER_ASSIGNED_MANAGED_IDENTITY = 0  # AzureIdentity spec.type; 1 is a service principal

NAME_LABEL = "app.kubernetes.io/name"
# Set by the API server on every namespace (Kubernetes 1.22+): what a policy selects it by.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# Pod Security Admission (https://kubernetes.io/docs/concepts/security/pod-security-admission/):
# enforce `restricted`, and audit and warn at the same level, against the cluster's own version.
POD_SECURITY_LABELS = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", "latest"))
}
# AAD Pod Identity: an AzureIdentity so annotated binds pods in its own namespace only
# (https://azure.github.io/aad-pod-identity/docs/configure/match_pods_in_namespace/).
POD_IDENTITY_BEHAVIOR_ANNOTATION = "aadpodidentity.k8s.io/Behavior"
# Where a service finds its vault; the sample application (app/) reads it.
KEY_VAULT_URL_VARIABLE = "KEY_VAULT_URL"
# The secrets a service's identity is granted one by one (its secretScope), comma-separated:
# the sample app reads no other, since Key Vault answers 403 for any other name, existing or not.
KEY_VAULT_GRANTED_NAMES_VARIABLE = "KEY_VAULT_GRANTED_NAMES"
# Which credential DefaultAzureCredential uses (azure-identity and the other Azure SDKs).
TOKEN_CREDENTIALS_VARIABLE = "AZURE_TOKEN_CREDENTIALS"
# Rendered from the service's grants (azureAccess): the App Configuration store it reads, with
# the label its settings carry there (the stack's name), and the blob container it lists.
APP_CONFIGURATION_ENDPOINT_VARIABLE = "APP_CONFIGURATION_ENDPOINT"
APP_CONFIGURATION_LABEL_VARIABLE = "APP_CONFIGURATION_LABEL"
BLOB_CONTAINER_URL_VARIABLE = "BLOB_CONTAINER_URL"


def granted_endpoints(service: ServiceConfig, stack: str) -> list[dict[str, str]]:
    """The variables that tell the app where its granted App Configuration store and blob
    container are (Azure's public cloud endpoints: <store>.azconfig.io,
    <account>.blob.core.windows.net). The configuration allows one of each per service."""
    env = []
    readers = access_catalogue.APP_CONFIGURATION_READERS
    for store in service.granted_on(roles.APP_CONFIGURATION_STORE, readers):
        name = access_catalogue.parse_resource_id(store).names[0]
        env.append(
            {"name": APP_CONFIGURATION_ENDPOINT_VARIABLE, "value": f"https://{name}.azconfig.io"}
        )
        env.append({"name": APP_CONFIGURATION_LABEL_VARIABLE, "value": stack})
    for container in service.granted_on(roles.BLOB_CONTAINER, access_catalogue.BLOB_READERS):
        account, _, name = access_catalogue.parse_resource_id(container).names
        url = f"https://{account}.blob.core.windows.net/{name}"
        env.append({"name": BLOB_CONTAINER_URL_VARIABLE, "value": url})
    return env


DEFAULT_RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}
# A fixed non-root user: runAsNonRoot alone cannot be verified for images that name a user.
NON_ROOT_ID = 10001


def as_input(part: dict[str, Any]) -> Any:
    """A manifest part as a Kubernetes SDK input.

    The SDK's typed dicts spell fields in snake_case; a camelCase manifest passes through to
    the API server unchanged (the recorded-graph tests check the rendered objects).
    """
    return part


def labels(service: ServiceConfig) -> dict[str, str]:
    return {
        NAME_LABEL: service.name,
        "app.kubernetes.io/part-of": "secretless-aks",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def namespace(name: str) -> dict[str, Any]:
    """A service namespace, held to the `restricted` Pod Security Standard: the API server
    refuses a pod that could run as root, escalate, or reach the node."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "pulumi", **POD_SECURITY_LABELS},
        },
    }


def deny_ingress(namespace_name: str) -> dict[str, Any]:
    """No pod in the namespace accepts traffic unless a policy admits it. Egress stays open:
    pods must reach Entra ID and Key Vault."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "deny-ingress",
            "namespace": namespace_name,
            "labels": {"app.kubernetes.io/managed-by": "pulumi"},
        },
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def allow_ingress(service: ServiceConfig) -> dict[str, Any]:
    """The service's port, open to pods in its own namespace and in `allowIngressFrom`."""
    assert service.port is not None, "only a service with a port admits traffic"
    sources: list[dict[str, Any]] = [{"podSelector": {}}]
    sources += [
        {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: other}}}
        for other in service.allow_ingress_from
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": f"{service.name}-ingress",
            "namespace": service.namespace,
            "labels": labels(service),
        },
        "spec": {
            "podSelector": {"matchLabels": {NAME_LABEL: service.name}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": sources, "ports": [{"protocol": "TCP", "port": service.port}]}],
        },
    }


def service_account(
    service: ServiceConfig, client_id: pulumi.Input[str], tenant_id: pulumi.Input[str]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": service.service_account,
        "namespace": service.namespace,
        "labels": labels(service),
    }
    if service.uses_workload_identity:
        metadata["annotations"] = {CLIENT_ID_ANNOTATION: client_id, TENANT_ID_ANNOTATION: tenant_id}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        # Neither binding needs the Kubernetes API token: workload identity projects its own.
        "automountServiceAccountToken": False,
    }


def azure_identity_name(service: ServiceConfig) -> str:
    return f"{service.name}-identity"


def azure_identity(
    service: ServiceConfig, resource_id: pulumi.Input[str], client_id: pulumi.Input[str]
) -> dict[str, Any]:
    return {
        "apiVersion": AAD_POD_IDENTITY_API_VERSION,
        "kind": "AzureIdentity",
        "metadata": {
            "name": azure_identity_name(service),
            "namespace": service.namespace,
            "labels": labels(service),
            "annotations": {POD_IDENTITY_BEHAVIOR_ANNOTATION: "namespaced"},
        },
        "spec": {
            "type": USER_ASSIGNED_MANAGED_IDENTITY,
            "resourceID": resource_id,
            "clientID": client_id,
        },
    }


def azure_identity_binding(service: ServiceConfig) -> dict[str, Any]:
    return {
        "apiVersion": AAD_POD_IDENTITY_API_VERSION,
        "kind": "AzureIdentityBinding",
        "metadata": {
            "name": f"{service.name}-binding",
            "namespace": service.namespace,
            "labels": labels(service),
        },
        "spec": {"azureIdentity": azure_identity_name(service), "selector": service.name},
    }


def pod_labels(service: ServiceConfig) -> dict[str, str]:
    """The pod template's labels: the service's, and one per binding it uses."""
    return labels(service) | binding_labels(service)


def binding_labels(service: ServiceConfig) -> dict[str, str]:
    """What gives a pod the service's identity: one label per binding it uses."""
    bound = {}
    if service.uses_workload_identity:
        bound[WORKLOAD_IDENTITY_USE_LABEL] = "true"
    if service.uses_pod_identity:
        bound[POD_IDENTITY_SELECTOR_LABEL] = service.name
    return bound


def probes(config: ProbesConfig) -> dict[str, Any]:
    """Startup and readiness on the readiness path, liveness on the liveness path, on the
    container's `http` port. The startup probe allows the whole startup budget (liveness and
    readiness begin only after it succeeds), so a slow start is never restarted mid-way."""

    def on(path: str, failure_threshold: int) -> dict[str, Any]:
        return {
            "httpGet": {"path": path, "port": "http"},
            "periodSeconds": config.period_seconds,
            "failureThreshold": failure_threshold,
        }

    startup_failures = math.ceil(config.startup_budget_seconds / config.period_seconds)
    return {
        "startupProbe": on(config.readiness_path, startup_failures),
        "readinessProbe": on(config.readiness_path, config.failure_threshold),
        "livenessProbe": on(config.liveness_path, config.failure_threshold),
    }


def deployment(
    service: ServiceConfig, key_vault_url: pulumi.Input[str], stack: str
) -> dict[str, Any]:
    """The service's pods. A service with a Key Vault role is told its vault's URL and, when
    its role is on named secrets, which ones (neither is a secret); the identity that reads
    them comes from the binding, never from the environment."""
    assert service.image is not None, "only a service with an image has a Deployment"
    container = _locked_down_container(service.name, service.image)
    env: list[dict[str, Any]] = []
    if service.token_credentials is not None:
        # In production the SDK tries its binding's credential only, never the chain.
        env.append({"name": TOKEN_CREDENTIALS_VARIABLE, "value": service.token_credentials})
    if service.key_vault_role != "none":
        env.append({"name": KEY_VAULT_URL_VARIABLE, "value": key_vault_url})
        if service.named_secrets:
            scope = ",".join(service.named_secrets)
            env.append({"name": KEY_VAULT_GRANTED_NAMES_VARIABLE, "value": scope})
    env += granted_endpoints(service, stack)
    if env:
        container["env"] = env
    if service.port is not None:
        container["ports"] = [{"name": "http", "containerPort": service.port}]
    if service.probes is not None:
        container |= probes(service.probes)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": service.name,
            "namespace": service.namespace,
            "labels": labels(service),
        },
        "spec": {
            "replicas": service.replicas or DEFAULT_REPLICAS,
            # Selectors are immutable: binding labels stay out, so a migration between
            # bindings changes the pod template only.
            "selector": {"matchLabels": {NAME_LABEL: service.name}},
            "template": {
                "metadata": {"labels": pod_labels(service)},
                "spec": _pod_spec(service, container),
            },
        },
    }


def _locked_down_container(name: str, image: str) -> dict[str, Any]:
    """A container under the restricted Pod Security Standard, pulling `image` every start."""
    return {
        "name": name,
        "image": image,
        # The registry is asked on every start: a node's cache never serves an image the
        # pod could not pull itself, and a moved tag is noticed.
        "imagePullPolicy": "Always",
        "resources": DEFAULT_RESOURCES,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # A writable /tmp, since the root filesystem is read-only.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 (an emptyDir)
    }


def _pod_spec(service: ServiceConfig, container: dict[str, Any]) -> dict[str, Any]:
    """A pod of `service`: its ServiceAccount (and so its identity), run as non-root."""
    return {
        "serviceAccountName": service.service_account,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NON_ROOT_ID,
            "runAsGroup": NON_ROOT_ID,
            "fsGroup": NON_ROOT_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


# The verifier's Jobs: named after the service they check, gone ten minutes after they end.
VERIFY_JOB_PREFIX = "secretless-verify-"
VERIFY_JOB_TTL_SECONDS = 600


@dataclass(frozen=True)
class VerifyRun:
    """What one verifier Job checks for a service (the app's `verify` mode)."""

    image: str
    key_vault_url: str
    allowed_secret: str | None
    # Why there is no allowed read to prove (keyVaultRole none, say), or None.
    allowed_skip: str | None
    canary_secret: str | None
    # Why the denied read proves nothing for this service (vault-wide access), or None.
    canary_skip: str | None
    budget_seconds: int


def verifier_job(service: ServiceConfig, run: VerifyRun) -> dict[str, Any]:
    """A Job that runs `python -m secretless_app verify` once as `service`: its ServiceAccount,
    its binding's labels and its pinned credential, in its namespace, locked down as its
    Deployment is (restricted Pod Security)."""
    container = _locked_down_container("verify", run.image)
    container["command"] = ["python", "-m", "secretless_app", "verify"]
    variables = {
        TOKEN_CREDENTIALS_VARIABLE: service.token_credentials,
        KEY_VAULT_URL_VARIABLE: run.key_vault_url,
        "VERIFY_ALLOWED_SECRET": run.allowed_secret,
        "VERIFY_ALLOWED_SKIP": run.allowed_skip,
        "VERIFY_CANARY_SECRET": run.canary_secret,
        "VERIFY_CANARY_SKIP": run.canary_skip,
        "VERIFY_BUDGET_SECONDS": str(run.budget_seconds),
    }
    container["env"] = [{"name": k, "value": v} for k, v in variables.items() if v is not None]
    spec = _pod_spec(service, container) | {"restartPolicy": "Never"}
    # Not the service's own name label: its Service, Deployment and ingress policy select by
    # it, and would send traffic to (or count) a pod that serves none.
    job_labels = {
        NAME_LABEL: VERIFY_JOB_PREFIX.rstrip("-"),
        "app.kubernetes.io/instance": service.name,
        "app.kubernetes.io/component": "verify",
        "app.kubernetes.io/part-of": "secretless-aks",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{VERIFY_JOB_PREFIX}{service.name}"[:63].rstrip("-"),
            "namespace": service.namespace,
            "labels": job_labels,
        },
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": VERIFY_JOB_TTL_SECONDS,
            # The budget, and room for scheduling and the image pull.
            "activeDeadlineSeconds": run.budget_seconds + 300,
            "template": {
                "metadata": {"labels": job_labels | binding_labels(service)},
                "spec": spec,
            },
        },
    }


def cluster_ip_service(service: ServiceConfig) -> dict[str, Any]:
    assert service.port is not None, "only a service with a port has a Service"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service.name,
            "namespace": service.namespace,
            "labels": labels(service),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {NAME_LABEL: service.name},
            "ports": [{"name": "http", "port": service.port, "targetPort": "http"}],
        },
    }
