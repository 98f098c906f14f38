"""The CrossGuard pack (policy/__main__.py) as `pulumi preview --policy-pack policy` runs it: in
its own virtual environment, through the policy SDK's servicer, given inputs in the engine's wire
form (secrets wrapped, unknowns as sentinels) and the stack's config in PULUMI_CONFIG.

One run of tests/policy_pack_driver.py, with the pack's interpreter, answers every scenario of
this module; the rules themselves are tested in tests/test_policy.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from policy.secretless_policy import RULES, Level
from secretless_aks.offline.harness import PROJECT_DIR

PACK_PYTHON = PROJECT_DIR / "policy" / "venv" / "bin" / "python"
DRIVER = Path(__file__).with_name("policy_pack_driver.py")

# The engine's wire forms (pulumi/pulumi sdk/go/common/resource/properties.go, and
# pulumi_policy/deserialize.py and proxy.py, which read them).
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
SECRET_VALUE = "s3cr3t-value-that-must-never-show"
PLAIN_VALUE = "plain-value-that-must-never-show"

PREFIX = "urn:pulumi:dev::secretless-aks::"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
CLUSTER = "azure-native:containerservice:ManagedCluster"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"


def urn(type_: str, name: str) -> str:
    return f"{PREFIX}{type_}::{name}"


def engine_secret(value: Any) -> dict[str, Any]:
    return {SIG: SECRET_SIG, "value": value}


def analyze(type_: str, name: str, props: dict[str, Any], **config: str) -> dict[str, Any]:
    return {
        "method": "Analyze",
        "request": {"type": type_, "urn": urn(type_, name), "name": name, "properties": props},
        "config": {f"secretless-aks:{key}": value for key, value in config.items()},
    }


def stack_resource(
    type_: str, name: str, props: dict[str, Any], *, built_from: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """An AnalyzerResource; `built_from` maps an input to the URNs its value came from."""
    built_from = built_from or {}
    return {
        "type": type_,
        "urn": urn(type_, name),
        "name": name,
        "properties": props,
        "propertyDependencies": {prop: {"urns": urns} for prop, urns in built_from.items()},
        "dependencies": sorted({source for urns in built_from.values() for source in urns}),
    }


def vault(**properties: Any) -> dict[str, Any]:
    return {
        "vaultName": "kv-dev",
        "properties": {
            "enableRbacAuthorization": True,
            "enablePurgeProtection": True,
            "publicNetworkAccess": "Enabled",
        }
        | properties,
    }


def federation_stack(issuer: str | None) -> dict[str, Any]:
    """A cluster, an identity and its federated credential, whose issuer is the cluster's
    (unknown during preview, built from the cluster) or, with `issuer`, a literal."""
    built_from = {"resourceName": [urn(IDENTITY, "app")]}
    if issuer is None:
        built_from["issuer"] = [urn(CLUSTER, "aks")]
    return {
        "method": "AnalyzeStack",
        "request": {
            "resources": [
                stack_resource(CLUSTER, "aks", {"resourceName": "aks-dev"}),
                stack_resource(IDENTITY, "app", {"resourceName": "id-app"}),
                stack_resource(
                    CREDENTIAL,
                    "app-fic",
                    {
                        "resourceName": UNKNOWN_STRING,
                        "issuer": issuer or UNKNOWN_STRING,
                        "subject": "system:serviceaccount:app:app",
                        "audiences": ["api://AzureADTokenExchange"],
                    },
                    built_from=built_from,
                ),
            ]
        },
    }


# A cluster as the program declares it, whose identities' ids are unknown during a first preview.
CLUSTER_UNKNOWN_IDS = {
    "resourceName": "aks-dev",
    "identity": {"type": "UserAssigned", "userAssignedIdentities": [UNKNOWN_STRING]},
    "identityProfile": {
        "kubeletidentity": {
            "resourceId": UNKNOWN_STRING,
            "clientId": UNKNOWN_STRING,
            "objectId": UNKNOWN_STRING,
        }
    },
    "oidcIssuerProfile": {"enabled": True},
    "securityProfile": {"workloadIdentity": {"enabled": True}},
    "aadProfile": {"managed": True, "enableAzureRBAC": True, "adminGroupObjectIDs": []},
    "disableLocalAccounts": True,
    "networkProfile": {"networkPolicy": "azure"},
    "autoUpgradeProfile": {"upgradeChannel": "patch"},
    "nodeResourceGroup": UNKNOWN_OBJECT,
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "info": {"method": "GetAnalyzerInfo"},
    "vault without RBAC": analyze(VAULT, "kv", vault(enableRbacAuthorization=False)),
    "vault, open": analyze(VAULT, "kv", vault()),
    "vault, open, stack closes it": analyze(
        VAULT, "kv", vault(), keyVault=json.dumps({"publicNetworkAccess": "Disabled"})
    ),
    "vault without purge protection": analyze(VAULT, "kv", vault(enablePurgeProtection=False)),
    "vault without purge protection, protected stack": analyze(
        VAULT, "kv", vault(enablePurgeProtection=False), protect="true"
    ),
    "secret as a secret": analyze(
        SECRET,
        "api-key",
        {"secretName": "Api--Key", "properties": {"value": engine_secret(SECRET_VALUE)}},
    ),
    "secret in plain text": analyze(
        SECRET, "api-key", {"secretName": "Api--Key", "properties": {"value": PLAIN_VALUE}}
    ),
    "cluster with unknown ids": analyze(CLUSTER, "aks", CLUSTER_UNKNOWN_IDS),
    "issuer from the cluster": federation_stack(issuer=None),
    "issuer as a literal": federation_stack(issuer="https://oidc.example/tenant/issuer/"),
}


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[str, Any]]:
    if not PACK_PYTHON.exists():
        pytest.fail(
            "policy/venv is missing: run `make policy/venv/.installed` (`make test` builds it)"
        )
    environment = {key: value for key, value in os.environ.items() if key != "PULUMI_CONFIG"}
    result = subprocess.run(
        [PACK_PYTHON, DRIVER],
        input=json.dumps({"requests": list(SCENARIOS.values())}),
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(zip(SCENARIOS, json.loads(result.stdout), strict=True))


def diagnostics(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The response's diagnostics by policy name (one each in these scenarios)."""
    found: dict[str, dict[str, Any]] = {}
    for diagnostic in answer["diagnostics"]:
        assert diagnostic["policyName"] not in found, diagnostic
        found[diagnostic["policyName"]] = diagnostic
    return found


def test_the_pack_offers_every_rule_at_its_level(answers: dict[str, dict[str, Any]]) -> None:
    info = answers["info"]
    assert info["name"] == "secretless-aks"
    offered = {policy["name"]: policy for policy in info["policies"]}
    assert list(offered) == [rule.name for rule in RULES]
    for rule in RULES:
        policy = offered[rule.name]
        assert policy["description"] == rule.description
        assert policy["enforcementLevel"] == rule.level.name, rule.name
        expected = "POLICY_TYPE_STACK" if rule.check_stack else "POLICY_TYPE_RESOURCE"
        assert policy["policyType"] == expected, rule.name
    assert {policy["enforcementLevel"] for policy in offered.values()} == {
        Level.MANDATORY.name,
        Level.ADVISORY.name,
    }


def test_a_vault_without_rbac_authorization_is_a_mandatory_violation(
    answers: dict[str, dict[str, Any]],
) -> None:
    found = diagnostics(answers["vault without RBAC"])
    violation = found["key-vault-rbac-authorization"]
    assert violation["enforcementLevel"] == "MANDATORY"
    assert violation["urn"] == urn(VAULT, "kv")
    assert "set properties.enableRbacAuthorization to true" in violation["message"]
    assert "key-vault-rbac-authorization" not in diagnostics(answers["vault, open"])


def test_a_secret_value_passed_as_a_pulumi_secret_passes_and_plain_text_does_not(
    answers: dict[str, dict[str, Any]],
) -> None:
    assert "key-vault-secret-is-secret" not in diagnostics(answers["secret as a secret"])
    violation = diagnostics(answers["secret in plain text"])["key-vault-secret-is-secret"]
    assert violation["enforcementLevel"] == "MANDATORY"
    assert violation["urn"] == urn(SECRET, "api-key")


def test_no_diagnostic_ever_shows_a_secrets_value(answers: dict[str, dict[str, Any]]) -> None:
    everything = json.dumps(answers)
    assert SECRET_VALUE not in everything
    assert PLAIN_VALUE not in everything


def test_unknown_values_during_preview_do_not_skip_the_policies(
    answers: dict[str, dict[str, Any]],
) -> None:
    """The SDK alone would answer "can't run policy ... during preview" for each cluster rule
    that reads an unknown id, and check nothing else of the cluster."""
    everything = json.dumps(answers)
    assert "can't run policy" not in everything
    assert answers["cluster with unknown ids"]["diagnostics"] == []


def test_the_stacks_own_config_restricts_the_vaults_network(
    answers: dict[str, dict[str, Any]],
) -> None:
    assert "key-vault-network-restricted" not in diagnostics(answers["vault, open"])
    found = diagnostics(answers["vault, open, stack closes it"])
    violation = found["key-vault-network-restricted"]
    assert violation["enforcementLevel"] == "MANDATORY"
    assert "set properties.publicNetworkAccess to Disabled" in violation["message"]


def test_a_protected_stack_makes_purge_protection_mandatory(
    answers: dict[str, dict[str, Any]],
) -> None:
    found = diagnostics(answers["vault without purge protection"])
    assert found["key-vault-purge-protection-advisory"]["enforcementLevel"] == "ADVISORY"
    assert "key-vault-purge-protection" not in found
    found = diagnostics(answers["vault without purge protection, protected stack"])
    assert found["key-vault-purge-protection"]["enforcementLevel"] == "MANDATORY"
    assert "key-vault-purge-protection-advisory" not in found


def test_a_federated_credential_trusts_the_issuer_of_the_stacks_own_cluster(
    answers: dict[str, dict[str, Any]],
) -> None:
    assert "federated-credential-issuer" not in diagnostics(answers["issuer from the cluster"])
    violation = diagnostics(answers["issuer as a literal"])["federated-credential-issuer"]
    assert violation["enforcementLevel"] == "MANDATORY"
    assert violation["urn"] == urn(CREDENTIAL, "app-fic")
