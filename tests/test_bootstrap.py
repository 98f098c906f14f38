"""The bootstrap project (bootstrap/): a management subscription holding the state account,
the stacks vault and the CI identities; per GitHub environment a state container, a key, a
deploy identity reaching only its own subscription and a read-only preview identity; the GitHub
side; the config; the migration from the shared layout; and its offline plan."""

from __future__ import annotations

import json
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy.secretless_policy import conditions
from secretless_aks.components import azure_limits, resource_providers, roles
from secretless_aks.components.naming import EnvironmentNames
from secretless_aks.offline.baseline import plan_at_revision
from secretless_aks.offline.diff import diff_plans
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
from secretless_bootstrap import github, key_roles, naming
from secretless_bootstrap.config import MAX_CONDITION_GROUPS, BootstrapConfig
from tests.git_copies import committed_copy
from tests.graph_queries import IDENTITY, ROLE_ASSIGNMENT, grant, grants_to

BOOTSTRAP = PROJECT_DIR / "bootstrap"
EXAMPLE = read_stack_file("example", BOOTSTRAP)
MANAGEMENT = EXAMPLE["bootstrap:subscriptionId"]
MANAGEMENT_SCOPE = f"/subscriptions/{MANAGEMENT}"
ENVIRONMENTS = EXAMPLE["bootstrap:environments"]
SUBSCRIPTIONS = {name: settings["subscriptionId"] for name, settings in ENVIRONMENTS.items()}
STACKS = {name: settings["stack"] for name, settings in ENVIRONMENTS.items()}
ADMIN_GROUP = ENVIRONMENTS["production"]["adminGroupObjectIds"][0]
REPOSITORY = "contoso/secretless-aks"
IMMUTABLE = f"contoso@{EXAMPLE['bootstrap:githubOwnerId']}/secretless-aks@" + str(
    EXAMPLE["bootstrap:githubRepositoryId"]
)
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
GITHUB_ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment"
BRANCH_POLICY = (
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
)
GITHUB_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
# Roles that may assign any role to anyone, and the built-in key roles that include
# keys/update/action: no identity of the bootstrap holds them.
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
CRYPTO_ROLES = {roles.KEY_VAULT_CRYPTO_USER.guid, roles.KEY_VAULT_CRYPTO_OFFICER.guid}
DEPLOY_KEY_ROLE = naming.custom_role(MANAGEMENT, key_roles.DEPLOY.purpose)
PREVIEW_KEY_ROLE = naming.custom_role(MANAGEMENT, key_roles.PREVIEW.purpose)
TEAM_GROUPS = ["2B7C9E4F-1A3D-4C5E-8F6A-9B0C1D2E3F40", "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"]


def team_in(*environments: str, **changes: Any) -> dict[str, Any]:
    """An appTeams entry (the example's first team) deploying to `environments`."""
    team = {**EXAMPLE["bootstrap:appTeams"][0], "environments": list(environments)}
    return {**team, **changes}


def bootstrap(*, preview: bool = False, **changes: Any) -> RecordedGraph:
    """The example stack with `changes` (config keys without `bootstrap:`; None removes)."""
    return run_program(
        "example", config=configured(**changes), preview=preview, project_dir=BOOTSTRAP
    )


def configured(**changes: Any) -> dict[str, Any]:
    config = dict(EXAMPLE)
    for key, value in changes.items():
        full_key = "azure-native:location" if key == "location" else f"bootstrap:{key}"
        if value is None:
            config.pop(full_key, None)
        else:
            config[full_key] = value
    return config


def with_environment(name: str, **changes: Any) -> dict[str, Any]:
    """`environments` with `changes` to one environment's settings."""
    return {**ENVIRONMENTS, name: {**ENVIRONMENTS[name], **changes}}


@pytest.fixture(scope="module")
def first_run() -> RecordedGraph:
    """Before any platform stack exists: the example, its application teams left out
    (tests/test_bootstrap_teams.py has them)."""
    return bootstrap(appTeams=None)


@pytest.fixture(scope="module")
def deployed() -> RecordedGraph:
    """Run again after the first `pulumi up` of both platform stacks, without teams."""
    return bootstrap(deployedStacks=["dev", "prod"], appTeams=None)


def identity(graph: RecordedGraph, name: str) -> RecordedResource:
    return graph.named(f"{name}-identity")


def assignments_to(graph: RecordedGraph, principal: RecordedResource) -> list[RecordedResource]:
    principal_id = principal.outputs["principalId"]
    return [a for a in graph.by_type(ROLE_ASSIGNMENT) if a.inputs["principalId"] == principal_id]


def container_id(graph: RecordedGraph, stack: str) -> str:
    return graph.named(f"state-container-{stack}").outputs["id"]


def contract_container_id(graph: RecordedGraph, stack: str) -> str:
    return graph.named(f"state-contract-{stack}").outputs["id"]


def key_id(graph: RecordedGraph, stack: str) -> str:
    return graph.named(f"state-key-{stack}").outputs["id"]


def registry_id(graph: RecordedGraph) -> str:
    return graph.named("images-registry").outputs["id"]


def administrator_on(graph: RecordedGraph, environment: str, scope: str) -> RecordedResource:
    """The deploy identity's RBAC Administrator at `scope`."""
    (assignment,) = [
        a
        for a in assignments_to(graph, identity(graph, f"deploy-{environment}"))
        if grant(a).role == roles.RBAC_ADMINISTRATOR and a.inputs["scope"] == scope
    ]
    return assignment


def ci_identities(graph: RecordedGraph) -> list[RecordedResource]:
    return [
        identity(graph, f"{kind}-{environment}")
        for environment in ENVIRONMENTS
        for kind in ("deploy", "preview")
    ]


# --- the management subscription -------------------------------------------------------------


def test_the_bootstraps_resources_live_in_the_management_subscription_through_one_provider(
    first_run: RecordedGraph,
) -> None:
    (provider,) = first_run.by_type("pulumi:providers:azure-native")
    assert provider.inputs["subscriptionId"] == MANAGEMENT
    azure = [r for r in first_run.resources if r.type.startswith("azure-native:")]
    assert azure
    for resource in azure:
        assert resource.provider == provider.urn, resource.urn
        assert MOCK_SUBSCRIPTION_ID not in json.dumps(resource.outputs), resource.urn
        if resource.type != ROLE_ASSIGNMENT and "/subscriptions/" in resource.outputs["id"]:
            assert resource.outputs["id"].startswith(f"{MANAGEMENT_SCOPE}/"), resource.urn
    (invoke,) = first_run.invokes
    assert invoke.token == "azure-native:authorization:getClientConfig"


def test_every_grant_names_its_role_in_its_scopes_own_subscription(
    deployed: RecordedGraph,
) -> None:
    previewed = bootstrap(preview=True, deployedStacks=["dev", "prod"], appTeams=None)
    definitions = {}
    for assignment in deployed.by_type(ROLE_ASSIGNMENT):
        inputs = assignment.inputs
        subscription = roles.subscription_of(inputs["scope"])
        assert inputs["roleDefinitionId"] == roles.role_definition_id(
            subscription, grant(assignment).role
        )
        definitions[assignment.urn] = inputs["roleDefinitionId"]
    # A reviewer sees which role each new grant gives before the scopes exist.
    assert {
        a.urn: a.inputs["roleDefinitionId"] for a in previewed.by_type(ROLE_ASSIGNMENT)
    } == definitions


def test_names_are_stable_derivations_that_fit_azure(first_run: RecordedGraph) -> None:
    assert first_run.named("bootstrap").inputs["resourceGroupName"] == "rg-secretless-bootstrap"
    account = first_run.named("state-account").inputs["accountName"]
    vault = first_run.named("state-vault").inputs["vaultName"]
    assert account == naming.storage_account(MANAGEMENT)
    assert vault == naming.key_vault(MANAGEMENT)
    assert azure_limits.STORAGE_ACCOUNT.check(account) is None
    assert azure_limits.KEY_VAULT.check(vault) is None
    assert naming.storage_account(MANAGEMENT.upper()) == account  # GUIDs ignore case
    assert naming.storage_account("11111111-2222-3333-4444-555555555555") != account
    assert {i.inputs["resourceName"] for i in first_run.by_type(IDENTITY)} == {
        "id-secretless-build",
        "id-secretless-dev-deploy",
        "id-secretless-dev-preview",
        "id-secretless-prod-deploy",
        "id-secretless-prod-preview",
    }
    for stack in STACKS.values():
        container = first_run.named(f"state-container-{stack}").inputs["containerName"]
        assert container == f"state-{stack}"
        assert azure_limits.BLOB_CONTAINER.check(container) is None
        assert first_run.named(f"state-key-{stack}").inputs["keyName"] == f"stack-{stack}"
    # The longest stack name still makes a valid container.
    longest = "a" * azure_limits.BLOB_CONTAINER.max_length
    assert azure_limits.BLOB_CONTAINER.check(naming.state_container(longest[:16])) is None


# --- state and keys, one of each per environment -----------------------------------------


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
    containers = first_run.by_type("azure-native:storage:BlobContainer")
    assert sorted(c.inputs["containerName"] for c in containers) == [
        "contract-dev",
        "contract-prod",
        "state-dev",
        "state-prod",
    ]
    for container in containers:
        assert container.inputs["publicAccess"] == "None"
        # A contract container is not: the next `pulumi up` of its stack writes it again.
        is_state = container.inputs["containerName"].startswith("state-")
        assert container.protect is is_state, container.urn
    for name in ("state-account", "state-vault", "state-key-dev", "state-key-prod"):
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


def test_each_stacks_key_encrypts_and_decrypts_only_and_waits_for_the_runners_grant(
    first_run: RecordedGraph,
) -> None:
    officer = first_run.named("state-runner-key-vault-crypto-officer-on-vault")
    keys = first_run.by_type("azure-native:keyvault:Key")
    assert len(keys) == len(ENVIRONMENTS)
    for key in keys:
        assert key.inputs["properties"] == {
            "kty": "RSA",
            "keySize": 3072,
            "keyOps": ["encrypt", "decrypt"],
            "attributes": {"enabled": True, "exportable": False},
        }
        assert officer.urn in key.dependencies


def test_the_runner_may_create_the_keys_and_the_stacks_and_is_looked_up_by_arm(
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
        *(
            (roles.STORAGE_BLOB_DATA_CONTRIBUTOR, container_id(first_run, stack), None)
            for stack in STACKS.values()
        ),
    }


def test_the_key_roles_allow_exactly_what_the_secrets_provider_calls(
    first_run: RecordedGraph,
) -> None:
    group = first_run.named("bootstrap").outputs["id"]
    definitions = {d.inputs["roleName"]: d for d in first_run.by_type(ROLE_DEFINITION)}
    read, encrypt, decrypt = (
        "Microsoft.KeyVault/vaults/keys/read",
        "Microsoft.KeyVault/vaults/keys/encrypt/action",
        "Microsoft.KeyVault/vaults/keys/decrypt/action",
    )
    expected = {DEPLOY_KEY_ROLE: [read, encrypt, decrypt], PREVIEW_KEY_ROLE: [read, decrypt]}
    assert set(definitions) == {name for name, _ in expected}
    for (name, guid), data_actions in expected.items():
        inputs = definitions[name].inputs
        assert inputs["roleDefinitionId"] == guid
        assert inputs["permissions"] == [{"dataActions": data_actions}]
        assert inputs["assignableScopes"] == [group]
        assert inputs["scope"] == MANAGEMENT_SCOPE
        assert inputs["roleType"] == "CustomRole"
        # Unique in the tenant: another management subscription's roles have other names.
        assert naming.custom_role("11111111-2222-3333-4444-555555555555", "x")[0] != name
    for assignment in first_run.by_type(ROLE_ASSIGNMENT):
        custom = [
            d
            for d in definitions.values()
            if d.inputs["roleDefinitionId"] in (assignment.inputs["roleDefinitionId"])
        ]
        for definition in custom:
            assert definition.urn in assignment.dependencies, assignment.urn


# --- each environment's identities ---------------------------------------------------------


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_a_deploy_identity_reaches_its_own_subscription_container_and_key_only(
    first_run: RecordedGraph, environment: str
) -> None:
    stack, subscription = STACKS[environment], SUBSCRIPTIONS[environment]
    deployer = identity(first_run, f"deploy-{environment}")
    assert grants_to(first_run, deployer) == {
        ("Contributor", f"/subscriptions/{subscription}"),
        ("Role Based Access Control Administrator", f"/subscriptions/{subscription}"),
        ("Storage Blob Data Contributor", container_id(first_run, stack)),
        (f"custom:{DEPLOY_KEY_ROLE[1]}", key_id(first_run, stack)),
        ("Role Based Access Control Administrator", registry_id(first_run)),
        # It publishes the environment's contract, and is the only CI identity that may.
        ("Storage Blob Data Contributor", contract_container_id(first_run, stack)),
    }
    for assignment in assignments_to(first_run, deployer):
        assert assignment.inputs["principalType"] == "ServicePrincipal"


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_before_its_stack_exists_a_preview_identity_reads_its_state_and_decrypts(
    first_run: RecordedGraph, environment: str
) -> None:
    stack = STACKS[environment]
    assert grants_to(first_run, identity(first_run, f"preview-{environment}")) == {
        ("Storage Blob Data Reader", container_id(first_run, stack)),
        (f"custom:{PREVIEW_KEY_ROLE[1]}", key_id(first_run, stack)),
    }


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_once_deployed_a_preview_identity_reads_its_own_stacks_groups_and_cluster(
    deployed: RecordedGraph, environment: str
) -> None:
    stack, subscription = STACKS[environment], SUBSCRIPTIONS[environment]
    names = EnvironmentNames(stack)
    group = f"/subscriptions/{subscription}/resourceGroups/{names.resource_group}"
    cluster = f"{group}/providers/Microsoft.ContainerService/managedClusters/{names.cluster}"
    assert grants_to(deployed, identity(deployed, f"preview-{environment}")) == {
        ("Storage Blob Data Reader", container_id(deployed, stack)),
        (f"custom:{PREVIEW_KEY_ROLE[1]}", key_id(deployed, stack)),
        ("Reader", group),
        ("Reader", f"/subscriptions/{subscription}/resourceGroups/{names.node_resource_group}"),
        ("Azure Kubernetes Service Cluster User Role", cluster),
        ("Azure Kubernetes Service RBAC Reader", cluster),
    }


def test_no_ci_grant_reaches_another_environment_or_the_bootstrap_beyond_its_own_state(
    deployed: RecordedGraph,
) -> None:
    # Walk every scope a CI identity holds a role at: its own environment's subscription (or
    # something in it), or its own stack's container or key. Nothing else in the management
    # subscription, and nothing in another environment's.
    for environment, stack in STACKS.items():
        own = {
            container_id(deployed, stack),
            key_id(deployed, stack),
            registry_id(deployed),
            contract_container_id(deployed, stack),
        }
        inside = f"/subscriptions/{SUBSCRIPTIONS[environment]}"
        for kind in ("deploy", "preview"):
            for assignment in assignments_to(deployed, identity(deployed, f"{kind}-{environment}")):
                scope = assignment.inputs["scope"]
                assert scope in own or scope == inside or scope.startswith(f"{inside}/"), (
                    assignment.urn,
                    scope,
                )
                if scope.startswith(MANAGEMENT_SCOPE):
                    assert grant(assignment).role.name in (
                        "Storage Blob Data Contributor",
                        "Storage Blob Data Reader",
                        f"custom:{DEPLOY_KEY_ROLE[1]}",
                        f"custom:{PREVIEW_KEY_ROLE[1]}",
                    ) or (
                        scope == registry_id(deployed)
                        and assignment.inputs["condition"] == roles.registry_pull_condition()
                    ), assignment.urn


def test_no_identity_holds_a_role_that_assigns_anything_or_a_built_in_crypto_role(
    deployed: RecordedGraph,
) -> None:
    ci = {i.outputs["principalId"] for i in ci_identities(deployed)}
    for assignment in deployed.by_type(ROLE_ASSIGNMENT):
        role = assignment.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        assert role not in (OWNER, USER_ACCESS_ADMINISTRATOR), assignment.urn
        if assignment.inputs["principalId"] in ci:
            assert role not in CRYPTO_ROLES, assignment.urn


def test_the_preview_identities_hold_no_role_that_writes(deployed: RecordedGraph) -> None:
    read_only = {
        "Reader",
        "Azure Kubernetes Service Cluster User Role",
        "Azure Kubernetes Service RBAC Reader",
        "Storage Blob Data Reader",
        f"custom:{PREVIEW_KEY_ROLE[1]}",
    }
    for environment in ENVIRONMENTS:
        held = assignments_to(deployed, identity(deployed, f"preview-{environment}"))
        assert held
        for assignment in held:
            assert grant(assignment).role.name in read_only, assignment.urn


@pytest.fixture(scope="module")
def with_teams() -> RecordedGraph:
    """The example as it is: two application teams, one of them in both environments."""
    return bootstrap(deployedStacks=["dev", "prod"])


@pytest.mark.parametrize(
    ("environment", "teams"),
    [("dev", ["payments", "search"]), ("production", ["payments"])],
)
def test_the_rbac_administrators_condition_comes_from_the_catalogue_table(
    with_teams: RecordedGraph, environment: str, teams: list[str]
) -> None:
    deployer = identity(with_teams, f"deploy-{environment}")
    administrator = administrator_on(
        with_teams, environment, f"/subscriptions/{SUBSCRIPTIONS[environment]}"
    )
    # The groups and CI identities of the teams that deploy to this environment, and no other
    # team's.
    groups = [t["groupObjectId"] for t in EXAMPLE["bootstrap:appTeams"] if t["name"] in teams]
    team_ci = [
        identity(with_teams, f"deploy-team-{team}-{STACKS[environment]}").outputs["principalId"]
        for team in teams
    ]
    assert administrator.inputs["condition"] == roles.deploy_identity_condition(
        {
            roles.DEPLOYER: (deployer.outputs["principalId"],),
            roles.ADMIN_GROUPS: (ADMIN_GROUP,),
            roles.TEAM_GROUPS: (*groups, *team_ci),
            roles.DEVELOPERS: (),
        }
    )
    variables = with_teams.outputs["githubVariables"]
    expected = dict(zip(teams, team_ci, strict=True))
    for github_environment in (environment, f"preview-{environment}"):
        assert json.loads(variables[github_environment]["TEAM_DEPLOYERS"]) == expected
    assert administrator.inputs["conditionVersion"] == "2.0"
    conditioned = [a for a in with_teams.by_type(ROLE_ASSIGNMENT) if "condition" in a.inputs]
    assert {grant(a).role for a in conditioned} == {roles.RBAC_ADMINISTRATOR}
    # The subscription and the registry per environment, and each team's own resource group.
    assert len(conditioned) == 2 * len(ENVIRONMENTS) + 3


def test_the_longest_condition_allowed_fits_azures_8_kb_and_one_more_group_is_refused() -> None:
    # A team names two principals: its group and its CI identity.
    groups = [f"00000000-0000-4000-8000-{index:012x}" for index in range(MAX_CONDITION_GROUPS)]
    graph = bootstrap(
        environments=with_environment(
            "dev", adminGroupObjectIds=groups[3:], developersGroupObjectId=groups[0]
        ),
        appTeams=[team_in("dev", groupObjectId=groups[1])],
    )
    administrator = administrator_on(graph, "dev", f"/subscriptions/{SUBSCRIPTIONS['dev']}")
    assert len(administrator.inputs["condition"]) <= roles.CONDITION_MAX_LENGTH
    assert len(administrator.inputs["condition"]) > roles.CONDITION_MAX_LENGTH - 200
    more = [*groups[3:], "00000000-0000-4000-8000-ffffffffffff"]
    message = refused(
        environments=with_environment(
            "dev", adminGroupObjectIds=more, developersGroupObjectId=groups[0]
        ),
        appTeams=[team_in("dev", groupObjectId=groups[1])],
    )
    assert message.splitlines()[1] == (
        "  - bootstrap:environments.dev.adminGroupObjectIds: with "
        "bootstrap:appTeams (a group and a CI identity each) and developersGroupObjectId this "
        f"environment names {MAX_CONDITION_GROUPS + 1} principals; the deploy identity's "
        f"condition fits at most {MAX_CONDITION_GROUPS} in Azure's 8 KB (nest groups in fewer)"
    )


# --- federation ----------------------------------------------------------------------------


def credentials_by_owner(graph: RecordedGraph) -> dict[str, RecordedResource]:
    return {
        component: next(
            c for c in graph.by_type(CREDENTIAL) if c.parent == graph.named(component).urn
        )
        for component in (f"{k}-{e}" for e in ENVIRONMENTS for k in ("deploy", "preview"))
    }


def test_each_identity_trusts_its_own_github_environment_in_the_immutable_form(
    first_run: RecordedGraph,
) -> None:
    credentials = credentials_by_owner(first_run)
    assert len(first_run.by_type(CREDENTIAL)) == 5  # and the image build's, below
    for environment in ENVIRONMENTS:
        for component, trusted in (
            (f"deploy-{environment}", environment),
            (f"preview-{environment}", f"preview-{environment}"),
        ):
            credential = credentials[component]
            assert credential.inputs["subject"] == f"repo:{IMMUTABLE}:environment:{trusted}"
            assert credential.inputs["issuer"] == "https://token.actions.githubusercontent.com"
            assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
            assert credential.inputs["federatedIdentityCredentialResourceName"] == (
                f"github-{trusted}"
            )
            assert (
                credential.inputs["resourceName"]
                == (identity(first_run, component).inputs["resourceName"])
            )


def test_a_repository_on_name_subjects_is_trusted_by_name() -> None:
    graph = bootstrap(githubSubjectFormat="name", appTeams=None)
    subjects = sorted(c.inputs["subject"] for c in graph.by_type(CREDENTIAL))
    assert subjects == sorted(
        [
            *(
                f"repo:{REPOSITORY}:environment:{trusted}"
                for trusted in ("dev", "preview-dev", "production", "preview-production")
            ),
            f"repo:{REPOSITORY}:ref:refs/heads/main",
        ]
    )


# --- the GitHub side ------------------------------------------------------------------------


def github_environments(graph: RecordedGraph) -> dict[str, RecordedResource]:
    return {e.inputs["environment"]: e for e in graph.by_type(GITHUB_ENVIRONMENT)}


def test_the_github_environments_are_resources_with_their_rules_and_variables(
    first_run: RecordedGraph,
) -> None:
    environments = github_environments(first_run)
    assert set(environments) == {"dev", "preview-dev", "production", "preview-production"}
    team = EXAMPLE["bootstrap:github"]["requiredReviewers"][0]["id"]
    branch_only = {"customBranchPolicies": True, "protectedBranches": False}
    dev, production = environments["dev"].inputs, environments["production"].inputs
    assert dev["deploymentBranchPolicy"] == branch_only and "reviewers" not in dev
    assert production["deploymentBranchPolicy"] == branch_only
    assert production["reviewers"] == [{"teams": [team], "users": []}]
    assert production["preventSelfReview"] is True
    # Previews: dev's for every branch; production's for every branch, with a reviewer.
    assert "deploymentBranchPolicy" not in environments["preview-dev"].inputs
    assert "reviewers" not in environments["preview-dev"].inputs
    assert "deploymentBranchPolicy" not in environments["preview-production"].inputs
    assert environments["preview-production"].inputs["reviewers"] == [
        {"teams": [team], "users": []}
    ]
    policies = {
        (p.inputs["environment"], p.inputs["branchPattern"])
        for p in first_run.by_type(BRANCH_POLICY)
    }
    assert policies == {("dev", "main"), ("production", "main")}
    for resource in first_run.resources:
        if resource.type.startswith("github:"):
            assert resource.inputs["repository"] == "secretless-aks", resource.urn
    (provider,) = first_run.by_type("pulumi:providers:github")
    assert provider.inputs["owner"] == "contoso"
    assert "token" not in provider.inputs  # it comes from GITHUB_TOKEN
    variables = first_run.outputs["githubVariables"]
    declared = {
        (v.inputs["environment"], v.inputs["variableName"]): v.inputs["value"]
        for v in first_run.by_type(GITHUB_VARIABLE)
    }
    assert declared == {
        (environment, name): value
        for environment, values in variables.items()
        for name, value in values.items()
    }
    assert "ghCommands" not in first_run.outputs


def test_each_environments_variables_name_its_identity_subscription_state_and_deployer(
    first_run: RecordedGraph,
) -> None:
    account = first_run.named("state-account").inputs["accountName"]
    vault = first_run.named("state-vault").inputs["vaultName"]
    variables = first_run.outputs["githubVariables"]
    assert list(variables) == ["dev", "preview-dev", "production", "preview-production"]
    for environment, stack in STACKS.items():
        version = first_run.named(f"state-key-{stack}").outputs["keyUriWithVersion"]
        provider = (
            f"azurekeyvault://{vault}.vault.azure.net/keys/stack-{stack}/"
            + (version.rsplit("/", 1)[-1])
        )
        deployer = identity(first_run, f"deploy-{environment}").outputs
        for name, owner in ((environment, "deploy"), (f"preview-{environment}", "preview")):
            assert variables[name] == {
                "AZURE_CLIENT_ID": identity(first_run, f"{owner}-{environment}").outputs[
                    "clientId"
                ],
                "AZURE_TENANT_ID": MOCK_TENANT_ID,
                "AZURE_SUBSCRIPTION_ID": SUBSCRIPTIONS[environment],
                "PULUMI_BACKEND_URL": f"azblob://state-{stack}?storage_account={account}",
                "PULUMI_SECRETS_PROVIDER": provider,
                "DEPLOYER_OBJECT_ID": deployer["principalId"],
                "REGISTRY_ID": registry_id(first_run),
                "REGISTRY_LOGIN_SERVER": f"{naming.container_registry(MANAGEMENT)}.azurecr.io",
                "TEAM_DEPLOYERS": "{}",  # no team in this run (tests/test_bootstrap_teams.py)
                "PLATFORM_CONTRACT_URL": (
                    f"https://{account}.blob.core.windows.net/contract-{stack}/"
                    "platform-contract.json"
                ),
            }
        assert first_run.outputs["stacks"][stack] == {
            "backendUrl": f"azblob://state-{stack}?storage_account={account}",
            "secretsProvider": provider,
        }
    assert first_run.outputs["prPreviews"] == [
        {"stack": "dev", "environment": "preview-dev"},
        {"stack": "prod", "environment": "preview-production"},
    ]
    assert not first_run.secret_outputs


def test_without_reviewers_a_protected_environment_previews_only_on_main_with_a_warning() -> None:
    graph = bootstrap(github={"manage": True, "requiredReviewers": []})
    environments = github_environments(graph)
    assert "reviewers" not in environments["production"].inputs
    assert environments["preview-production"].inputs["deploymentBranchPolicy"] == {
        "customBranchPolicies": True,
        "protectedBranches": False,
    }
    policies = {
        (p.inputs["environment"], p.inputs["branchPattern"]) for p in graph.by_type(BRANCH_POLICY)
    }
    assert ("preview-production", "main") in policies
    assert graph.outputs["prPreviews"] == [{"stack": "dev", "environment": "preview-dev"}]
    assert graph.warnings == [
        "production is protected but bootstrap:github.requiredReviewers is empty: its deploys "
        "wait for no one, and its previews run only on main"
    ]


def test_unmanaged_github_gets_the_gh_commands_that_set_up_the_same(
    first_run: RecordedGraph,
) -> None:
    graph = bootstrap(github={"manage": False, "requiredReviewers": [{"type": "Team", "id": 7}]})
    assert not [r for r in graph.resources if r.type.startswith("github:")]
    lines = graph.outputs["ghCommands"].splitlines()
    variables = graph.outputs["githubVariables"]
    assert lines[0] == (
        'echo \'{"reviewers": null, "deployment_branch_policy": {"protected_branches": '
        'false, "custom_branch_policies": true}}\' | gh api --method PUT '
        "repos/contoso/secretless-aks/environments/dev --input -"
    )
    assert lines[1] == (
        "gh api --method POST repos/contoso/secretless-aks/environments/dev/"
        "deployment-branch-policies -f name=main -f type=branch"
    )
    assert [shlex.split(line) for line in lines[2:12]] == [
        ["gh", "variable", "set", name, "--env", "dev", "--body", value, "--repo", REPOSITORY]
        for name, value in variables["dev"].items()
    ]
    # dev: its environment, branch policy and ten variables; preview-dev: no branch policy.
    production = json.loads(shlex.split(lines[12 + 11])[1])
    assert production["reviewers"] == [{"type": "Team", "id": 7}]
    assert lines[-5] == (
        'gh variable set PR_PREVIEWS --body \'[{"stack": "dev", "environment": '
        '"preview-dev"}, {"stack": "prod", "environment": "preview-production"}]\' '
        f"--repo {REPOSITORY}"
    )
    build = graph.outputs["buildVariables"]
    assert [shlex.split(line) for line in lines[-4:]] == [
        ["gh", "variable", "set", name, "--body", build[name], "--repo", REPOSITORY]
        for name in github.BUILD_VARIABLES
    ]
    assert len(lines) == (12 + 11) * 2 + 1 + 4


def test_environments_sharing_a_subscription_plan_with_a_warning() -> None:
    graph = bootstrap(
        environments=with_environment("production", subscriptionId=SUBSCRIPTIONS["dev"])
    )
    assert graph.warnings == [
        f"dev and production share subscription {SUBSCRIPTIONS['dev']}: each one's deploy "
        "identity holds Contributor and RBAC Administrator there, so it reaches the others' "
        "resources and role assignments (docs/ci-and-bootstrap.md, Environments that share a "
        "subscription)"
    ]
    scopes = {
        a.inputs["scope"]
        for name in ("deploy-dev", "deploy-production")
        for a in assignments_to(graph, identity(graph, name))
        if grant(a).role == roles.CONTRIBUTOR
    }
    assert scopes == {f"/subscriptions/{SUBSCRIPTIONS['dev']}"}


def test_the_register_commands_cover_the_platforms_namespaces_in_every_subscription(
    first_run: RecordedGraph,
) -> None:
    lines = first_run.outputs["registerProviders"].splitlines()
    commands = {line for line in lines if not line.startswith("#")}
    expected = {
        f"az provider register --namespace {namespace} --subscription {subscription}"
        for subscription in SUBSCRIPTIONS.values()
        for namespace in resource_providers.PLATFORM
    } | {
        f"az provider register --namespace {namespace} --subscription {MANAGEMENT}"
        for namespace in resource_providers.BOOTSTRAP
    }
    assert commands == expected
    assert not [line for line in lines if "unregister" in line]
    # What bootstrap declares (all of it in the management subscription) needs exactly these.
    declared = [r.type for r in first_run.resources if r.type.startswith("azure-native:")]
    assert resource_providers.required(declared) == resource_providers.BOOTSTRAP


# --- migration from the shared layout -----------------------------------------------------

SHARED_LAYOUT_PLAN = PROJECT_DIR / "tests" / "fixtures" / "bootstrap-shared-layout.plan.json"


def test_moving_from_the_shared_layout_deletes_no_state_and_lists_every_grant_it_deletes() -> None:
    # The plan of the example as it was before environments had their own (the shared
    # container and key, one preview identity, everything in one subscription), against the
    # same stack with the new keys added and the shared state retained. That subscription
    # becomes the management one; the environments move to their own.
    before = json.loads(SHARED_LAYOUT_PLAN.read_text())
    after = to_json(bootstrap(preview=True, retainSharedState=True))
    diff = diff_plans(before, after)
    deleted = {
        change.resource["name"] for change in diff.changes if change.op in ("delete", "replace")
    }
    kept_types = (
        "azure-native:storage:StorageAccount",
        "azure-native:storage:BlobContainer",
        "azure-native:keyvault:Key",
        "azure-native:keyvault:Vault",
    )
    for change in diff.changes:
        if change.op in ("delete", "replace"):
            assert change.resource["type"] not in kept_types, change.resource["name"]
    assert deleted == {
        # The shared preview identity and its grants, replaced by one per environment.
        "preview",
        "preview-identity",
        "preview-github-preview",
        "preview-storage-blob-data-reader-on-state",
        "preview-key-vault-crypto-user-on-stacks-key",
        # The deploy identities' grants on the shared subscription, container and key: their
        # own environment's subscription, container and key instead.
        *(
            f"deploy-{environment}-{grant_name}"
            for environment in ENVIRONMENTS
            for grant_name in (
                "contributor-on-subscription",
                "role-based-access-control-administrator-on-subscription",
                "storage-blob-data-contributor-on-state",
                "key-vault-crypto-user-on-stacks-key",
            )
        ),
    }


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
            "the platform stack it deploys ({dev: {stack: dev, subscriptionId: ...}}), found "
            '["dev"]',
        ),
        (
            {"environments": {}},
            "bootstrap:environments: expected at least one GitHub environment to deploy from",
        ),
        (
            {"environments": {"dev": "dev"}},
            "bootstrap:environments.dev: expected an object with stack, subscriptionId and "
            "optionally adminGroupObjectIds, protected and developersGroupObjectId, found 'dev'",
        ),
        (
            {"environments": {"my env": ENVIRONMENTS["dev"]}},
            "bootstrap:environments.my env: expected a GitHub environment name of 1-105 "
            "letters, digits, '-' and '_', starting with a letter or digit, found 'my env'",
        ),
        (
            {"environments": with_environment("dev", stack="Dev")},
            "bootstrap:environments.dev.stack: stack name 'Dev' cannot name Azure resources: "
            "use 2-16 lowercase letters, digits and hyphens, starting with a letter and not "
            "ending with a hyphen",
        ),
        (
            {"environments": with_environment("dev", subscriptionId=None)},
            "bootstrap:environments.dev.subscriptionId: expected a subscription id, a GUID (az "
            "account show --query id -o tsv), found None",
        ),
        (
            {"environments": {"dev": {"stack": "dev"}}},
            "bootstrap:environments.dev.subscriptionId: required key is missing",
        ),
        (
            {"environments": with_environment("dev", subscription="x")},
            "bootstrap:environments.dev.subscription: unknown key",
        ),
        (
            {"environments": with_environment("dev", protected="yes")},
            "bootstrap:environments.dev.protected: expected true or false, found 'yes'",
        ),
        (
            {
                "environments": {
                    **ENVIRONMENTS,
                    "preview-qa": {
                        **ENVIRONMENTS["dev"],
                        "stack": "qa",
                        "subscriptionId": SUBSCRIPTIONS["dev"],
                    },
                }
            },
            "bootstrap:environments.preview-qa: 'preview-<environment>' is where an "
            "environment's pull-request previews run, with its read-only identity; deploy from "
            "another one",
        ),
        (
            {"environments": {**ENVIRONMENTS, "qa": ENVIRONMENTS["dev"]}},
            "bootstrap:environments.qa.stack: stack 'dev' is deployed from dev already; each "
            "platform stack has one deploy environment",
        ),
        (
            {"environments": {**ENVIRONMENTS, "DEV": {**ENVIRONMENTS["dev"], "stack": "qa"}}},
            "bootstrap:environments.DEV: GitHub environment names are not case-sensitive, so "
            "this is dev again",
        ),
        (
            {"environments": with_environment("dev", stack="bootstrap")},
            "bootstrap:environments.dev.stack: stack 'bootstrap' would share the resource group "
            "rg-secretless-bootstrap with the bootstrap; choose another stack name",
        ),
        (
            {"environments": with_environment("dev", subscriptionId=MANAGEMENT)},
            "bootstrap:environments.dev.subscriptionId: is the management subscription "
            "(bootstrap:subscriptionId), which holds the bootstrap's state, keys and CI "
            "identities; an environment's deploy identity must not reach them, so give the "
            "environment a subscription of its own",
        ),
        (
            {
                "environments": with_environment(
                    "production", developersGroupObjectId=TEAM_GROUPS[1]
                )
            },
            "bootstrap:environments.production.developersGroupObjectId: a protected environment "
            "gives developers no data access; set it on an unprotected one only",
        ),
        (
            {"environments": with_environment("dev", adminGroupObjectIds=[ADMIN_GROUP] * 2)},
            f"bootstrap:environments.dev.adminGroupObjectIds[1]: {ADMIN_GROUP} is listed twice",
        ),
        (
            {"githubOwnerId": "contoso"},
            "bootstrap:githubOwnerId: expected the owner's numeric id (gh api "
            "repos/<owner>/<repo> --jq .owner.id), found 'contoso'",
        ),
        (
            {"githubRepositoryId": 0},
            "bootstrap:githubRepositoryId: expected a positive number, found 0",
        ),
        (
            {"githubSubjectFormat": "ids"},
            "bootstrap:githubSubjectFormat: expected 'immutable' or 'name', found 'ids'",
        ),
        (
            {"github": {"manage": True, "requiredReviewers": [{"type": "Org", "id": 1}]}},
            "bootstrap:github.requiredReviewers[0].type: expected 'User' or 'Team', found 'Org'",
        ),
        (
            {"github": {"requiredReviewers": [{"type": "User", "id": n} for n in range(1, 8)]}},
            "bootstrap:github.requiredReviewers: GitHub takes at most 6 required reviewers; "
            "found 7 (name a team instead)",
        ),
        (
            {"github": {"requiredReviewers": [{"type": "User", "id": 1}] * 2}},
            'bootstrap:github.requiredReviewers[1]: ["User", 1] is listed twice',
        ),
        (
            {"github": {"token": "ghp_x"}},
            "bootstrap:github.token: unknown key",
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
            {"appTeamGroupObjectIds": TEAM_GROUPS},
            "bootstrap:appTeamGroupObjectIds: replaced by bootstrap:appTeams, which lists each "
            "team with its name, groupObjectId, GitHub repository and environments "
            "(docs/ci-and-bootstrap.md, Application teams)",
        ),
        (
            {"appTeams": [team_in("dev", groupObjectId="payments")]},
            "bootstrap:appTeams[0].groupObjectId: expected an Entra group's object id, a GUID "
            "(az ad group show -g <group> --query id -o tsv), found 'payments'",
        ),
        (
            {"appTeams": [team_in("dev"), team_in("dev", groupObjectId=TEAM_GROUPS[1])]},
            "bootstrap:appTeams[1].name: team 'payments' is listed twice",
        ),
        (
            {"appTeams": [team_in("dev"), team_in("dev", name="other")]},
            "bootstrap:appTeams[1].groupObjectId: 2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40 is "
            "another team's group; each team has a group of its own",
        ),
        (
            {"appTeams": [team_in("qa")]},
            "bootstrap:appTeams[0].environments[0]: 'qa' is not a GitHub environment of "
            "bootstrap:environments (dev, production)",
        ),
        (
            {"appTeams": [team_in("dev", name="p" * 50)]},
            f"bootstrap:appTeams[0].name: {'p' * 50!r} makes the state container "
            f"'state-team-{'p' * 50}-dev' for stack dev, 65 characters; Azure allows 63: "
            "shorten the team's name",
        ),
        (
            {"appTeams": [team_in("dev", environments=[])]},
            "bootstrap:appTeams[0].environments: expected at least one GitHub environment to "
            "deploy from",
        ),
        ({"enviroments": {}}, "bootstrap:enviroments: unknown key (did you mean 'environments'?)"),
        (
            {"namePrefix": "x"},
            "bootstrap:namePrefix: unknown key; known keys: appTeams, "
            "deployedStacks, environments, github, githubOwnerId, githubRepository, "
            "githubRepositoryId, githubSubjectFormat, retainSharedState, subscriptionId",
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
        "Pulumi.example.yaml: bootstrap:subscriptionId is missing, and Pulumi.yaml declares it "
        "with no default"
    )


def test_every_problem_is_reported_at_once() -> None:
    message = refused(subscriptionId="x", githubRepository="x", githubSubjectFormat="ids")
    assert message.splitlines()[0] == "invalid configuration in Pulumi.example.yaml (3 problems):"
    keys = [line.split(":", 2)[1] for line in message.splitlines()[1:]]
    assert keys == ["githubRepository", "githubSubjectFormat", "subscriptionId"]
    # Rules across keys are judged once every key has a valid value, then all together.
    message = refused(
        environments=with_environment("dev", subscriptionId=MANAGEMENT), deployedStacks=["qa"]
    )
    keys = [line.split(":", 2)[1] for line in message.splitlines()[1:]]
    assert keys == ["deployedStacks[0]", "environments.dev.subscriptionId"]


def test_the_project_file_declares_every_key_the_program_reads() -> None:
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == "bootstrap"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["backend"]["url"].startswith("file://")
    root = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["requiredPulumiVersion"] == root["requiredPulumiVersion"]
    keys = {f.alias for n, f in BootstrapConfig.model_fields.items() if n != "location"}
    assert set(project["config"]) == keys
    guide = (PROJECT_DIR / "docs" / "ci-and-bootstrap.md").read_text()
    for key, declaration in project["config"].items():
        assert declaration["description"], key
        assert f"| `bootstrap:{key}` |" in guide, f"bootstrap:{key} has no row in the guide"
    assert f"names at most {MAX_CONDITION_GROUPS} groups" in guide
    # Optional keys carry the program's defaults (the CLI requires a key declared without one).
    defaults = BootstrapConfig.model_fields
    assert project["config"]["github"]["default"] == defaults["github"].default.model_dump(
        by_alias=True
    ) | {"requiredReviewers": []}
    assert project["config"]["deployedStacks"]["default"] == []
    assert project["config"]["appTeams"]["default"] == []
    assert project["config"]["retainSharedState"]["default"] is False
    integers = {"githubOwnerId", "githubRepositoryId"}
    assert {key for key, d in project["config"].items() if d["type"] == "integer"} == integers
    required = {n for n, f in BootstrapConfig.model_fields.items() if f.is_required()}
    for name, field in BootstrapConfig.model_fields.items():
        if name != "location":
            assert ("default" not in project["config"][field.alias]) == (name in required), name
    # Its environment: the platform's package from the repository root, editable, and the
    # GitHub provider at the release the platform's tests run the bootstrap with.
    pyproject = tomllib.loads((BOOTSTRAP / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["sources"]["secretless-aks"] == {
        "path": "..",
        "editable": True,
        "package": True,
    }
    (github_pin,) = [
        d for d in pyproject["project"]["dependencies"] if d.startswith("pulumi-github")
    ]
    root = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    assert github_pin in root["dependency-groups"]["bootstrap"]


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
    # 93 for the platform's CI and 35 for the example's two teams in three environments, the
    # platform environments' TEAM_DEPLOYERS variables, and 11 for the published contract: a
    # container per platform stack, its deploy identity's write and each team's read there,
    # and each environment's PLATFORM_CONTRACT_URL.
    assert lines[lines.index("Resources:") + 1] == "    + 143 to create"
    cells = [
        [token for token in line.split() if token not in ("├─", "└─", "│")]
        for line in lines
        if line.startswith(" +   ")
    ]
    rows = {row[2]: row[3:] for row in cells}
    assert rows["state-account"] == ["create", "[protect]"]
    assert "deploy-production-role-based-access-control-administrator-on-subscription" in rows
    assert rows["github-preview-production"] == ["create"]
    outputs = lines[lines.index("Outputs:") + 1 :]
    assert (
        '            backendUrl     : "azblob://state-prod?storage_account=stsecretless12b9377c"'
        in outputs
    )
    assert "            AZURE_TENANT_ID        : <mocked tenant id>" in outputs
    assert '            AZURE_SUBSCRIPTION_ID  : "00000000-0000-0000-0000-0000000000f1"' in outputs


def linked_project(tmp_path: Path, stack: str, config: dict[str, Any]) -> Path:
    """The bootstrap program beside a stack file of the test's own."""
    project = tmp_path / "bootstrap"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "secretless_bootstrap"):
        (project / name).symlink_to(BOOTSTRAP / name)
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return project


def test_the_offline_plan_reports_bad_bootstrap_config_as_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {**EXAMPLE, "bootstrap:githubRepository": "contoso"}
    project = linked_project(tmp_path, "bad", bad)
    assert main(["bad", "--project", str(project)]) == 1
    assert capsys.readouterr().err == (
        "error: invalid configuration in Pulumi.bad.yaml (1 problem):\n"
        "  - bootstrap:githubRepository: expected <owner>/<repository> exactly as GitHub "
        "spells it (e.g. contoso/secretless-aks), found 'contoso'\n"
    )


def test_the_offline_plan_prints_the_programs_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = configured(
        environments=with_environment("production", subscriptionId=SUBSCRIPTIONS["dev"])
    )
    project = linked_project(tmp_path, "shared", shared)
    assert main(["shared", "--project", str(project)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        f"warning: dev and production share subscription {SUBSCRIPTIONS['dev']}: "
    ), err


def test_project_must_be_a_pulumi_project(capsys: pytest.CaptureFixture[str]) -> None:
    not_a_project = PROJECT_DIR / "secretless_aks"
    with pytest.raises(SystemExit) as exited:
        main(["example", "--project", str(not_a_project)])
    assert exited.value.code == 1
    assert f"--project {not_a_project}: no Pulumi.yaml there" in capsys.readouterr().err


def test_diff_against_a_git_revision_plans_that_revisions_bootstrap(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    committed_copy(repo, ("secretless_aks/", "bootstrap/"))
    before = plan_at_revision("HEAD", "example", repo=repo / "bootstrap")
    assert before["project"] == "bootstrap"
    assert before == to_json(run_program("example", preview=True, project_dir=repo / "bootstrap"))


# --- the registry and the image build ---------------------------------------------------


def test_the_registry_takes_entra_id_only_and_is_kept(first_run: RecordedGraph) -> None:
    registry = first_run.named("images-registry")
    assert registry.inputs["registryName"] == naming.container_registry(MANAGEMENT)
    assert registry.inputs["adminUserEnabled"] is False
    assert registry.inputs["anonymousPullEnabled"] is False
    assert "roleAssignmentMode" not in registry.inputs  # the pinned API cannot set it
    assert registry.protect
    assert registry.outputs["id"].startswith(f"{MANAGEMENT_SCOPE}/resourceGroups/")
    assert first_run.outputs["registry"] == {
        "id": registry.outputs["id"],
        "loginServer": f"{naming.container_registry(MANAGEMENT)}.azurecr.io",
    }


def test_the_build_identity_runs_acr_tasks_on_the_registry_for_pushes_to_main_only(
    first_run: RecordedGraph,
) -> None:
    builder = identity(first_run, "images-builder")
    assert builder.inputs["resourceName"] == "id-secretless-build"
    assert grants_to(first_run, builder) == {
        ("Container Registry Tasks Contributor", registry_id(first_run))
    }
    (credential,) = [
        c
        for c in first_run.by_type(CREDENTIAL)
        if c.parent == first_run.named("images-builder").urn
    ]
    assert credential.inputs["subject"] == f"repo:{IMMUTABLE}:ref:refs/heads/main"
    assert credential.inputs["federatedIdentityCredentialResourceName"] == "github-main-branch"
    build = first_run.outputs["buildVariables"]
    assert build["BUILD_CLIENT_ID"] == builder.outputs["clientId"]
    assert build["BUILD_SUBSCRIPTION_ID"] == MANAGEMENT


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_a_deploy_identity_may_give_acrpull_on_the_registry_to_service_principals_only(
    first_run: RecordedGraph, environment: str
) -> None:
    condition = administrator_on(first_run, environment, registry_id(first_run)).inputs["condition"]
    assert condition == roles.registry_pull_condition()

    def may(role: roles.Role, kind: str) -> bool:
        request = conditions.Request(
            "write", role.guid, "0d6e2a57-6f5c-4d38-9e4f-0a8b3c2d1e0f", kind
        )
        return conditions.allows(condition, request)

    assert may(roles.ACR_PULL, "ServicePrincipal")
    assert not may(roles.ACR_PULL, "User") and not may(roles.ACR_PULL, "Group")
    for role in (roles.OWNER, roles.RBAC_ADMINISTRATOR, roles.CONTAINER_REGISTRY_TASKS_CONTRIBUTOR):
        assert not may(role, "ServicePrincipal"), role.name
