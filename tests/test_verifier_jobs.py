"""The verifier's Job for a service (`python -m secretless_app verify` once, as that service):
rendered under the service's own ServiceAccount, binding and pinned credential, and as locked
down as its Deployment, valid against Kubernetes' schema and the restricted Pod Security
Standard, for each binding."""

from __future__ import annotations

import kubernetes_validate
import pytest

from secretless_aks.components import manifests
from secretless_aks.components.config import ServiceConfig
from tests.pod_security import restricted_violations

RUN = manifests.VerifyRun(
    image="crsecretlessci.azurecr.io/secretless-app@sha256:" + "1" * 64,
    key_vault_url="https://kv-dev-abc.vault.azure.net/",
    allowed_secret="Identity--Secret",
    allowed_skip=None,
    canary_secret="secretless-verify--canary",
    canary_skip=None,
    budget_seconds=900,
)
# The Kubernetes version the manifests are validated against: prod's (Pulumi.prod.yaml).
KUBERNETES_VERSION = "1.35"


def job_of(binding: str, run: manifests.VerifyRun = RUN) -> dict:
    service = ServiceConfig.model_validate(
        {"name": "orders", "namespace": "shop", "binding": binding}
    )
    return manifests.verifier_job(service, run)


@pytest.mark.parametrize(
    ("binding", "labels", "credential"),
    [
        ("workloadIdentity", {"azure.workload.identity/use": "true"}, "WorkloadIdentityCredential"),
        ("podIdentity", {"aadpodidbinding": "orders"}, "ManagedIdentityCredential"),
        (
            "both",
            {"azure.workload.identity/use": "true", "aadpodidbinding": "orders"},
            "prod",
        ),
    ],
)
def test_the_job_runs_as_the_service_with_its_binding_and_credential(
    binding: str, labels: dict[str, str], credential: str
) -> None:
    job = job_of(binding)
    metadata = job["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("secretless-verify-orders", "shop")
    assert metadata["labels"]["app.kubernetes.io/component"] == "verify"
    assert metadata["labels"]["app.kubernetes.io/instance"] == "orders"
    template = job["spec"]["template"]
    assert template["metadata"]["labels"] == metadata["labels"] | labels
    pod = template["spec"]
    assert pod["serviceAccountName"] == "orders" and pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "secretless_app", "verify"]
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env == {
        "AZURE_TOKEN_CREDENTIALS": credential,
        "KEY_VAULT_URL": RUN.key_vault_url,
        "VERIFY_ALLOWED_SECRET": "Identity--Secret",
        "VERIFY_CANARY_SECRET": "secretless-verify--canary",
        "VERIFY_BUDGET_SECONDS": "900",
    }
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] > RUN.budget_seconds
    assert restricted_violations(pod) == []
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)


def test_a_vault_wide_service_says_why_the_denied_read_is_skipped() -> None:
    run = manifests.VerifyRun(**{**RUN.__dict__, "canary_skip": "vault-wide access"})
    (container,) = job_of("workloadIdentity", run)["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    assert env["VERIFY_CANARY_SKIP"] == "vault-wide access"


def test_the_jobs_pod_is_not_one_of_the_services_pods() -> None:
    """The Service, the Deployment and the ingress policy select the service's pods by its name
    label: a verifier pod among them would get traffic it does not serve."""
    service = ServiceConfig.model_validate(
        {"name": "orders", "namespace": "shop", "port": 8080, "image": RUN.image}
    )
    pod = manifests.verifier_job(service, RUN)["spec"]["template"]["metadata"]["labels"]
    deployment = manifests.deployment(service, RUN.key_vault_url, "dev")
    selectors = [
        deployment["spec"]["selector"]["matchLabels"],
        manifests.cluster_ip_service(service)["spec"]["selector"],
        manifests.allow_ingress(service)["spec"]["podSelector"]["matchLabels"],
    ]
    for selector in selectors:
        assert not selector.items() <= pod.items(), selector
