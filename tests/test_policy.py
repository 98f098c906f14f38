"""The policy pack's rules (policy/secretless_policy): each rule against a compliant and a
violating input, the project's own stacks against every rule, and `python -m policy.check` on
saved plans edited to break one rule at a time."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from policy.check import main as check
from policy.secretless_policy import RULES, Level, Settings, Stack, evaluate, sources
from policy.secretless_policy.key_vault import readable_secret_name
from policy.secretless_policy.kubernetes import DIGEST as PACK_DIGEST
from policy.secretless_policy.kubernetes import credential_like
from policy.secretless_policy.kubernetes import image_registry as pack_image_registry
from policy.secretless_policy.model import CI_REGISTRY_IN_PLANS
from policy.secretless_policy.sources import ADVISORY, CONFIG, INVARIANT, SOURCES
from secretless_aks.components import roles
from secretless_aks.components.config import rules as config_rules
from secretless_aks.components.config.models import image_registry, pinned_by_digest
from secretless_aks.components.secret_names import SecretNameError, validate_secret_name
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import ProgramFailedError, run_program
from secretless_aks.offline.stack_file import read_config
from tests.stack_configs import stack_config

RICH = Path("tests/stacks/Pulumi.rich.yaml")
Plan = dict[str, Any]
RULE_NAMES = {rule.name for rule in RULES}
SECRET = {"$plan": "secret"}
UNKNOWN = {"$plan": "unknown"}
OWNER = (
    "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/providers/Microsoft.Authorization/"
    "roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
)
RBAC_ADMINISTRATOR = OWNER.replace(
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
)
OPERATOR = OWNER.replace(
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "f1a07417-d97a-45cb-824c-7a7467783830"
)


def plan_of(stack: str, *, preview: bool = True) -> Plan:
    if stack == "rich":
        return to_json(run_program("rich", config=read_config(RICH), preview=preview))
    return to_json(run_program(stack, preview=preview))


def settings_of(stack: str) -> Settings:
    path = RICH if stack == "rich" else Path(f"Pulumi.{stack}.yaml")
    return Settings.from_config(read_config(path))


@pytest.fixture(scope="module")
def rich() -> Plan:
    return plan_of("rich")


# --- the project's own stacks ----------------------------------------------------------------


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
@pytest.mark.parametrize("stack", ["dev", "prod", "rich"])
def test_the_projects_stacks_break_no_mandatory_rule(stack: str, preview: bool) -> None:
    """As `pulumi preview` sees them (ids unknown) and as `pulumi up` does (ids known)."""
    violations = evaluate(
        RULES, Stack.from_plan(plan_of(stack, preview=preview)), settings_of(stack)
    )
    assert [v for v in violations if v.mandatory] == []


def test_the_advice_for_the_projects_stacks_is_what_they_chose() -> None:
    """dev leaves purge protection off; its image is the registry's, pinned by digest."""
    advice = {
        (v.rule, v.urn.rsplit("::", 1)[-1])
        for v in evaluate(RULES, Stack.from_plan(plan_of("dev")), settings_of("dev"))
    }
    assert advice == {
        ("key-vault-purge-protection-advisory", "keyvault-vault"),
    }


def test_every_rule_has_a_name_a_description_and_one_check() -> None:
    assert len(RULE_NAMES) == len(RULES)
    for rule in RULES:
        assert rule.description and rule.protects_against
        assert (rule.check_resource is None) != (rule.check_stack is None), rule.name


# --- each rule, broken one at a time ----------------------------------------------------------


def named(plan: Plan, name: str) -> dict[str, Any]:
    (entry,) = [r for r in plan["resources"] if r["name"] == name]
    return entry


def inputs(plan: Plan, name: str) -> dict[str, Any]:
    return named(plan, name)["inputs"]


def add(plan: Plan, type_: str, name: str, props: dict[str, Any], **fields: Any) -> None:
    stack_urn = plan["resources"][0]["urn"].split("::")[0]
    plan["resources"].append(
        {
            "urn": f"{stack_urn}::secretless-aks::{type_}::{name}",
            "type": type_,
            "name": name,
            "inputs": props,
            "dependencies": [],
            "propertyDependencies": {},
            **fields,
        }
    )


def urn(plan: Plan, name: str) -> str:
    return named(plan, name)["urn"]


VAULT, CLUSTER = "keyvault-vault", "cluster-aks"
SECRET_NAME = "keyvault-secret-identity--secret"
CREDENTIAL = "svc-my-great-service-federated-my-great-service_my-great-service"
ACCOUNT = "svc-my-great-service-service-account"
DEPLOYMENT = "svc-my-great-service-deployment"
ASSIGNMENT = "svc-my-great-service-key-vault-secrets-user-on-secret-identity--secret"
ASSIGNMENT_TYPE = "azure-native:authorization:RoleAssignment"
COSMOS_ASSIGNMENT_TYPE = "azure-native:cosmosdb:SqlResourceSqlRoleAssignment"
DATA_GROUP = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-shop-data"
POD_IDENTITY_OPERATOR = "svc-moving-kubelet-managed-identity-operator"
REGISTRY_TYPE = "azure-native:containerregistry:Registry"
DIGEST = "@sha256:" + "0" * 64
TAGGED = "ghcr.io/secretless-aks/secretless-app:0.1.0"


def of_type_where(plan: Plan, type_: str, text: str) -> dict[str, Any]:
    """The inputs of the first resource of `type_` whose inputs mention `text`."""
    return next(
        r["inputs"]
        for r in plan["resources"]
        if r["type"] == type_ and text in json.dumps(r["inputs"])
    )


def data_grant(plan: Plan) -> dict[str, Any]:
    """The richest stack's Storage Blob Data Reader on a blob container (billing's)."""
    return of_type_where(plan, ASSIGNMENT_TYPE, "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")


def cosmos_grant(plan: Plan) -> dict[str, Any]:
    return of_type_where(plan, COSMOS_ASSIGNMENT_TYPE, "cosmos-shop")


def container(plan: Plan) -> dict[str, Any]:
    return inputs(plan, DEPLOYMENT)["spec"]["template"]["spec"]["containers"][0]


def kubelet_operator_on(identity: str) -> Callable[[Plan], None]:
    def edit(plan: Plan) -> None:
        entry = named(plan, POD_IDENTITY_OPERATOR)
        entry["inputs"]["roleDefinitionId"] = OPERATOR
        entry["propertyDependencies"]["scope"] = [urn(plan, identity)]

    return edit


def second_credential(plan: Plan, *, chained: bool) -> None:
    first = named(plan, CREDENTIAL)
    add(
        plan,
        first["type"],
        "second-credential",
        {**first["inputs"], "subject": "system:serviceaccount:my-great-service:other"},
        dependencies=[first["urn"]] if chained else [],
        propertyDependencies=copy.deepcopy(first["propertyDependencies"]),
    )


def many_credentials(plan: Plan) -> None:
    first = named(plan, CREDENTIAL)
    previous = first["urn"]
    for index in range(20):
        add(
            plan,
            first["type"],
            f"credential-{index}",
            {**first["inputs"], "subject": f"system:serviceaccount:my-great-service:sa-{index}"},
            dependencies=[previous],
            propertyDependencies=copy.deepcopy(first["propertyDependencies"]),
        )
        previous = plan["resources"][-1]["urn"]


def literal_issuer(plan: Plan) -> None:
    entry = named(plan, CREDENTIAL)
    entry["inputs"]["issuer"] = "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/"
    entry["propertyDependencies"]["issuer"] = []


def stranger_grant(plan: Plan) -> None:
    entry = named(plan, ASSIGNMENT)
    entry["inputs"]["principalId"] = "11111111-2222-4333-8444-555555555555"
    entry["inputs"].pop("principalType")
    entry["propertyDependencies"]["principalId"] = []


Edit = Callable[[Plan], None]
# rule, how to break it, what the message says, the settings (default: the rich stack's).
# What a team group's RBAC Administrator on a platform vault's secret is held to.
TEAM_CONDITION = roles.rbac_administrator_condition(roles.TEAM_SECRETS_DELEGATION)


def team_delegation(plan: Plan) -> dict[str, Any]:
    """The inputs of a team group's RBAC Administrator on a secret (platformVaultSecrets)."""
    return next(
        entry["inputs"]
        for entry in plan["resources"]
        if entry["name"].startswith("team-payments-role-based-access-control-administrator")
    )


def delegation_widened_to(role: str) -> Edit:
    """The team's delegation with `role` beside Key Vault Secrets User in its condition."""

    def edit(plan: Plan) -> None:
        inputs = team_delegation(plan)
        inputs["condition"] = inputs["condition"].replace(
            roles.KEY_VAULT_SECRETS_USER.guid, f"{roles.KEY_VAULT_SECRETS_USER.guid}, {role}"
        )

    return edit


BROKEN: list[tuple[str, Edit, str, Settings | None]] = [
    (
        "key-vault-rbac-authorization",
        lambda p: inputs(p, VAULT)["properties"].update(enableRbacAuthorization=False),
        "set properties.enableRbacAuthorization to true",
        None,
    ),
    (
        "key-vault-no-access-policies",
        lambda p: inputs(p, VAULT)["properties"].update(
            accessPolicies=[{"objectId": "x", "permissions": {"secrets": ["get"]}}]
        ),
        "remove properties.accessPolicies",
        None,
    ),
    (
        "key-vault-no-access-policies",
        lambda p: add(p, "azure-native:keyvault:AccessPolicy", "policy", {"vaultName": "v"}),
        "remove this access policy",
        None,
    ),
    (
        "key-vault-soft-delete",
        lambda p: inputs(p, VAULT)["properties"].update(enableSoftDelete=False),
        "set properties.enableSoftDelete to true",
        None,
    ),
    (
        "key-vault-purge-protection",
        lambda p: inputs(p, VAULT)["properties"].pop("enablePurgeProtection"),
        "set properties.enablePurgeProtection to true",
        None,
    ),
    (
        "key-vault-purge-protection-advisory",
        lambda p: inputs(p, VAULT)["properties"].pop("enablePurgeProtection"),
        "set properties.enablePurgeProtection to true",
        Settings(protect=False),
    ),
    (
        "key-vault-network-restricted",
        lambda p: None,
        "set properties.publicNetworkAccess to Disabled",
        Settings(protect=True, key_vault_public_network_access="Disabled"),
    ),
    (
        "key-vault-network-restricted",
        lambda p: None,
        "set properties.networkAcls.defaultAction to Deny",
        Settings(protect=True, key_vault_allowed_ip_ranges=("203.0.113.0/24",)),
    ),
    (
        "key-vault-secret-is-secret",
        lambda p: inputs(p, SECRET_NAME)["properties"].update(value="hunter2"),
        "pass properties.value as a Pulumi secret",
        None,
    ),
    (
        "key-vault-secret-name",
        lambda p: inputs(p, SECRET_NAME).update(secretName="Identity---Secret"),
        "rename secret 'Identity---Secret'",
        None,
    ),
    (
        "aks-user-assigned-identities",
        lambda p: inputs(p, CLUSTER)["identity"].update(type="SystemAssigned"),
        "give the control plane a user-assigned identity",
        None,
    ),
    (
        "aks-user-assigned-identities",
        lambda p: inputs(p, CLUSTER).pop("identityProfile"),
        "give the kubelet a user-assigned identity",
        None,
    ),
    (
        "aks-workload-identity",
        lambda p: inputs(p, CLUSTER)["securityProfile"]["workloadIdentity"].update(enabled=False),
        "set securityProfile.workloadIdentity.enabled to true",
        None,
    ),
    (
        "aks-workload-identity",
        lambda p: inputs(p, CLUSTER).pop("oidcIssuerProfile"),
        "set oidcIssuerProfile.enabled to true",
        None,
    ),
    (
        "aks-entra-rbac",
        lambda p: inputs(p, CLUSTER)["aadProfile"].update(enableAzureRBAC=False),
        "set aadProfile.enableAzureRBAC to true",
        None,
    ),
    (
        "aks-local-accounts-disabled",
        lambda p: inputs(p, CLUSTER).update(disableLocalAccounts=False),
        "set disableLocalAccounts to true",
        None,
    ),
    (
        "aks-no-pod-identity-addon",
        lambda p: inputs(p, CLUSTER).update(podIdentityProfile={"enabled": True}),
        "remove podIdentityProfile",
        None,
    ),
    (
        "aks-network-policy",
        lambda p: inputs(p, CLUSTER)["networkProfile"].pop("networkPolicy"),
        "set networkProfile.networkPolicy",
        None,
    ),
    (
        "aks-upgrade-channel",
        lambda p: inputs(p, CLUSTER)["autoUpgradeProfile"].update(upgradeChannel="none"),
        "set autoUpgradeProfile.upgradeChannel",
        None,
    ),
    (
        "role-assignment-principal-type",
        lambda p: inputs(p, ASSIGNMENT).pop("principalType"),
        "set principalType to ServicePrincipal",
        None,
    ),
    (
        "role-assignment-below-subscription",
        lambda p: inputs(p, ASSIGNMENT).update(
            scope="/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"
        ),
        "scope the assignment to the resource it is for",
        None,
    ),
    (
        "audit-logs-kept",
        lambda p: p.update(
            resources=[r for r in p["resources"] if not r["type"].endswith("DiagnosticSetting")]
        ),
        "send AuditEvent to a Log Analytics workspace",
        None,
    ),
    (
        "pod-token-credentials-pinned",
        lambda p: container(p).update(
            env=[e for e in container(p)["env"] if e["name"] != "AZURE_TOKEN_CREDENTIALS"]
        ),
        "set env AZURE_TOKEN_CREDENTIALS to WorkloadIdentityCredential",
        None,
    ),
    (
        "data-role-on-its-resource",
        lambda p: data_grant(p).update(scope=DATA_GROUP),
        "grant this data role on the one resource it is for",
        None,
    ),
    (
        "data-role-on-its-resource",
        lambda p: data_grant(p).update(
            scope=f"{DATA_GROUP}/providers/Microsoft.ServiceBus/namespaces/sb-shop"
        ),
        "grant this data role on the one resource it is for",
        None,
    ),
    (
        "cosmos-built-in-data-role",
        lambda p: cosmos_grant(p).update(
            roleDefinitionId=f"{DATA_GROUP}/providers/Microsoft.DocumentDB/databaseAccounts/"
            "cosmos-shop/sqlRoleDefinitions/7d8a3b2e-1c4f-4e5a-9b6c-0d1e2f3a4b5c"
        ),
        "use Cosmos DB Built-in Data Reader or Contributor",
        None,
    ),
    (
        "cosmos-built-in-data-role",
        lambda p: cosmos_grant(p).update(
            scope=f"{DATA_GROUP}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-other"
        ),
        "scope the assignment to its account",
        None,
    ),
    (
        "role-assignment-forbidden-roles",
        lambda p: inputs(p, ASSIGNMENT).update(roleDefinitionId=OWNER),
        "grant a narrower built-in role than Owner",
        None,
    ),
    (
        "role-assignment-forbidden-roles",
        lambda p: inputs(p, ASSIGNMENT).update(roleDefinitionId=RBAC_ADMINISTRATOR),
        "give Role Based Access Control Administrator a condition",
        None,
    ),
    *(
        (
            "role-assignment-forbidden-roles",
            delegation_widened_to(role),
            f"hold the Role Based Access Control Administrator's condition to the roles the "
            f"platform grants: it lets its holder assign {name}",
            None,
        )
        for role, name in (
            (roles.OWNER.guid, "Owner"),
            (roles.USER_ACCESS_ADMINISTRATOR.guid, "User Access Administrator"),
            (roles.RBAC_ADMINISTRATOR.guid, "Role Based Access Control Administrator"),
        )
    ),
    (
        "role-assignment-forbidden-roles",
        lambda p: team_delegation(p).update(condition="(ActionMatches{'x'}) OR"),
        "this one cannot be read",
        None,
    ),
    (
        "role-assignment-forbidden-roles",
        lambda p: team_delegation(p).update(condition="((!(ActionMatches{'x'})))"),
        "it lets its holder assign Owner",
        None,
    ),
    (
        "key-vault-scoped-access",
        lambda p: add(p, ASSIGNMENT_TYPE, "svc-extra-key-vault-secrets-user-on-vault", {}),
        "name the secrets service extra reads in its secretScope",
        None,
    ),
    (
        "role-assignment-known-principals",
        stranger_grant,
        "1 other principal gets roles here",
        None,
    ),
    (
        "kubelet-managed-identity-operator-scope",
        kubelet_operator_on("cluster-controlplane-identity"),
        "grant the kubelet Managed Identity Operator only on identities an AzureIdentity",
        None,
    ),
    (
        "federated-credential-audience",
        lambda p: inputs(p, CREDENTIAL).update(audiences=["api://AzureADTokenExchange", "x"]),
        "set audiences to exactly [api://AzureADTokenExchange]",
        None,
    ),
    (
        "federated-credential-subject",
        lambda p: inputs(p, CREDENTIAL).update(subject="system:serviceaccount:my-great-service"),
        "set subject to system:serviceaccount:<namespace>:<service account>",
        None,
    ),
    ("federated-credential-issuer", literal_issuer, "take issuer from the stack's cluster", None),
    ("federated-credential-limit", many_credentials, "this one has 21", None),
    (
        "federated-credential-chained",
        lambda p: second_credential(p, chained=False),
        "make each federated credential on this identity depend on the previous one",
        None,
    ),
    (
        "workload-identity-service-account",
        lambda p: inputs(p, ACCOUNT)["metadata"]["annotations"].pop(
            "azure.workload.identity/client-id"
        ),
        "'my-great-service' has none",
        None,
    ),
    (
        "no-credential-env-literals",
        lambda p: container(p)["env"].append({"name": "DB_PASSWORD", "value": "hunter2"}),
        "remove env DB_PASSWORD's literal value",
        None,
    ),
    (
        "no-azure-credential-secrets",
        lambda p: add(
            p,
            "kubernetes:core/v1:Secret",
            "credentials",
            {"metadata": {"name": "azure"}, "stringData": {"AZURE_CLIENT_SECRET": SECRET}},
        ),
        "remove stringData.AZURE_CLIENT_SECRET",
        None,
    ),
    (
        "container-security-context",
        lambda p: container(p)["securityContext"].update(allowPrivilegeEscalation=True),
        "set securityContext allowPrivilegeEscalation: false",
        None,
    ),
    (
        "container-security-context",
        lambda p: inputs(p, DEPLOYMENT)["spec"]["template"]["spec"].pop("securityContext"),
        "set securityContext runAsNonRoot: true",
        None,
    ),
    (
        "image-pinned-by-digest",
        lambda p: container(p).update(image=TAGGED),
        f"pin {TAGGED} by digest",
        None,
    ),
    (
        "image-pinned-by-digest-advisory",
        lambda p: container(p).update(image=TAGGED),
        f"pin {TAGGED} by digest",
        Settings(protect=False),
    ),
    (
        "pod-images-from-known-registries",
        lambda p: container(p).update(image=f"quay.io/someone/app{DIGEST}"),
        "comes from quay.io",
        None,
    ),
    (
        "pod-images-from-known-registries",
        lambda p: container(p).update(image=f"nginx{DIGEST}"),
        "comes from docker.io",
        None,
    ),
    (
        "no-application-credentials",
        lambda p: add(p, "azuread:index/applicationPassword:ApplicationPassword", "pw", {}),
        "remove an application password",
        None,
    ),
    (
        "no-application-credentials",
        lambda p: inputs(p, "svc-moving-azure-identity")["spec"].update(type=1),
        "make this AzureIdentity a managed identity",
        None,
    ),
    (
        "no-application-credentials",
        lambda p: inputs(p, CLUSTER).update(
            servicePrincipalProfile={"clientId": "x", "secret": SECRET}
        ),
        "remove servicePrincipalProfile.secret",
        None,
    ),
    (
        "container-registry-locked-down",
        lambda p: add(p, REGISTRY_TYPE, "registry", {"adminUserEnabled": True}),
        "set adminUserEnabled to false",
        None,
    ),
    (
        "container-registry-locked-down",
        lambda p: add(p, REGISTRY_TYPE, "registry", {"anonymousPullEnabled": True}),
        "set anonymousPullEnabled to false",
        None,
    ),
]


def broken(rich: Plan, edit: Edit) -> Plan:
    plan = copy.deepcopy(rich)
    edit(plan)
    return plan


@pytest.mark.parametrize(
    ("rule", "edit", "message", "settings"),
    BROKEN,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(BROKEN)],
)
def test_each_rule_reports_what_to_change(
    rich: Plan, rule: str, edit: Edit, message: str, settings: Settings | None
) -> None:
    violations = evaluate(
        RULES, Stack.from_plan(broken(rich, edit)), settings or settings_of("rich")
    )
    found = [v for v in violations if v.rule == rule]
    assert found, f"{rule} did not fire"
    assert any(message in v.message for v in found), [v.message for v in found]
    assert "hunter2" not in "".join(v.message for v in violations)


def test_every_rule_is_broken_by_some_case() -> None:
    assert {case[0] for case in BROKEN} == RULE_NAMES


# Inputs each rule accepts that are near its violating ones.
ACCEPTED: list[tuple[str, Edit, Settings | None]] = [
    (
        "key-vault-scoped-access",
        lambda p: add(p, ASSIGNMENT_TYPE, "svc-extra-key-vault-secrets-user-on-vault", {}),
        dataclasses.replace(settings_of("rich"), vault_wide_services=frozenset({"extra"})),
    ),
    (
        "key-vault-network-restricted",
        lambda p: inputs(p, VAULT)["properties"].update(
            publicNetworkAccess="Disabled",
            networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24"}]},
        ),
        Settings(
            protect=True,
            key_vault_public_network_access="Disabled",
            key_vault_allowed_ip_ranges=("203.0.113.0/24",),
        ),
    ),
    ("key-vault-purge-protection", lambda p: None, Settings(protect=True)),
    (
        "key-vault-secret-name",
        lambda p: inputs(p, SECRET_NAME).update(secretName="Orders--Db-Password"),
        None,
    ),
    ("federated-credential-chained", lambda p: second_credential(p, chained=True), None),
    ("kubelet-managed-identity-operator-scope", kubelet_operator_on("svc-moving-identity"), None),
    (
        "role-assignment-forbidden-roles",
        lambda p: inputs(p, ASSIGNMENT).update(
            roleDefinitionId=RBAC_ADMINISTRATOR, condition=TEAM_CONDITION
        ),
        None,
    ),
    (
        "no-credential-env-literals",
        lambda p: container(p)["env"].append(
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "a", "key": "b"}}}
        ),
        None,
    ),
    # The rich stack is protected, and pins every image.
    ("image-pinned-by-digest", lambda p: None, None),
    ("image-pinned-by-digest", lambda p: container(p).update(image=TAGGED), Settings()),
    ("image-pinned-by-digest-advisory", lambda p: container(p).update(image=TAGGED), None),
    (
        "pod-images-from-known-registries",
        lambda p: container(p).update(image=f"{CI_REGISTRY_IN_PLANS}/app{DIGEST}"),
        None,
    ),
    (
        "pod-images-from-known-registries",
        lambda p: container(p).update(image=f"quay.io/someone/app{DIGEST}"),
        dataclasses.replace(
            settings_of("rich"),
            allowed_registries=settings_of("rich").allowed_registries | {"quay.io"},
        ),
    ),
    (
        "pod-images-from-known-registries",
        lambda p: container(p).update(image=f"nginx{DIGEST}"),
        Settings(registry_login_server=None),
    ),
    (
        "container-registry-locked-down",
        lambda p: add(
            p,
            REGISTRY_TYPE,
            "registry",
            {"adminUserEnabled": False, "anonymousPullEnabled": False, "sku": {"name": "Basic"}},
        ),
        None,
    ),
    (
        "role-assignment-below-subscription",
        lambda p: inputs(p, ASSIGNMENT).update(scope=UNKNOWN, roleDefinitionId=UNKNOWN),
        None,
    ),
]


@pytest.mark.parametrize(("rule", "edit", "settings"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_rules_accept_what_is_right(
    rich: Plan, rule: str, edit: Edit, settings: Settings | None
) -> None:
    violations = evaluate(
        RULES, Stack.from_plan(broken(rich, edit)), settings or settings_of("rich")
    )
    assert [v.message for v in violations if v.rule == rule] == []


@pytest.mark.parametrize(
    "name", ["Identity--Secret", "a", "Orders--Db-Password", "x" * 127, "A1--b2--C3"]
)
def test_secret_names_the_platform_accepts_the_pack_accepts(name: str) -> None:
    validate_secret_name(name)
    assert readable_secret_name(name)


@pytest.mark.parametrize(
    "name", ["", "x" * 128, "a---b", "-a", "a-", "a--", "a_b", "a.b", "Identity--"]
)
def test_secret_names_the_platform_refuses_the_pack_refuses(name: str) -> None:
    with pytest.raises(SecretNameError):
        validate_secret_name(name)
    assert not readable_secret_name(name)


@pytest.mark.parametrize(
    ("name", "looks"),
    [
        ("AZURE_CLIENT_SECRET", True),
        ("clientSecret", True),
        ("DB_PASSWORD", True),
        ("SQL_CONNECTION_STRING", True),
        ("storage-account-key", True),
        ("API_KEY", True),
        ("KEY_VAULT_URL", False),
        ("AZURE_CLIENT_ID", False),
        ("KEYCLOAK_REALM", False),
    ],
)
def test_credential_like_names(name: str, looks: bool) -> None:
    assert credential_like(name) is looks


PAYMENTS_GROUP = "2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40"
SEARCH_GROUP = "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"


def known_principal_violations(plan: Plan, settings: Settings) -> list[str]:
    return [
        v.message
        for v in evaluate(RULES, Stack.from_plan(plan), settings)
        if v.rule == "role-assignment-known-principals"
    ]


def test_team_groups_are_known_principals_because_the_stack_configures_them(rich: Plan) -> None:
    settings = settings_of("rich")
    assert settings.app_team_groups == {PAYMENTS_GROUP, SEARCH_GROUP}
    assert known_principal_violations(rich, settings) == []
    # Unconfigured, the same grants are principals nobody accounts for.
    unconfigured = Settings(protect=settings.protect)
    assert any(
        "2 other principals get roles here" in message
        for message in known_principal_violations(rich, unconfigured)
    )


def test_a_stranger_beside_the_team_groups_is_still_flagged(rich: Plan) -> None:
    messages = known_principal_violations(broken(rich, stranger_grant), settings_of("rich"))
    assert messages
    assert all(
        "the application teams' groups and deploy identities (appTeams)" in message
        for message in messages
    )
    assert all(PAYMENTS_GROUP not in message for message in messages)


def test_a_teams_conditioned_rbac_administrator_is_not_a_forbidden_role(rich: Plan) -> None:
    delegated = [
        entry
        for entry in rich["resources"]
        if entry["name"].startswith("team-payments-role-based-access-control-administrator")
    ]
    assert len(delegated) == 2
    urns = {entry["urn"] for entry in delegated}
    violations = evaluate(RULES, Stack.from_plan(rich), settings_of("rich"))
    assert [v for v in violations if v.urn in urns] == []


def test_settings_read_config_as_json_text_or_parsed() -> None:
    parsed = {
        "secretless-aks:protect": True,
        "secretless-aks:keyVault": {
            "publicNetworkAccess": "Disabled",
            "allowedIpRanges": ["1.2.3.0/24"],
        },
        "secretless-aks:appTeams": [
            {"name": "payments", "groupObjectId": PAYMENTS_GROUP.upper(), "namespaces": ["p"]}
        ],
        "secretless-aks:registry": {"id": "x", "loginServer": "contoso.azurecr.io"},
        "secretless-aks:allowedRegistries": ["ghcr.io"],
    }
    text = {key: json.dumps(value) for key, value in parsed.items()}
    expected = Settings(
        True,
        "Disabled",
        ("1.2.3.0/24",),
        frozenset({PAYMENTS_GROUP}),
        registry_login_server="contoso.azurecr.io",
        allowed_registries=frozenset({"ghcr.io"}),
    )
    assert Settings.from_config(parsed) == Settings.from_config(text) == expected
    assert Settings.from_config({}) == Settings()


def test_settings_take_a_registry_left_to_ci_as_the_plans_stand_in_and_an_empty_one_as_none() -> (
    None
):
    assert Settings.from_config({}).registry_login_server == CI_REGISTRY_IN_PLANS
    assert Settings.from_config({"secretless-aks:registry": {}}).registry_login_server is None
    assert Settings.from_config({"secretless-aks:registry": "{}"}).registry_login_server is None


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("nginx", "docker.io"),
        ("nginx:1.27", "docker.io"),
        ("nginx@sha256:" + "0" * 63, "docker.io"),
        ("nginx@sha256:" + "A" * 64, "docker.io"),
        ("library/nginx@sha256:" + "0" * 64, "docker.io"),
        ("docker.io/library/nginx:1.27", "docker.io"),
        ("ghcr.io/contoso/app:1.2.3", "ghcr.io"),
        ("crsecretlessci.azurecr.io/app" + DIGEST, "crsecretlessci.azurecr.io"),
        ("localhost/app:1", "localhost"),
        ("localhost:5000/app:1", "localhost:5000"),
        ("registry:5000/app:1", "registry:5000"),
        (f"{CI_REGISTRY_IN_PLANS}/app{DIGEST}", "docker.io"),
    ],
)
def test_the_configuration_and_the_pack_read_an_images_registry_and_digest_alike(
    image: str, registry: str
) -> None:
    assert image_registry(image) == pack_image_registry(image) == registry
    assert pinned_by_digest(image) == bool(PACK_DIGEST.search(image))


# --- python -m policy.check on saved plans ---------------------------------------------------


def saved(tmp_path: Path, plan: Plan) -> str:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return str(path)


MANDATORY = {rule.name for rule in RULES if rule.level is Level.MANDATORY}


def test_check_passes_the_unedited_plan(
    tmp_path: Path, rich: Plan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check([saved(tmp_path, rich), "--stack-file", str(RICH)]) == 0
    # The rich stack is protected and pins every image, so even no advice.
    assert f"all {len(RULES)} rules pass" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("rule", "edit", "settings"),
    [(rule, edit, s) for rule, edit, _, s in BROKEN if rule in MANDATORY and s is None],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_check_fails_a_plan_edited_to_break_a_mandatory_rule(
    tmp_path: Path,
    rich: Plan,
    rule: str,
    edit: Edit,
    settings: Settings | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert check([saved(tmp_path, broken(rich, edit)), "--stack-file", str(RICH)]) == 1
    assert f"[mandatory]  {rule}  (" in capsys.readouterr().out


def test_check_reads_the_stack_file_for_configured_restrictions(
    tmp_path: Path, rich: Plan, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = tmp_path / "Pulumi.rich.yaml"
    stack_file.write_text(
        RICH.read_text().replace(
            "config:\n",
            "config:\n  secretless-aks:keyVault:\n    publicNetworkAccess: Disabled\n",
            1,
        )
    )
    assert check([saved(tmp_path, rich), "--stack-file", str(stack_file)]) == 1
    assert "key-vault-network-restricted" in capsys.readouterr().out


def test_check_refuses_a_file_that_is_not_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"resources": []}')
    assert check([str(path)]) == 2
    assert "not a saved plan" in capsys.readouterr().err


def test_the_policy_page_lists_every_rule_with_its_level() -> None:
    readme = (Path(__file__).parent.parent / "docs" / "policy.md").read_text()
    listed = [
        tuple(cell.strip().strip("`") for cell in line.split("|")[1:3])
        for line in readme.splitlines()
        if line.startswith("| `") and line.split("|")[2].strip() in ("mandatory", "advisory")
    ]
    assert listed == [(rule.name, rule.level.value) for rule in RULES]


# --- one source of truth: what the configuration accepts, the mandatory rules accept ---------

# A stack file that breaks each config-judged rule, if the configuration let it through.
BREAKS_BY_CONFIG: dict[str, dict[str, Any]] = {
    "image-pinned-by-digest": stack_config(
        "prod", services=[{"name": "orders", "image": "registry/orders:1.0"}]
    ),
    "pod-images-from-known-registries": stack_config(
        services=[{"name": "orders", "image": f"quay.io/contoso/orders{DIGEST}"}]
    ),
    "aks-local-accounts-disabled": stack_config(cluster={"disableLocalAccounts": False}),
    "audit-logs-kept": stack_config("prod", monitoring={"off": True}),
    "pod-token-credentials-pinned": stack_config(
        services=[{"name": "orders", "image": TAGGED, "pinCredential": False}]
    ),
    "key-vault-purge-protection": stack_config("prod", keyVault={"purgeProtection": False}),
    "federated-credential-limit": stack_config(
        services=[
            {
                "name": "orders",
                "additionalServiceAccounts": [
                    {"namespace": "jobs", "serviceAccount": f"job-{i}"} for i in range(20)
                ],
            }
        ]
    ),
}


def test_every_rule_has_one_source_and_only_advisories_are_advisory() -> None:
    assert set(SOURCES) == RULE_NAMES
    for rule in RULES:
        source = SOURCES[rule.name]
        assert (source.kind == ADVISORY) == (rule.level == Level.ADVISORY), rule.name
        if source.kind == INVARIANT:
            assert source.why, rule.name
    assert set(BREAKS_BY_CONFIG) == {name for name, s in SOURCES.items() if s.kind == CONFIG}


@pytest.mark.parametrize("rule", sorted(BREAKS_BY_CONFIG))
def test_the_configuration_refuses_what_a_config_judged_rule_forbids_in_its_words(
    rich: Plan, rule: str
) -> None:
    source = SOURCES[rule]
    with pytest.raises(ProgramFailedError) as failed:
        run_program("dev", config=BREAKS_BY_CONFIG[rule])
    problems = str(failed.value.error).splitlines()[1:]
    key = re.escape(f"secretless-aks:{source.key}").replace(r"\.", r"(\[\d+\])?\.")
    assert any(re.match(rf"  - {key}: .*{re.escape(source.words)}", p) for p in problems), problems
    # The rule says it in the same words, when a plan gets past the configuration.
    (edit, settings) = next((c[1], c[3]) for c in BROKEN if c[0] == rule)
    violations = evaluate(
        RULES, Stack.from_plan(broken(rich, edit)), settings or settings_of("rich")
    )
    assert any(source.words in v.message for v in violations if v.rule == rule)


def test_the_configuration_and_the_pack_hold_the_same_words() -> None:
    assert config_rules.LOCAL_ACCOUNTS_WORDS == sources.LOCAL_ACCOUNTS_WORDS
    assert config_rules.PURGE_PROTECTION_WORDS == sources.PURGE_PROTECTION_WORDS
    assert config_rules.FEDERATED_LIMIT_WORDS == sources.FEDERATED_LIMIT_WORDS
    assert config_rules.IMAGE_DIGEST_WORDS == sources.IMAGE_DIGEST_WORDS
    assert config_rules.KNOWN_REGISTRIES_WORDS == sources.KNOWN_REGISTRIES_WORDS
    assert config_rules.TOKEN_CREDENTIALS_WORDS == sources.TOKEN_CREDENTIALS_WORDS
    assert config_rules.MONITORING_WORDS == sources.MONITORING_WORDS


def test_the_policy_page_says_who_else_judges_each_rule() -> None:
    page = (Path(__file__).parent.parent / "docs" / "policy.md").read_text()
    for name, source in SOURCES.items():
        cell = f"config: `{source.key}`" if source.kind == CONFIG else source.kind
        (row,) = [line for line in page.splitlines() if line.startswith(f"| `{name}` |")]
        assert row.endswith(f"| {cell} |"), row


def test_a_teams_ci_identity_is_a_known_principal_because_the_stack_configures_it() -> None:
    settings = Settings.from_config(
        {
            "secretless-aks:appTeams": [
                {
                    "name": "payments",
                    "groupObjectId": PAYMENTS_GROUP,
                    "namespaces": ["payments"],
                    "deployerObjectId": "6D1E2F3A-4B5C-4D6E-8F70-8192A3B4C5D6",
                }
            ]
        }
    )
    assert settings.app_team_groups == {
        PAYMENTS_GROUP.lower(),
        "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    }
