"""The project planned offline, as `make plan` runs it, against the platform's published
contract in sample-contract.json (and, read through a stack reference, its outputs in
sample-outputs.json): what it creates, and what it refuses."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from secretless_aks import KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_SECRETS_USER
from secretless_aks.offline.plan import main

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "sample-outputs.json"
SAMPLE_CONTRACT = PROJECT / "sample-contract.json"
PLATFORM = json.loads(SAMPLE.read_text())
STACK_FILE = yaml.safe_load((PROJECT / "Pulumi.dev.yaml").read_text())["config"]
APP = "secretless-aks-consumer:app"
CREATE_NAMESPACE = "secretless-aks-consumer:createNamespace"
PLATFORM_SOURCE = "secretless-aks-consumer:platformSource"
PLATFORM_STACK = "secretless-aks-consumer:platformStack"
PLATFORM_CONTRACT = "secretless-aks-consumer:platformContract"
# Where the platform comes from, as `make plan` is told: PLATFORM_CONTRACT or PLATFORM_OUTPUTS.
FROM_CONTRACT = ["--platform-contract", str(SAMPLE_CONTRACT)]
FROM_OUTPUTS = ["--platform-outputs", str(SAMPLE)]
USE_PLATFORM_VAULT = "secretless-aks-consumer:usePlatformVault"
SECRETS = "secretless-aks-consumer:secrets"

UNKNOWN = {"$plan": "unknown"}


def plan(
    capsys: pytest.CaptureFixture[str],
    project: Path = PROJECT,
    platform: list[str] = FROM_CONTRACT,
) -> dict[str, Any]:
    """The plan of the dev stack, as `make plan STACK=dev ARGS="--format json"` prints it."""
    argv = ["dev", "--project", str(project), *platform]
    assert main([*argv, "--format", "json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def with_config(tmp_path: Path, **changes: Any) -> Path:
    """This project with the dev stack file changed (None removes a key)."""
    for name in ("__main__.py", "Pulumi.yaml"):
        (tmp_path / name).symlink_to(PROJECT / name)
    config = {key: value for key, value in {**STACK_FILE, **changes}.items() if value is not None}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def of_type(document: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == type_]


def named(document: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in document["resources"] if r["name"] == name]
    return found


def role_of(assignment: dict[str, Any]) -> str:
    """The role's GUID. A definition id in your own subscription is marked as mocked."""
    definition = assignment["inputs"]["roleDefinitionId"]
    if isinstance(definition, dict):
        definition = definition["value"]
    return definition.rsplit("/", 1)[-1]


def test_the_app_gets_its_identity_federated_with_the_platforms_cluster(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = plan(capsys)
    (identity,) = of_type(document, "azure-native:managedidentity:UserAssignedIdentity")
    assert identity["inputs"]["resourceName"] == "id-secretless-dev-svc-invoices"
    assert identity["inputs"]["resourceGroupName"] == "rg-team-invoices-dev"
    # The team's resource group, which bootstrap made: this project creates none.
    assert not of_type(document, "azure-native:resources:ResourceGroup")
    assert identity["inputs"]["location"] == PLATFORM["location"]
    (credential,) = of_type(document, "azure-native:managedidentity:FederatedIdentityCredential")
    assert credential["inputs"]["issuer"] == PLATFORM["oidcIssuerUrl"]
    assert credential["inputs"]["subject"] == "system:serviceaccount:invoices:invoices"
    assert credential["inputs"]["audiences"] == ["api://AzureADTokenExchange"]


def test_the_app_reads_its_secret_from_a_vault_of_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = plan(capsys)
    (vault,) = of_type(document, "azure-native:keyvault:Vault")
    assert vault["inputs"]["resourceGroupName"] == "rg-team-invoices-dev"
    assert vault["inputs"]["properties"]["enableRbacAuthorization"] is True
    (secret,) = of_type(document, "azure-native:keyvault:Secret")
    assert secret["inputs"]["secretName"] == "PaymentGateway--ApiToken"
    assert secret["inputs"]["properties"]["value"]["$plan"] == "secret"
    grants = {
        role_of(assignment): assignment
        for assignment in of_type(document, "azure-native:authorization:RoleAssignment")
    }
    # The identity may read the one secret in secretScope; the deployer seeds it.
    assert set(grants) == {KEY_VAULT_SECRETS_USER.guid, KEY_VAULT_SECRETS_OFFICER.guid}
    reader = grants[KEY_VAULT_SECRETS_USER.guid]["inputs"]
    assert reader["principalType"] == "ServicePrincipal"
    assert reader["scope"] == UNKNOWN  # the seeded secret's id, known once it exists
    assert PLATFORM["keyVaultResourceId"] not in json.dumps(document)


def test_the_workload_runs_on_the_platforms_cluster_in_its_teams_namespace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = plan(capsys)
    provider = named(document, "platform-cluster")
    assert provider["inputs"]["kubeconfig"]["$plan"] == "secret"
    # The platform made the namespace for the team (appTeams); the team may not create one.
    assert PLATFORM["appTeams"]["invoices"] == ["invoices"]
    assert of_type(document, "kubernetes:core/v1:Namespace") == []
    account = named(document, "svc-invoices-service-account")
    assert account["inputs"]["metadata"]["namespace"] == "invoices"
    deployment = named(document, "svc-invoices-deployment")["inputs"]["spec"]["template"]
    assert deployment["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert deployment["spec"]["serviceAccountName"] == "invoices"
    for resource in document["resources"]:
        if resource["type"].startswith("kubernetes:"):
            assert resource["provider"] == provider["urn"], resource["urn"]


def test_create_namespace_makes_a_restricted_namespace_that_denies_ingress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = plan(capsys, with_config(tmp_path, **{CREATE_NAMESPACE: True}))
    namespace = named(document, "invoices-namespace")
    assert namespace["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    policy = named(document, "invoices-namespace-deny-ingress")
    assert policy["inputs"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    account = named(document, "svc-invoices-service-account")
    assert namespace["urn"] in account["propertyDependencies"]["metadata"]


def test_use_platform_vault_grants_each_named_secret_there_and_makes_no_vault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = with_config(tmp_path, **{USE_PLATFORM_VAULT: True, SECRETS: None})
    document = plan(capsys, project)
    assert of_type(document, "azure-native:keyvault:Vault") == []
    (grant,) = of_type(document, "azure-native:authorization:RoleAssignment")
    assert role_of(grant) == KEY_VAULT_SECRETS_USER.guid
    assert grant["inputs"]["scope"] == (
        f"{PLATFORM['keyVaultResourceId']}/secrets/PaymentGateway--ApiToken"
    )


def test_bad_config_is_one_error_naming_every_wrong_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = {"name": "invoices", "binding": "podIdentity", "imgae": "ghcr.io/contoso/x:1"}
    project = with_config(tmp_path, **{APP: app, USE_PLATFORM_VAULT: True})
    argv = ["dev", "--project", str(project), *FROM_CONTRACT]
    assert main(argv) == 1
    assert capsys.readouterr().err.splitlines()[1:] == [
        "error: invalid configuration in Pulumi.dev.yaml (5 problems):",
        "  - secretless-aks-consumer:app.binding: an application project binds its pods with "
        "workloadIdentity only: pod identity needs the platform's AAD Pod Identity release and "
        "kubelet grants",
        "  - secretless-aks-consumer:app.imgae: unknown key (did you mean 'image'?)",
        "  - secretless-aks-consumer:app.secretScope: with usePlatformVault, name the platform "
        "vault's secrets to read: the platform delegates grants on named secrets only",
        "  - secretless-aks-consumer:app.secretScope: binding podIdentity must name the secrets "
        "it reads: a pod identity can be assigned to any node (the node-wide path), so a "
        "vault-wide role would reach every secret from there",
        "  - secretless-aks-consumer:secrets: seeds the application's own vault, which "
        "usePlatformVault leaves out; drop usePlatformVault, or ask the platform team to seed "
        "the platform's vault",
    ]


def test_the_published_contract_holds_what_the_platforms_outputs_say() -> None:
    contract = json.loads(SAMPLE_CONTRACT.read_text())
    assert {name: PLATFORM[name] for name in contract} == contract
    # Only what an application project reads: not the platform's services.
    assert "services" not in contract


def test_read_through_a_stack_reference_the_plan_is_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = plan(capsys)
    project = with_config(
        tmp_path,
        **{
            PLATFORM_SOURCE: "stackReference",
            PLATFORM_STACK: "organization/secretless-aks/dev",
            PLATFORM_CONTRACT: None,
        },
    )
    referenced = plan(capsys, project, FROM_OUTPUTS)
    kinds = sorted(resource["type"] for resource in published["resources"])
    assert (
        sorted(
            r["type"]
            for r in referenced["resources"]
            if r["type"] != "pulumi:pulumi:StackReference"
        )
        == kinds
    )
    assert (
        named(referenced, "svc-invoices-service-account")["inputs"]
        == named(published, "svc-invoices-service-account")["inputs"]
    )


def test_each_source_needs_its_own_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = with_config(tmp_path, **{PLATFORM_CONTRACT: None})
    assert main(["dev", "--project", str(project), *FROM_CONTRACT]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "  - secretless-aks-consumer:platformContract: names the platform's published "
        "contract (bootstrap's teamVariables PLATFORM_CONTRACT_URL); or read the platform "
        "stack itself with platformSource: stackReference and platformStack"
    )


def test_without_a_saved_contract_the_offline_plan_says_to_give_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dev", "--project", str(PROJECT)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: the project reads the platform's published contract ("
        f"{STACK_FILE[PLATFORM_CONTRACT]}), which the offline plan does not download: give it a "
        "saved copy with --platform-contract FILE"
    )


# The team's resource group, in the subscription the offline plan signs in to (its mocks').
TEAM_GROUP = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-team-invoices-dev"
)
QUEUE = f"{TEAM_GROUP}/providers/Microsoft.ServiceBus/namespaces/sb-invoices/queues/incoming"


def test_the_app_reaches_its_teams_own_azure_resources_with_its_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    access = [{"resource": QUEUE, "role": "Azure Service Bus Data Receiver"}]
    app = {**STACK_FILE[APP], "azureAccess": access}
    document = plan(capsys, with_config(tmp_path, **{APP: app}))
    (grant,) = [
        assignment
        for assignment in of_type(document, "azure-native:authorization:RoleAssignment")
        if assignment["name"].startswith("svc-invoices-azure-service-bus-data-receiver-on-")
    ]
    # The plan names the subscription it signs in to as mocked: the queue's, here.
    assert grant["inputs"]["scope"]["value"] == QUEUE.replace(
        "11111111-2222-3333-4444-555555555555", "<mocked subscription id>"
    )
    assert role_of(grant) == "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"
    assert grant["inputs"]["principalType"] == "ServicePrincipal"


def test_a_grant_outside_the_teams_group_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = QUEUE.replace("rg-team-invoices-dev", "rg-shared")
    app = {
        **STACK_FILE[APP],
        "azureAccess": [{"resource": elsewhere, "role": "Azure Service Bus Data Receiver"}],
    }
    project = with_config(tmp_path, **{APP: app})
    assert main(["dev", "--project", str(project), *FROM_CONTRACT]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "  - secretless-aks-consumer:app.azureAccess[0].resource: is in resource group "
        "rg-shared: the team's deploy identity may grant only on its own resources, in "
        "rg-team-invoices-dev; ask the platform team for a grant elsewhere"
    )


def test_the_credential_is_pinned_only_when_the_app_opts_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def variables(document: dict[str, Any]) -> list[str]:
        pod = named(document, "svc-invoices-deployment")["inputs"]["spec"]["template"]["spec"]
        return [variable["name"] for variable in pod["containers"][0].get("env", [])]

    # An older SDK (azure-identity before 1.24) refuses a credential's name there.
    assert "AZURE_TOKEN_CREDENTIALS" not in variables(plan(capsys))
    app = {**STACK_FILE[APP], "pinCredential": True}
    pinned = plan(capsys, with_config(tmp_path, **{APP: app}))
    pod = named(pinned, "svc-invoices-deployment")["inputs"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["env"][0] == {
        "name": "AZURE_TOKEN_CREDENTIALS",
        "value": "WorkloadIdentityCredential",
    }
