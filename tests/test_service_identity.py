"""Per-service identities and their least-privilege Key Vault roles."""

from __future__ import annotations

import pytest

from secretless_aks.offline.harness import RecordedGraph, run_program
from secretless_aks.offline.mocks import MOCK_SUBSCRIPTION_ID
from tests.graph_queries import (
    DEPLOYER_CLUSTER_ADMIN,
    DEPLOYER_SECRETS_OFFICER,
    IDENTITY,
    ROLE_ASSIGNMENT,
    grants_to,
)
from tests.stack_configs import stack_config

SHARED_VAULT_ID = (
    f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-shared-secrets/providers/"
    "Microsoft.KeyVault/vaults/kv-shared-platform"
)
THREE_SERVICES = [
    {"name": "orders", "secretScope": ["Orders--DbPassword", "Shared--ApiKey"]},
    {"name": "payments", "keyVaultRole": "secretsOfficer", "namespace": "money"},
    {"name": "reports", "keyVaultRole": "none", "serviceAccount": "reports-reader"},
]


@pytest.fixture(scope="module")
def three_services() -> RecordedGraph:
    """The reference setup: an existing vault, and three services with different needs."""
    return run_program(
        "dev",
        config=stack_config(
            keyVault={
                "existing": {"name": "kv-shared-platform", "resourceGroup": "rg-shared-secrets"}
            },
            services=THREE_SERVICES,
        ),
    )


def test_each_service_gets_its_own_identity(three_services: RecordedGraph) -> None:
    identities = {
        r.inputs["resourceName"]: r
        for r in three_services.by_type(IDENTITY)
        if r.name.startswith("svc-")
    }
    assert set(identities) == {
        "id-secretless-dev-svc-orders",
        "id-secretless-dev-svc-payments",
        "id-secretless-dev-svc-reports",
    }
    for service in ("orders", "payments", "reports"):
        component = three_services.named(f"svc-{service}")
        assert component.type == "secretless-aks:service:ServiceIdentity"
        assert three_services.named(f"svc-{service}-identity").parent == component.urn


def test_secret_scope_grants_secrets_user_on_each_named_secret_only(
    three_services: RecordedGraph,
) -> None:
    orders = three_services.named("svc-orders-identity")
    assert grants_to(three_services, orders) == {
        ("Key Vault Secrets User", f"{SHARED_VAULT_ID}/secrets/Orders--DbPassword"),
        ("Key Vault Secrets User", f"{SHARED_VAULT_ID}/secrets/Shared--ApiKey"),
    }


def test_officer_role_is_granted_at_vault_scope(three_services: RecordedGraph) -> None:
    payments = three_services.named("svc-payments-identity")
    assert grants_to(three_services, payments) == {("Key Vault Secrets Officer", SHARED_VAULT_ID)}


def test_role_none_grants_nothing(three_services: RecordedGraph) -> None:
    reports = three_services.named("svc-reports-identity")
    assert grants_to(three_services, reports) == set()


def test_exactly_the_expected_assignments_exist(three_services: RecordedGraph) -> None:
    names = sorted(r.name for r in three_services.by_type(ROLE_ASSIGNMENT))
    assert names == [
        "cluster-controlplane-managed-identity-operator-on-kubelet-identity",
        "cluster-controlplane-network-contributor-on-node-subnet",
        DEPLOYER_SECRETS_OFFICER,  # dev seeds its generated setting
        DEPLOYER_CLUSTER_ADMIN,
        "registry-kubelet-acrpull",
        "svc-orders-key-vault-secrets-user-on-secret-orders--dbpassword",
        "svc-orders-key-vault-secrets-user-on-secret-shared--apikey",
        "svc-payments-key-vault-secrets-officer-on-vault",
    ]
    for assignment in three_services.by_type(ROLE_ASSIGNMENT):
        if assignment.name not in (DEPLOYER_CLUSTER_ADMIN, DEPLOYER_SECRETS_OFFICER):
            assert assignment.inputs["principalType"] == "ServicePrincipal", assignment.name


def test_default_role_is_secrets_user_on_the_created_vault() -> None:
    graph = run_program("dev", config=stack_config(services=[{"name": "orders"}]))
    vault = graph.by_type("azure-native:keyvault:Vault")[0]
    orders = graph.named("svc-orders-identity")
    assert grants_to(graph, orders) == {("Key Vault Secrets User", vault.outputs["id"])}


def test_services_output_describes_each_identity_and_binding(three_services: RecordedGraph) -> None:
    payments = three_services.named("svc-payments-identity")
    assert three_services.outputs["services"]["payments"] == {
        "clientId": payments.outputs["clientId"],
        "principalId": payments.outputs["principalId"],
        "identityResourceId": payments.outputs["id"],
        "namespace": "money",
        "serviceAccount": "payments",
        "binding": "workloadIdentity",
    }
    assert three_services.outputs["services"]["reports"]["serviceAccount"] == "reports-reader"


def test_service_identities_are_protected_in_prod() -> None:
    graph = run_program("prod", config=stack_config("prod", services=[{"name": "orders"}]))
    assert graph.named("svc-orders-identity").protect
