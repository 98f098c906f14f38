"""Azure's and Kubernetes' limits as data: each probed at and just past its boundary, and every
name the program derives checked against them for the longest stack and service names."""

from __future__ import annotations

import pytest

from secretless_aks.components import azure_limits, roles
from secretless_aks.components.azure_limits import NameLimit
from secretless_aks.components.config import STACK_NAME_LENGTH
from secretless_aks.components.naming import (
    EnvironmentNames,
    federated_credential_name,
    federated_subject,
)
from secretless_aks.offline.harness import RecordedGraph, run_program
from tests.graph_queries import ROLE_ASSIGNMENT
from tests.stack_configs import stack_config

FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"

# (limit, shortest, longest, a name of valid length that breaks the character rule): the
# numbers are the cited ones in secretless_aks/components/azure_limits.py, repeated here so a
# change to either is a reviewed change to both.
LIMITS = [
    (azure_limits.KEY_VAULT, 3, 24, "kv--double"),
    (azure_limits.USER_ASSIGNED_IDENTITY, 3, 128, "-starts-with-hyphen"),
    (azure_limits.FEDERATED_CREDENTIAL, 3, 120, "has.dot"),
    (azure_limits.CLUSTER, 1, 63, "ends-with-hyphen-"),
    (azure_limits.DNS_PREFIX, 1, 54, "under_score"),
    (azure_limits.RESOURCE_GROUP, 1, 90, "ends-with-period."),
    (azure_limits.NODE_RESOURCE_GROUP, 1, 80, "ends-with-period."),
    (azure_limits.KEY_VAULT_SECRET, 1, 127, "Identity:Secret"),
    (azure_limits.LOCATION, 2, 64, "West Europe"),
    (azure_limits.KUBERNETES_NAMESPACE, 1, 63, "Orders"),
    (azure_limits.KUBERNETES_SERVICE_ACCOUNT, 1, 253, "orders_api"),
    (azure_limits.KUBERNETES_SERVICE, 1, 63, "1orders"),
    (azure_limits.AGENT_POOL, 1, 12, "User1"),
    (azure_limits.STORAGE_ACCOUNT, 3, 24, "st-secretless"),
    (azure_limits.BLOB_CONTAINER, 3, 63, "pulumi--state"),
]


@pytest.mark.parametrize(
    ("limit", "shortest", "longest", "bad"), LIMITS, ids=[row[0].what for row in LIMITS]
)
def test_each_limit_holds_at_its_boundaries_and_breaks_just_past_them(
    limit: NameLimit, shortest: int, longest: int, bad: str
) -> None:
    assert (limit.min_length, limit.max_length) == (shortest, longest)
    assert limit.check("a" * shortest) is None
    assert limit.check("a" * longest) is None
    assert limit.check("a" * (longest + 1)) == (
        f"{limit.what} {'a' * (longest + 1)!r} has {longest + 1} characters; "
        f"{shortest}-{longest} are allowed"
    )
    if shortest > 1:
        assert limit.check("a" * (shortest - 1)) is not None
    assert limit.check(bad) == f"{limit.what} {bad!r} must be {limit.rule}"


def test_counts_and_reserved_names_are_pinned() -> None:
    assert azure_limits.FEDERATED_CREDENTIALS_PER_IDENTITY == 20
    # DESIGN.md's list: the namespaces AKS, Kubernetes and the add-ons own.
    assert set(azure_limits.RESERVED_NAMESPACES) == {
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "default",
        "gatekeeper-system",
        "tigera-operator",
        "calico-system",
        "aks-command",
        "app-routing-system",
    }
    assert azure_limits.reserved_namespace_owner("kube-anything") is not None
    assert azure_limits.reserved_namespace_owner("kubernetes-apps") is None
    assert azure_limits.DEFAULT_SERVICE_ACCOUNT == "default"
    assert azure_limits.API_SERVER_AUTHORIZED_IP_RANGES == 200
    assert azure_limits.MAINTENANCE_WINDOW_HOURS == (4, 24)
    assert (azure_limits.AUTO_UPGRADE_SCHEDULE, azure_limits.NODE_OS_UPGRADE_SCHEDULE) == (
        "aksManagedAutoUpgradeSchedule",
        "aksManagedNodeOSUpgradeSchedule",
    )
    assert {
        "azure": {"azure"},
        "calico": {"azure", "kubenet"},
    } == azure_limits.NETWORK_POLICY_PLUGINS


LONGEST_STACK = "s" * STACK_NAME_LENGTH[1]
LONGEST_SERVICE = "s" * azure_limits.KUBERNETES_SERVICE.max_length


def test_the_longest_stack_name_is_what_the_vault_name_leaves_room_for() -> None:
    assert STACK_NAME_LENGTH == (2, 16)
    names = EnvironmentNames(LONGEST_STACK)
    assert names.key_vault_suffix_length == 4
    assert azure_limits.KEY_VAULT.check(names.key_vault("a1b2")) is None


@pytest.mark.parametrize(
    ("limit", "name"),
    [
        (azure_limits.RESOURCE_GROUP, EnvironmentNames(LONGEST_STACK).resource_group),
        (azure_limits.NODE_RESOURCE_GROUP, EnvironmentNames(LONGEST_STACK).node_resource_group),
        (azure_limits.CLUSTER, EnvironmentNames(LONGEST_STACK).cluster),
        (azure_limits.DNS_PREFIX, EnvironmentNames(LONGEST_STACK).cluster),
        (azure_limits.USER_ASSIGNED_IDENTITY, EnvironmentNames(LONGEST_STACK).identity("kubelet")),
        (
            azure_limits.USER_ASSIGNED_IDENTITY,
            EnvironmentNames(LONGEST_STACK).service_identity(LONGEST_SERVICE),
        ),
    ],
    ids=["resource-group", "node-resource-group", "cluster", "dns-prefix", "kubelet", "service"],
)
def test_every_derived_name_fits_for_the_longest_stack_and_service(
    limit: NameLimit, name: str
) -> None:
    assert limit.check(name) is None


LONGEST_NAMESPACE = "n" * azure_limits.KUBERNETES_NAMESPACE.max_length
# A DNS subdomain of 253 characters: labels of at most 63, joined by dots.
LONGEST_ACCOUNT = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


def test_federated_credential_names_are_readable_where_they_fit() -> None:
    assert federated_credential_name("orders", "orders") == "orders_orders"
    assert federated_credential_name("jobs", "orders-migrator") == "jobs_orders-migrator"
    at_the_limit = federated_credential_name(LONGEST_NAMESPACE, "x" * 56)
    assert at_the_limit == f"{LONGEST_NAMESPACE}_{'x' * 56}" and len(at_the_limit) == 120


@pytest.mark.parametrize(
    ("namespace", "account"),
    [
        (LONGEST_NAMESPACE, LONGEST_ACCOUNT),
        (LONGEST_NAMESPACE, "x" * 57),  # one character past 120 when joined
        ("orders", "api.v2"),
    ],
    ids=["longest-both", "just-too-long", "dotted-account"],
)
def test_federated_credential_names_that_cannot_be_readable_are_shortened_with_a_digest(
    namespace: str, account: str
) -> None:
    name = federated_credential_name(namespace, account)
    assert azure_limits.FEDERATED_CREDENTIAL.check(name) is None
    assert name.count("_") == 2  # a readable name has exactly one
    assert name.startswith(f"{namespace}_")
    assert name == federated_credential_name(namespace, account)  # deterministic


def test_two_subjects_never_share_a_federated_credential_name() -> None:
    pairs = [
        ("a-b", "c"),
        ("a", "b-c"),
        ("orders", "api.v2"),
        ("orders", "api-v2"),
        (LONGEST_NAMESPACE, LONGEST_ACCOUNT),
        (LONGEST_NAMESPACE, LONGEST_ACCOUNT[:-1] + "e"),
        (LONGEST_NAMESPACE, "x" * 57),
        (LONGEST_NAMESPACE, "x" * 56),
    ]
    names = [federated_credential_name(*pair) for pair in pairs]
    assert len(set(names)) == len(pairs), names
    assert federated_subject("a-b", "c") != federated_subject("a", "b-c")


@pytest.fixture(scope="module")
def long_names() -> RecordedGraph:
    """A service federated to the longest valid names and to two subjects whose naive joins
    collide (`a-b`/`c` and `a`/`b-c` both read `a-b-c`)."""
    return run_program(
        "dev",
        config=stack_config(
            services=[
                {
                    "name": LONGEST_SERVICE,
                    "namespace": LONGEST_NAMESPACE,
                    "serviceAccount": LONGEST_ACCOUNT,
                    "additionalServiceAccounts": [
                        {"namespace": "a-b", "serviceAccount": "c"},
                        {"namespace": "a", "serviceAccount": "b-c"},
                    ],
                }
            ]
        ),
    )


def test_the_program_declares_valid_unique_credentials_for_long_and_colliding_names(
    long_names: RecordedGraph,
) -> None:
    credentials = long_names.by_type(FEDERATED_CREDENTIAL)
    azure_names = [r.inputs["federatedIdentityCredentialResourceName"] for r in credentials]
    assert len(credentials) == 3
    assert len(set(azure_names)) == 3
    for name in azure_names:
        assert azure_limits.FEDERATED_CREDENTIAL.check(name) is None, name
    subjects = {r.inputs["subject"] for r in credentials}
    assert subjects == {
        f"system:serviceaccount:{LONGEST_NAMESPACE}:{LONGEST_ACCOUNT}",
        "system:serviceaccount:a-b:c",
        "system:serviceaccount:a:b-c",
    }


def test_every_role_assignment_description_fits(long_names: RecordedGraph) -> None:
    for assignment in long_names.by_type(ROLE_ASSIGNMENT):
        description = assignment.inputs["description"]
        assert len(description) <= azure_limits.ROLE_ASSIGNMENT_DESCRIPTION_MAX_LENGTH


def test_a_description_too_long_for_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="description has 257 characters; keep it to 256"):
        roles.assign_role(
            "too-long",
            role=roles.NETWORK_CONTRIBUTOR,
            scope="/subscriptions/x",
            subscription_id="x",
            principal_id="p",
            principal_type=None,
            description="d" * 257,
        )
