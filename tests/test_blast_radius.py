"""Blast radius: a change to one service touches that service's own resources and nothing else.

Each case plans a stack before and after the change, as a pull request's preview does, and
diffs the two plans structurally (`diff_plans`): what is created, updated, replaced or deleted
must belong to the service (its component and children, and its own namespace's objects) —
never another service, the platform, the vault or the cluster. Outputs change too (the
`services` map); the diff compares resources only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from secretless_aks.offline.diff import diff_plans
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import run_program
from tests.graph_queries import DEPLOYER_SECRETS_OFFICER
from tests.stack_configs import stack_config

ORDERS = {
    "name": "orders",
    "image": "ghcr.io/contoso/orders:1.0",
    "port": 8080,
    "replicas": 2,
    "secretScope": ["Orders--DbPassword"],
}
SERVICES = [
    ORDERS,
    {
        "name": "payments",
        "binding": "both",
        "image": "ghcr.io/contoso/payments:2.0",
        "port": 80,
        "secretScope": ["Identity--Secret"],
    },
    {
        "name": "legacy",
        "binding": "podIdentity",
        "image": "ghcr.io/contoso/legacy:0.9",
        "secretScope": ["Identity--Secret"],
    },
    {
        "name": "reports",
        "namespace": "shop",
        "keyVaultRole": "secretsOfficer",
        "additionalServiceAccounts": [{"namespace": "jobs", "serviceAccount": "reports-export"}],
    },
    {"name": "billing", "namespace": "shop", "image": "ghcr.io/contoso/billing:3.2.1"},
]
SECRETS = {
    "Orders": {"DbPassword": {"secure": "v1:orders-ciphertext"}},
    "Payments": {"ApiKey": {"secure": "v1:payments-ciphertext"}},
}
ONE_MORE = {"name": "search", "image": "ghcr.io/contoso/search:1.4", "port": 9200}
ONE_MORE_ON_POD_IDENTITY = {"name": "fax", "binding": "podIdentity", "keyVaultRole": "none"}


def plan(
    services: list[dict[str, Any]], secrets: dict[str, Any] | None, **config: Any
) -> dict[str, Any]:
    # dev's generated setting left out: these tests add the first secret themselves.
    stack = stack_config(services=services, secrets=secrets, generatedSecrets=None, **config)
    return to_json(run_program("dev", config=stack, preview=True))


@pytest.fixture(scope="module")
def before() -> dict[str, Any]:
    return plan(SERVICES, SECRETS)


def touched(
    before: dict[str, Any],
    services: list[dict[str, Any]],
    secrets: dict[str, Any] | None,
    **config: Any,
) -> dict[str, str]:
    """{resource name: op} of everything the change creates, updates, replaces or deletes."""
    return {
        change.resource["name"]: change.op
        for change in diff_plans(before, plan(services, secrets, **config)).changes
    }


def own(service: str, *namespaces: str) -> Callable[[str], bool]:
    """Whether a resource name belongs to `service`: its component and its children, and the
    objects of the namespaces only it uses."""
    prefixes = (f"svc-{service}-", *(f"kubernetes-namespace-{ns}" for ns in namespaces))

    def belongs(name: str) -> bool:
        return name == f"svc-{service}" or name.startswith(prefixes)

    return belongs


def with_orders(**changes: Any) -> list[dict[str, Any]]:
    return [{**ORDERS, **changes}, *SERVICES[1:]]


def test_adding_a_service_creates_its_own_resources_only(before: dict[str, Any]) -> None:
    changes = touched(before, [*SERVICES, ONE_MORE], SECRETS)
    assert set(changes.values()) == {"create"}
    assert all(map(own("search", "search"), changes)), changes
    assert "svc-search-deployment" in changes
    assert "kubernetes-namespace-search" in changes


def test_adding_a_pod_identity_service_leaves_the_shared_release_alone(
    before: dict[str, Any],
) -> None:
    changes = touched(before, [*SERVICES, ONE_MORE_ON_POD_IDENTITY], SECRETS)
    assert set(changes.values()) == {"create"}
    assert all(map(own("fax", "fax"), changes)), changes
    assert "svc-fax-azure-identity" in changes


def test_removing_a_service_deletes_its_own_resources_only(before: dict[str, Any]) -> None:
    changes = touched(before, SERVICES[1:], SECRETS)
    assert set(changes.values()) == {"delete"}
    assert all(map(own("orders", "orders"), changes)), changes
    assert "svc-orders-identity" in changes


def test_removing_a_service_from_a_shared_namespace_keeps_the_namespace(
    before: dict[str, Any],
) -> None:
    changes = touched(before, [s for s in SERVICES if s["name"] != "billing"], SECRETS)
    assert set(changes.values()) == {"delete"}
    assert all(map(own("billing"), changes)), changes


def test_reordering_services_changes_nothing(before: dict[str, Any]) -> None:
    assert touched(before, list(reversed(SERVICES)), SECRETS) == {}


@pytest.mark.parametrize(
    "change",
    [{"image": "ghcr.io/contoso/orders:1.1"}, {"replicas": 5}],
    ids=["image", "replicas"],
)
def test_a_deployment_setting_updates_that_deployment_only(
    before: dict[str, Any], change: dict[str, Any]
) -> None:
    assert touched(before, with_orders(**change), SECRETS) == {"svc-orders-deployment": "update"}


def test_a_secret_scope_change_moves_that_services_grants_only(before: dict[str, Any]) -> None:
    changes = touched(before, with_orders(secretScope=["Payments--ApiKey"]), SECRETS)
    assert changes == {
        "svc-orders-key-vault-secrets-user-on-secret-payments--apikey": "create",
        "svc-orders-key-vault-secrets-user-on-secret-orders--dbpassword": "delete",
        # Its pods are told the new scope (KEY_VAULT_GRANTED_NAMES): a rollout of its own.
        "svc-orders-deployment": "update",
    }


def test_adding_a_secret_creates_that_secret_only(before: dict[str, Any]) -> None:
    secrets = {**SECRETS, "Reports": {"Token": {"secure": "v1:reports-ciphertext"}}}
    assert touched(before, SERVICES, secrets) == {"keyvault-secret-reports--token": "create"}


def test_the_first_secret_also_grants_the_deployer_the_right_to_seed_it() -> None:
    """The one shared resource a secret adds: while the stack seeds secrets, the identity
    running `pulumi up` holds Secrets Officer on the vault (azure-native deletes secrets through
    the data plane). A vault the stack creates holds the verifier's canary from the start, so
    this is seen on an existing vault, which gets none."""
    services = [s for s in SERVICES if "secretScope" not in s]
    secrets = {"Reports": {"Token": {"secure": "v1:reports-ciphertext"}}}
    vault = {"keyVault": {"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}}}
    assert touched(plan(services, None, **vault), services, secrets, **vault) == {
        DEPLOYER_SECRETS_OFFICER: "create",
        "keyvault-secret-reports--token": "create",
    }


def test_seeding_a_secret_a_service_scopes_already_touches_that_services_grant_only() -> None:
    """The grant's scope then comes from the new secret, whose id a preview cannot know: the
    preview shows the grant replaced (RoleAssignment scope forces a replacement), and
    `pulumi up`, which creates the grant after the secret, finds the same id and leaves it."""
    services = [*SERVICES, {"name": "late", "secretScope": ["Late--Key"]}]
    secrets = {**SECRETS, "Late": {"Key": {"secure": "v1:late-ciphertext"}}}
    assert touched(plan(services, SECRETS), services, secrets) == {
        "keyvault-secret-late--key": "create",
        "svc-late-key-vault-secrets-user-on-secret-late--key": "replace",
        # The published contract lists that grant (serviceGrants): unknown in a preview too,
        # the same document once `pulumi up` knows the secret's id.
        "contract": "update",
    }
