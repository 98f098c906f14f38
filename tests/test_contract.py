"""The stack outputs contract: exports, README table and reader are one source of truth, and the
consumer example runs against a platform stack's real (recorded) outputs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import platform_contract
from offline.harness import PROJECT_DIR, ProgramFailedError, RecordedGraph, run_program
from offline.mocks import AzureMocks, ReferencedStack
from tests.graph_queries import IDENTITY, ROLE_ASSIGNMENT, grants_to
from tests.stack_configs import stack_config

CONSUMER = PROJECT_DIR / "examples" / "consumer"
PLATFORM_STACK = "organization/secretless-aks/dev"
SECRET = {"secure": "v1:AAAA"}
STACK_CONFIGS = {
    "dev": stack_config(),
    "prod": stack_config("prod"),
    "existing-vault-three-services": stack_config(
        keyVault={"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}},
        services=[
            {"name": "orders", "secretScope": ["Orders--Db"]},
            {"name": "payments", "binding": "both"},
            {"name": "legacy", "binding": "podIdentity"},
        ],
    ),
    "seeded-secrets": stack_config(secrets={"Identity": {"Secret": SECRET}}),
}


def _shape_holds(spec: platform_contract.OutputSpec, value: Any) -> bool:
    if spec.shape == "string":
        return isinstance(value, str) and value != ""
    if spec.shape == "integer":
        return isinstance(value, int)
    if spec.shape == "object":
        return isinstance(value, dict) and set(value) == set(spec.fields)
    return isinstance(value, dict) and all(
        isinstance(entry, dict) and set(entry) == set(spec.fields) for entry in value.values()
    )


@pytest.mark.parametrize("name", STACK_CONFIGS)
def test_exports_match_the_contract_in_names_shapes_and_secrecy(name: str) -> None:
    graph = run_program("prod" if name == "prod" else "dev", config=STACK_CONFIGS[name])
    assert tuple(graph.outputs) == platform_contract.OUTPUT_NAMES
    for spec in platform_contract.OUTPUTS:
        assert _shape_holds(spec, graph.outputs[spec.name]), (spec.name, graph.outputs[spec.name])
    assert graph.secret_outputs == {s.name for s in platform_contract.OUTPUTS if s.secret}
    assert graph.outputs["contractVersion"] == platform_contract.CONTRACT_VERSION


def test_services_output_lists_every_configured_service() -> None:
    graph = run_program("dev", config=STACK_CONFIGS["existing-vault-three-services"])
    assert set(graph.outputs["services"]) == {"orders", "payments", "legacy"}
    assert graph.outputs["services"]["legacy"]["binding"] == "podIdentity"


def test_readme_output_table_is_the_contract() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    table = readme.split("<!-- contract:begin -->")[1].split("<!-- contract:end -->")[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (yes|no) \| ([^|]+) \|$", table, re.MULTILINE)
    documented = [
        (name, shape.strip(), secret == "yes", text.strip()) for name, shape, secret, text in rows
    ]
    expected = [
        (
            spec.name,
            spec.shape + (" {" + ", ".join(spec.fields) + "}" if spec.fields else ""),
            spec.secret,
            spec.description,
        )
        for spec in platform_contract.OUTPUTS
    ]
    assert documented == expected


def test_export_refuses_outputs_that_drift_from_the_contract() -> None:
    with pytest.raises(platform_contract.ContractError, match=r"missing \['kubeconfig'\]"):
        platform_contract.export(
            {name: "x" for name in platform_contract.OUTPUT_NAMES if name != "kubeconfig"}
        )


@pytest.fixture(scope="module")
def platform() -> RecordedGraph:
    return run_program("dev")


def _referenced(platform: RecordedGraph, **changes: Any) -> dict[str, ReferencedStack]:
    outputs = {**platform.outputs, **changes}
    outputs = {name: value for name, value in outputs.items() if value is not None}
    return {PLATFORM_STACK: ReferencedStack(outputs, frozenset(platform.secret_outputs))}


def run_consumer(platform: RecordedGraph, **changes: Any) -> RecordedGraph:
    mocks = AzureMocks(preview=False, stack_references=_referenced(platform, **changes))
    return run_program("dev", mocks=mocks, project_dir=CONSUMER)


def test_consumer_deploys_one_more_workload_identity_application(platform: RecordedGraph) -> None:
    consumer = run_consumer(platform)
    (reference,) = consumer.by_type("pulumi:pulumi:StackReference")
    assert reference.inputs["name"] == PLATFORM_STACK
    (identity,) = consumer.by_type(IDENTITY)
    assert identity.inputs["resourceGroupName"] == "rg-invoices-dev"
    (credential,) = consumer.by_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert credential.inputs["issuer"] == platform.outputs["oidcIssuerUrl"]
    assert credential.inputs["subject"] == "system:serviceaccount:invoices:invoices"
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    vault_id = platform.outputs["keyVaultResourceId"]
    assert grants_to(consumer, identity) == {
        ("Key Vault Secrets User", f"{vault_id}/secrets/Invoices--StorageKey")
    }
    account = consumer.named("svc-invoices-service-account")
    assert (
        account.inputs["metadata"]["annotations"]["azure.workload.identity/client-id"]
        == (identity.outputs["clientId"])
    )
    deployment = consumer.named("svc-invoices-deployment")
    labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"
    assert len(consumer.by_type(ROLE_ASSIGNMENT)) == 1


def test_consumer_talks_to_the_cluster_through_the_referenced_secret_kubeconfig(
    platform: RecordedGraph,
) -> None:
    consumer = run_consumer(platform)
    provider = consumer.named("platform-cluster")
    kubeconfig = provider.inputs["kubeconfig"]
    assert type(kubeconfig).__name__ == "Secret", "the kubeconfig must stay secret"
    assert kubeconfig.value == platform.outputs["kubeconfig"]
    for resource in consumer.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider == provider.urn, resource.urn


def test_consumer_fails_clearly_when_an_output_is_missing(platform: RecordedGraph) -> None:
    with pytest.raises(ProgramFailedError) as failure:
        run_consumer(platform, oidcIssuerUrl=None)
    assert (
        f"stack {PLATFORM_STACK!r} does not export 'oidcIssuerUrl', which contract version 1 "
        "requires"
    ) in str(failure.value)


def test_consumer_fails_clearly_on_another_contract_version(platform: RecordedGraph) -> None:
    with pytest.raises(ProgramFailedError) as failure:
        run_consumer(platform, contractVersion=2)
    assert (
        f"stack {PLATFORM_STACK!r} exports contract version 2; this reader understands version 1"
    ) in str(failure.value)


def test_consumer_fails_clearly_on_a_stack_that_is_no_platform(platform: RecordedGraph) -> None:
    with pytest.raises(ProgramFailedError) as failure:
        run_consumer(platform, contractVersion=None)
    assert "exports no contractVersion: it is not a secretless-aks platform stack" in str(
        failure.value
    )


def test_consumer_project_declares_its_config() -> None:
    import yaml

    project = yaml.safe_load((CONSUMER / "Pulumi.yaml").read_text())
    assert set(project["config"]) == {"platformStack", "app"}
    assert Path(CONSUMER / "requirements.txt").read_text().count("-r ../../requirements.txt") == 1
