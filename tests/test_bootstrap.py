"""The bootstrap project (bootstrap/): the state backend, the stacks' secrets key, the GitHub
deploy and preview identities with their federation and grants, its outputs and its config,
all on the graph the recording harness records, and its offline plan through the command."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretless_aks.components import azure_limits, roles
from secretless_aks.components.naming import EnvironmentNames
from secretless_aks.offline.baseline import plan_at_revision
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    MissingConfigError,
    ProgramFailedError,
    RecordedGraph,
    RecordedResource,
    read_stack_file,
    run_program,
)
from secretless_aks.offline.mocks import (
    MOCK_DEPLOYER_OBJECT_ID,
    MOCK_SUBSCRIPTION_ID,
    MOCK_TENANT_ID,
)
from secretless_aks.offline.plan import main
from secretless_bootstrap import naming
from secretless_bootstrap.config import DEFAULT_ENVIRONMENTS, BootstrapConfig
from tests.git_copies import committed_copy
from tests.graph_queries import IDENTITY, ROLE_ASSIGNMENT, grant, grants_to

BOOTSTRAP = PROJECT_DIR / "bootstrap"
EXAMPLE = read_stack_file("example", BOOTSTRAP)
SUBSCRIPTION = EXAMPLE["bootstrap:subscriptionId"]
SUBSCRIPTION_SCOPE = f"/subscriptions/{SUBSCRIPTION}"
REPOSITORY = "contoso/secretless-aks"
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
# Roles that may assign any role to anyone: no identity of the bootstrap holds them.
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
# Everything the preview identity may hold: reads, and decrypt on the stacks' key.
READ_ONLY = {
    roles.READER,
    roles.AKS_CLUSTER_USER,
    roles.AKS_RBAC_READER,
    roles.STORAGE_BLOB_DATA_READER,
    roles.KEY_VAULT_CRYPTO_USER,
}


def bootstrap(*, preview: bool = False, **changes: Any) -> RecordedGraph:
    """The example stack with `changes` (config keys without `bootstrap:`; None removes)."""
    config = dict(EXAMPLE)
    for key, value in changes.items():
        full_key = "azure-native:location" if key == "location" else f"bootstrap:{key}"
        if value is None:
            config.pop(full_key, None)
        else:
            config[full_key] = value
    return run_program("example", config=config, preview=preview, project_dir=BOOTSTRAP)


@pytest.fixture(scope="module")
def first_run() -> RecordedGraph:
    """Before any platform stack exists: the example as it is."""
    return bootstrap()


@pytest.fixture(scope="module")
def deployed() -> RecordedGraph:
    """Run again after the first `pulumi up` of both platform stacks."""
    return bootstrap(deployedStacks=["dev", "prod"])


def identity(graph: RecordedGraph, name: str) -> RecordedResource:
    return graph.named(f"{name}-identity")


def assignments_to(graph: RecordedGraph, principal: RecordedResource) -> list[RecordedResource]:
    principal_id = principal.outputs["principalId"]
    return [a for a in graph.by_type(ROLE_ASSIGNMENT) if a.inputs["principalId"] == principal_id]


def container_id(graph: RecordedGraph) -> str:
    return graph.named("state-container").outputs["id"]


def key_id(graph: RecordedGraph) -> str:
    return graph.named("state-key").outputs["id"]


# --- one subscription, one provider ---------------------------------------------------------


def test_everything_acts_in_the_configured_subscription_through_one_explicit_provider(
    first_run: RecordedGraph,
) -> None:
    (provider,) = first_run.by_type("pulumi:providers:azure-native")
    assert provider.inputs["subscriptionId"] == SUBSCRIPTION
    azure = [r for r in first_run.resources if r.type.startswith("azure-native:")]
    assert azure
    for resource in azure:
        assert resource.provider == provider.urn, resource.urn
        assert MOCK_SUBSCRIPTION_ID not in json.dumps(resource.outputs), resource.urn
    assert first_run.named("state-container").outputs["id"].startswith(f"{SUBSCRIPTION_SCOPE}/")
    for assignment in first_run.by_type(ROLE_ASSIGNMENT):
        assert assignment.inputs["roleDefinitionId"].startswith(f"{SUBSCRIPTION_SCOPE}/")
    (invoke,) = first_run.invokes
    assert invoke.token == "azure-native:authorization:getClientConfig"


@pytest.mark.parametrize(
    ("recorded", "deployed_stacks"), [("first_run", []), ("deployed", ["dev", "prod"])]
)
def test_a_preview_shows_the_role_of_every_grant_as_the_deployment_names_it(
    recorded: str, deployed_stacks: list[str], request: pytest.FixtureRequest
) -> None:
    # A reviewer sees which role each new grant gives before the scopes (new resources) exist;
    # the deployment names each in its scope's own subscription, the configured one.
    deployed: RecordedGraph = request.getfixturevalue(recorded)
    previewed = bootstrap(preview=True, deployedStacks=deployed_stacks)
    definitions = {}
    for assignment in deployed.by_type(ROLE_ASSIGNMENT):
        inputs = assignment.inputs
        role = grant(assignment).role
        assert roles.subscription_of(inputs["scope"]) == SUBSCRIPTION
        assert inputs["roleDefinitionId"] == roles.role_definition_id(SUBSCRIPTION, role)
        definitions[assignment.urn] = inputs["roleDefinitionId"]
    assert definitions
    assert {
        a.urn: a.inputs["roleDefinitionId"] for a in previewed.by_type(ROLE_ASSIGNMENT)
    } == definitions


def test_names_are_stable_derivations_that_fit_azure(first_run: RecordedGraph) -> None:
    assert first_run.named("bootstrap").inputs["resourceGroupName"] == "rg-secretless-bootstrap"
    account = first_run.named("state-account").inputs["accountName"]
    vault = first_run.named("state-vault").inputs["vaultName"]
    assert account == naming.storage_account(SUBSCRIPTION)
    assert vault == naming.key_vault(SUBSCRIPTION)
    assert azure_limits.STORAGE_ACCOUNT.check(account) is None
    assert azure_limits.KEY_VAULT.check(vault) is None
    assert azure_limits.BLOB_CONTAINER.check(naming.STATE_CONTAINER) is None
    assert naming.storage_account(SUBSCRIPTION.upper()) == account  # GUIDs ignore case
    assert naming.storage_account("11111111-2222-3333-4444-555555555555") != account
    names = {identity(first_run, n).inputs["resourceName"] for n in ("deploy-dev", "preview")}
    assert names == {"id-secretless-dev-deploy", "id-secretless-preview"}
    assert identity(first_run, "deploy-production").inputs["resourceName"] == (
        EnvironmentNames("prod").identity("deploy")
    )


# --- the state backend ------------------------------------------------------------------------


def test_the_state_account_takes_entra_id_only(first_run: RecordedGraph) -> None:
    inputs = first_run.named("state-account").inputs
    assert inputs["kind"] == "StorageV2"
    assert inputs["sku"] == {"name": "Standard_LRS"}
    assert inputs["allowSharedKeyAccess"] is False
    assert inputs["defaultToOAuthAuthentication"] is True
    assert inputs["allowBlobPublicAccess"] is False
    assert inputs["allowCrossTenantReplication"] is False
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["enableHttpsTrafficOnly"] is True


def test_every_state_file_stays_recoverable(first_run: RecordedGraph) -> None:
    service = first_run.named("state-blob-service")
    assert service.inputs["blobServicesName"] == "default"
    assert service.inputs["isVersioningEnabled"] is True
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    container = first_run.named("state-container")
    assert container.inputs["containerName"] == "pulumi-state"
    assert container.inputs["publicAccess"] == "None"
    for name in ("state-account", "state-container", "state-vault", "state-key"):
        assert first_run.named(name).protect, name


def test_the_vault_authorizes_with_rbac_and_keeps_purge_protection(
    first_run: RecordedGraph,
) -> None:
    properties = first_run.named("state-vault").inputs["properties"]
    assert properties["enableRbacAuthorization"] is True
    assert properties["accessPolicies"] == []
    assert properties["enablePurgeProtection"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["softDeleteRetentionInDays"] == 90
    assert properties["tenantId"] == MOCK_TENANT_ID


def test_the_stacks_key_encrypts_and_decrypts_only_and_waits_for_the_runners_grant(
    first_run: RecordedGraph,
) -> None:
    key = first_run.named("state-key")
    assert key.inputs["keyName"] == "pulumi-stacks"
    assert key.inputs["properties"] == {
        "kty": "RSA",
        "keySize": 3072,
        "keyOps": ["encrypt", "decrypt"],
        "attributes": {"enabled": True, "exportable": False},
    }
    officer = first_run.named("state-runner-key-vault-crypto-officer-on-vault")
    assert officer.urn in key.dependencies


def test_the_runner_may_create_the_key_and_the_stacks_and_is_looked_up_by_arm(
    first_run: RecordedGraph,
) -> None:
    vault = first_run.named("state-vault").outputs["id"]
    runner = [
        grant(a)
        for a in first_run.by_type(ROLE_ASSIGNMENT)
        if a.inputs["principalId"] == MOCK_DEPLOYER_OBJECT_ID
    ]
    assert {(g.role, g.scope, g.principal_type) for g in runner} == {
        (roles.KEY_VAULT_CRYPTO_OFFICER, vault, None),
        (roles.STORAGE_BLOB_DATA_CONTRIBUTOR, container_id(first_run), None),
    }


# --- the deploy identities ----------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "production"])
def test_a_deploy_identity_deploys_its_stack_and_nothing_more(
    first_run: RecordedGraph, environment: str
) -> None:
    deployer = identity(first_run, f"deploy-{environment}")
    assert grants_to(first_run, deployer) == {
        ("Contributor", SUBSCRIPTION_SCOPE),
        ("Role Based Access Control Administrator", SUBSCRIPTION_SCOPE),
        ("Storage Blob Data Contributor", container_id(first_run)),
        ("Key Vault Crypto User", key_id(first_run)),
    }
    for assignment in assignments_to(first_run, deployer):
        assert assignment.inputs["principalType"] == "ServicePrincipal"


@pytest.mark.parametrize("environment", ["dev", "production"])
def test_the_rbac_administrator_is_held_to_the_catalogue_by_its_condition(
    first_run: RecordedGraph, environment: str
) -> None:
    deployer = identity(first_run, f"deploy-{environment}")
    (administrator,) = [
        a for a in assignments_to(first_run, deployer) if grant(a).role == roles.RBAC_ADMINISTRATOR
    ]
    assert administrator.inputs["condition"] == roles.deploy_identity_condition(
        deployer.outputs["principalId"]
    )
    assert administrator.inputs["conditionVersion"] == "2.0"
    # No team group is listed: it may make no one an RBAC Administrator.
    assert roles.RBAC_ADMINISTRATOR.guid not in administrator.inputs["condition"]


TEAM_GROUPS = ["2B7C9E4F-1A3D-4C5E-8F6A-9B0C1D2E3F40", "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"]


def test_listed_team_groups_are_the_only_principals_it_may_make_rbac_administrators() -> None:
    graph = bootstrap(appTeamGroupObjectIds=TEAM_GROUPS)
    for environment in ("dev", "production"):
        deployer = identity(graph, f"deploy-{environment}")
        (administrator,) = [
            a for a in assignments_to(graph, deployer) if grant(a).role == roles.RBAC_ADMINISTRATOR
        ]
        assert administrator.inputs["condition"] == roles.deploy_identity_condition(
            deployer.outputs["principalId"], tuple(group.lower() for group in TEAM_GROUPS)
        )


def test_only_the_rbac_administrator_assignments_carry_a_condition(
    deployed: RecordedGraph,
) -> None:
    conditioned = [a for a in deployed.by_type(ROLE_ASSIGNMENT) if "condition" in a.inputs]
    assert {grant(a).role for a in conditioned} == {roles.RBAC_ADMINISTRATOR}
    assert len(conditioned) == 2


def test_no_identity_may_assign_any_role(deployed: RecordedGraph) -> None:
    for assignment in deployed.by_type(ROLE_ASSIGNMENT):
        role = assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        assert role not in (OWNER, USER_ACCESS_ADMINISTRATOR), assignment.urn


# --- the preview identity -----------------------------------------------------------------


def test_before_the_platform_exists_the_preview_identity_reads_state_and_decrypts(
    first_run: RecordedGraph,
) -> None:
    assert grants_to(first_run, identity(first_run, "preview")) == {
        ("Storage Blob Data Reader", container_id(first_run)),
        ("Key Vault Crypto User", key_id(first_run)),
    }


def test_once_stacks_are_deployed_the_preview_identity_reads_their_groups_and_clusters(
    deployed: RecordedGraph,
) -> None:
    expected = {
        ("Storage Blob Data Reader", container_id(deployed)),
        ("Key Vault Crypto User", key_id(deployed)),
    }
    for stack in ("dev", "prod"):
        names = EnvironmentNames(stack)
        group = f"{SUBSCRIPTION_SCOPE}/resourceGroups/{names.resource_group}"
        cluster = f"{group}/providers/Microsoft.ContainerService/managedClusters/{names.cluster}"
        expected |= {
            ("Reader", group),
            ("Reader", f"{SUBSCRIPTION_SCOPE}/resourceGroups/{names.node_resource_group}"),
            ("Azure Kubernetes Service Cluster User Role", cluster),
            ("Azure Kubernetes Service RBAC Reader", cluster),
        }
    assert grants_to(deployed, identity(deployed, "preview")) == expected


def test_the_preview_identity_holds_no_role_that_writes(deployed: RecordedGraph) -> None:
    previewer = identity(deployed, "preview")
    held = assignments_to(deployed, previewer)
    assert held
    for assignment in held:
        assert grant(assignment).role in READ_ONLY, assignment.urn
        assert assignment.inputs["principalType"] == "ServicePrincipal"


# --- federation ----------------------------------------------------------------------------


def test_each_identity_trusts_exactly_one_github_environment(first_run: RecordedGraph) -> None:
    expected = {
        "deploy-dev": "dev",
        "deploy-production": "production",
        "preview": "preview",
    }
    credentials = first_run.by_type(CREDENTIAL)
    assert len(credentials) == len(expected)
    for name, environment in expected.items():
        owner = first_run.named(name)
        (credential,) = [c for c in credentials if c.parent == owner.urn]
        assert credential.inputs["subject"] == f"repo:{REPOSITORY}:environment:{environment}"
        assert credential.inputs["issuer"] == "https://token.actions.githubusercontent.com"
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
        assert credential.inputs["federatedIdentityCredentialResourceName"] == (
            f"github-{environment}"
        )
        assert credential.inputs["resourceName"] == identity(first_run, name).inputs["resourceName"]
    subjects = {c.inputs["subject"] for c in credentials}
    assert f"repo:{REPOSITORY}:pull_request" not in subjects


def test_environments_map_to_the_stacks_they_deploy() -> None:
    graph = bootstrap(environments={"staging": "stage", "live": "prod"})
    assert {i.inputs["resourceName"] for i in graph.by_type(IDENTITY)} == {
        "id-secretless-stage-deploy",
        "id-secretless-prod-deploy",
        "id-secretless-preview",
    }
    subjects = {c.inputs["subject"].rsplit(":", 1)[-1] for c in graph.by_type(CREDENTIAL)}
    assert subjects == {"staging", "live", "preview"}
    assert set(graph.outputs["githubVariables"]) == {"staging", "live", "preview"}


# --- outputs --------------------------------------------------------------------------------


def test_the_outputs_are_each_environments_repository_variables(
    first_run: RecordedGraph,
) -> None:
    account = first_run.named("state-account").inputs["accountName"]
    vault = first_run.named("state-vault").inputs["vaultName"]
    version = first_run.named("state-key").outputs["keyUriWithVersion"].rsplit("/", 1)[-1]
    backend = f"azblob://pulumi-state?storage_account={account}"
    provider = f"azurekeyvault://{vault}.vault.azure.net/keys/pulumi-stacks/{version}"
    assert first_run.outputs["backendUrl"] == backend
    assert first_run.outputs["secretsProvider"] == provider
    variables = first_run.outputs["githubVariables"]
    assert list(variables) == ["dev", "production", "preview"]
    for environment, values in variables.items():
        owner = "preview" if environment == "preview" else f"deploy-{environment}"
        assert values == {
            "AZURE_CLIENT_ID": identity(first_run, owner).outputs["clientId"],
            "AZURE_TENANT_ID": MOCK_TENANT_ID,
            "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
            "PULUMI_BACKEND_URL": backend,
            "PULUMI_SECRETS_PROVIDER": provider,
        }
    assert not first_run.secret_outputs


def test_gh_commands_set_every_variable_in_every_environment(first_run: RecordedGraph) -> None:
    lines = first_run.outputs["ghCommands"].splitlines()
    variables = first_run.outputs["githubVariables"]
    assert [shlex.split(line) for line in lines] == [
        ["gh", "variable", "set", name, "--env", environment, "--body", value, "--repo", REPOSITORY]
        for environment, values in variables.items()
        for name, value in values.items()
    ]
    assert len(lines) == 15
    # The backend URL holds `?`, which a shell would glob: quoted.
    assert f"--body '{first_run.outputs['backendUrl']}'" in first_run.outputs["ghCommands"]


# --- configuration --------------------------------------------------------------------------


def refused(**changes: Any) -> str:
    with pytest.raises(ProgramFailedError) as failed:
        bootstrap(**changes)
    assert failed.value.graph.resources == [], "declared something before refusing"
    return str(failed.value.error)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"subscriptionId": "my-subscription"},
            "bootstrap:subscriptionId: expected a subscription id, a GUID (az account show "
            "--query id -o tsv), found 'my-subscription'",
        ),
        (
            {"location": "West Europe"},
            "azure-native:location: expected an Azure region: 2-64 lowercase letters and "
            "digits, such as westeurope (not a display name), found 'West Europe'",
        ),
        (
            {"githubRepository": "secretless-aks"},
            "bootstrap:githubRepository: expected <owner>/<repository> exactly as GitHub "
            "spells it (e.g. contoso/secretless-aks), found 'secretless-aks'",
        ),
        (
            {"githubRepository": "-contoso/secretless-aks"},
            "bootstrap:githubRepository: owner '-contoso' must be 1-39 letters, digits and "
            "single hyphens, not starting or ending with a hyphen",
        ),
        (
            {"githubRepository": "contoso/secretless aks"},
            "bootstrap:githubRepository: repository name 'secretless aks' must be 1-100 "
            "letters, digits, '.', '-' and '_' (and not '.' or '..')",
        ),
        (
            {"environments": ["dev"]},
            "bootstrap:environments: expected an object mapping each GitHub environment to "
            'the platform stack it deploys (dev: dev), found ["dev"]',
        ),
        (
            {"environments": {}},
            "bootstrap:environments: expected at least one GitHub environment to deploy from",
        ),
        (
            {"environments": {"my env": "dev"}},
            "bootstrap:environments.my env: expected a GitHub environment name of 1-113 "
            "letters, digits, '-' and '_', starting with a letter or digit, found 'my env'",
        ),
        (
            {"environments": {"dev": "Dev"}},
            "bootstrap:environments.dev: stack name 'Dev' cannot name Azure resources: use "
            "2-16 lowercase letters, digits and hyphens, starting with a letter and not "
            "ending with a hyphen",
        ),
        (
            {"environments": {"dev": "dev", "Preview": "prod"}},
            "bootstrap:environments.Preview: 'preview' is the environment of the pull-request "
            "preview job, which gets the read-only identity; deploy from another one",
        ),
        (
            {"environments": {"dev": "dev", "qa": "dev"}},
            "bootstrap:environments.qa: stack 'dev' is deployed from dev already; each "
            "platform stack has one deploy environment",
        ),
        (
            {"environments": {"dev": "dev", "DEV": "prod"}},
            "bootstrap:environments.DEV: GitHub environment names are not case-sensitive, so "
            "this is dev again",
        ),
        (
            {"environments": {"ops": "bootstrap"}},
            "bootstrap:environments.ops: stack 'bootstrap' would share the resource group "
            "rg-secretless-bootstrap with the bootstrap; choose another stack name",
        ),
        (
            {"deployedStacks": ["dev", "qa"]},
            "bootstrap:deployedStacks[1]: 'qa' is not a stack of bootstrap:environments "
            "(dev, prod)",
        ),
        ({"deployedStacks": ["dev", "dev"]}, "bootstrap:deployedStacks[1]: 'dev' is listed twice"),
        (
            {"deployedStacks": "dev"},
            "bootstrap:deployedStacks: expected a list of platform stacks, found 'dev'",
        ),
        (
            {"appTeamGroupObjectIds": ["payments"]},
            "bootstrap:appTeamGroupObjectIds[0]: expected an Entra group's object id, a GUID "
            "(az ad group show -g <group> --query id -o tsv), found 'payments'",
        ),
        (
            {"appTeamGroupObjectIds": [TEAM_GROUPS[0], TEAM_GROUPS[0].lower()]},
            "bootstrap:appTeamGroupObjectIds[1]: 2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40 is "
            "listed twice",
        ),
        (
            {"appTeamGroupObjectIds": TEAM_GROUPS[0]},
            "bootstrap:appTeamGroupObjectIds: expected a list of Entra group object ids, found "
            "'2B7C9E4F-1A3D-4C5E-8F6A-9B0C1D2E3F40'",
        ),
        ({"enviroments": {}}, "bootstrap:enviroments: unknown key (did you mean 'environments'?)"),
        (
            {"namePrefix": "x"},
            "bootstrap:namePrefix: unknown key; known keys: appTeamGroupObjectIds, "
            "deployedStacks, environments, githubRepository, subscriptionId",
        ),
        (
            {"githubRepository": {"secure": "v1:ciphertext"}},
            "bootstrap:githubRepository: holds an encrypted value, but nothing the bootstrap "
            "is configured with is secret; store it in plaintext",
        ),
    ],
)
def test_bad_config_is_refused_before_anything_is_declared(
    changes: dict[str, Any], problem: str
) -> None:
    assert refused(**changes) == (
        f"invalid configuration in Pulumi.example.yaml (1 problem):\n  - {problem}"
    )


def test_a_missing_subscription_is_refused_as_the_cli_refuses_it() -> None:
    # Pulumi.yaml declares it with no default, so the CLI stops before the program runs.
    with pytest.raises(MissingConfigError) as missing:
        bootstrap(subscriptionId=None)
    assert str(missing.value) == (
        "Stack 'example' is missing configuration value 'subscriptionId': Pulumi.yaml "
        "declares it with no default"
    )


def test_every_problem_is_reported_at_once() -> None:
    message = refused(subscriptionId="x", githubRepository="x", deployedStacks=["qa"])
    assert message.splitlines()[0] == "invalid configuration in Pulumi.example.yaml (3 problems):"
    keys = [line.split(":", 2)[1] for line in message.splitlines()[1:]]
    assert keys == ["deployedStacks[0]", "githubRepository", "subscriptionId"]


def test_the_project_file_declares_every_key_the_program_reads() -> None:
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == "bootstrap"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["backend"]["url"].startswith("file://")
    root = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["requiredPulumiVersion"] == root["requiredPulumiVersion"]
    keys = {f.alias for n, f in BootstrapConfig.model_fields.items() if n != "location"}
    assert set(project["config"]) == keys
    readme = (BOOTSTRAP / "README.md").read_text()
    for key, declaration in project["config"].items():
        assert declaration["description"], key
        assert f"| `bootstrap:{key}` |" in readme, f"bootstrap:{key} has no row in README.md"
    # Optional keys carry the program's defaults (the CLI requires a key declared without one).
    assert project["config"]["environments"]["default"] == dict(DEFAULT_ENVIRONMENTS)
    assert project["config"]["deployedStacks"]["default"] == []
    assert project["config"]["appTeamGroupObjectIds"]["default"] == []
    required = {n for n, f in BootstrapConfig.model_fields.items() if f.is_required()}
    for name, field in BootstrapConfig.model_fields.items():
        if name != "location":
            assert ("default" not in project["config"][field.alias]) == (name in required), name
    requirements = (BOOTSTRAP / "requirements.txt").read_text().splitlines()
    assert "-r ../requirements.txt" in requirements and "-e .." in requirements


# --- the offline plan ------------------------------------------------------------------------


def test_make_plan_plans_the_project_it_is_given(tmp_path: Path) -> None:
    make = ["make", "--no-print-directory", "-C", str(PROJECT_DIR), f"VENV={tmp_path}", "-n"]

    def plan(*args: str) -> str:
        return subprocess.run(
            [*make, "plan", *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]

    assert plan("STACK=example", "PROJECT=bootstrap").split() == [
        f"{tmp_path}/bin/python",
        "-m",
        "secretless_aks.offline.plan",
        "example",
        "--project",
        "bootstrap",
    ]
    assert "--project" not in plan()


def test_the_offline_plan_shows_the_bootstrap_as_pulumi_preview_would(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["example", "--project", str(BOOTSTRAP)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Plan for stack example of bootstrap")
    assert lines[lines.index("Resources:") + 1] == "    + 30 to create"
    cells = [
        [token for token in line.split() if token not in ("├─", "└─", "│")]
        for line in lines
        if line.startswith(" +   ")
    ]
    rows = {row[2]: row[3:] for row in cells}
    assert rows["state-account"] == ["create", "[protect]"]
    assert "deploy-production-role-based-access-control-administrator-on-subscription" in rows
    outputs = lines[lines.index("Outputs:") + 1 :]
    assert '    backendUrl     : "azblob://pulumi-state?storage_account=stsecretless12b9377c"' in (
        outputs
    )
    assert "            AZURE_TENANT_ID        : <mocked tenant id>" in outputs
    assert "    ghCommands     : output<string>" in outputs


def test_the_offline_plan_reports_bad_bootstrap_config_as_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "bootstrap"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "secretless_bootstrap"):
        (project / name).symlink_to(BOOTSTRAP / name)
    bad = {**EXAMPLE, "bootstrap:githubRepository": "contoso"}
    (project / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": bad}))
    assert main(["bad", "--project", str(project)]) == 1
    assert capsys.readouterr().err == (
        "error: invalid configuration in Pulumi.bad.yaml (1 problem):\n"
        "  - bootstrap:githubRepository: expected <owner>/<repository> exactly as GitHub "
        "spells it (e.g. contoso/secretless-aks), found 'contoso'\n"
    )


def test_project_must_be_a_pulumi_project(capsys: pytest.CaptureFixture[str]) -> None:
    not_a_project = PROJECT_DIR / "secretless_aks"
    with pytest.raises(SystemExit) as exited:
        main(["example", "--project", str(not_a_project)])
    assert exited.value.code == 2
    assert f"--project {not_a_project}: no Pulumi.yaml there" in capsys.readouterr().err


def test_diff_against_a_git_revision_plans_that_revisions_bootstrap(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    committed_copy(repo, ("secretless_aks/", "bootstrap/"))
    before = plan_at_revision("HEAD", "example", repo=repo / "bootstrap")
    assert before["project"] == "bootstrap"
    assert before == to_json(run_program("example", preview=True, project_dir=repo / "bootstrap"))
