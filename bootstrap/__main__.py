"""bootstrap: what the platform's pipelines need before their first run, with no secret.

In the management subscription: the state account with a container per platform stack, the
stacks vault with a key per stack, and per GitHub environment a deploy identity and a read-only
preview identity, each federated with exactly one GitHub environment. Each deploy identity's
control-plane roles are on its own environment's subscription only. The outputs are each
GitHub environment's variables; with github.manage the environments themselves are resources
here, otherwise `ghCommands` sets them up. This file only loads the configuration, builds the
components and exports outputs; `secretless_aks` is the platform's package, installed from the
repository root (pyproject.toml: an editable path source).
"""

from typing import cast

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import authorization, resources

from secretless_aks.components import roles
from secretless_bootstrap import access, github, naming, providers
from secretless_bootstrap.config import config_warnings, load_bootstrap_config
from secretless_bootstrap.github_environments import GitHubEnvironments, GitHubEnvironmentsArgs
from secretless_bootstrap.github_identity import GitHubIdentity, GitHubIdentityArgs, Grant
from secretless_bootstrap.registry import ContainerRegistry, ContainerRegistryArgs
from secretless_bootstrap.state_backend import StateBackend, StateBackendArgs

config = load_bootstrap_config()
for warning in config_warnings(config):
    pulumi.log.warn(warning)
# Every resource and the client config go through this provider: the bootstrap acts in the
# management subscription, whichever one `az account set` last chose. Grants in an
# environment's subscription name their scope in full, which is all ARM needs.
subscription = azure_native.Provider("subscription", subscription_id=config.subscription_id)
in_subscription = pulumi.ResourceOptions(providers=[subscription])
# Who runs the bootstrap (a person signed in as Owner, once), in which tenant.
client = authorization.get_client_config_output(
    opts=pulumi.InvokeOutputOptions(provider=subscription)
)
repository = github.Repository.parse(
    config.github_repository,
    config.github_owner_id,
    config.github_repository_id,
    config.github_subject_format,
)

group = resources.ResourceGroup(
    "bootstrap",
    resource_group_name=naming.RESOURCE_GROUP,
    location=config.location,
    opts=pulumi.ResourceOptions(provider=subscription),
)

state = StateBackend(
    "state",
    StateBackendArgs(
        subscription_id=config.subscription_id,
        resource_group_name=group.name,
        resource_group_id=group.id,
        location=group.location,
        tenant_id=client.tenant_id,
        runner_object_id=client.object_id,
        # Each platform stack's, and each application team's in each of its environments.
        stacks=[
            *(settings.stack for settings in config.environments.values()),
            *(
                naming.team_stack(team.name, config.environments[environment].stack)
                for team in config.app_teams
                for environment in team.environments
            ),
        ],
        platform_stacks=[settings.stack for settings in config.environments.values()],
        retain_shared_state=config.retain_shared_state,
    ),
    opts=in_subscription,
)


def ci_identity(
    component: str,
    identity_name: str,
    environment: str,
    grants: list[Grant],
    in_repository: github.Repository = repository,
) -> GitHubIdentity:
    """An identity in the bootstrap's resource group that jobs of `environment` (of this
    repository, or an application team's) sign in as."""
    return GitHubIdentity(
        component,
        GitHubIdentityArgs(
            identity_name=identity_name,
            resource_group_name=group.name,
            location=group.location,
            repository=in_repository,
            claim=f"environment:{environment}",
            credential=naming.federated_credential(environment),
            grants=grants,
        ),
        opts=in_subscription,
    )


def sign_in_variables(
    identity: GitHubIdentity, subscription_id: str, stack: str
) -> dict[str, pulumi.Input[str]]:
    """What a job needs to sign in as `identity` and reach `stack`'s state and key."""
    return {
        "AZURE_CLIENT_ID": identity.client_id,
        "AZURE_TENANT_ID": client.tenant_id,
        "AZURE_SUBSCRIPTION_ID": subscription_id,
        "PULUMI_BACKEND_URL": state.backend_urls[stack],
        "PULUMI_SECRETS_PROVIDER": state.secrets_providers[stack],
    }


registry = ContainerRegistry(
    "images",
    ContainerRegistryArgs(config.subscription_id, group.name, group.location, repository),
    opts=in_subscription,
)

# Application teams: per team and environment, in the environment's subscription a resource
# group for the team's resources, and in the management subscription a deploy identity that
# the team repository's environment of that name signs in as.
environment_providers = {
    environment: azure_native.Provider(
        f"subscription-{environment}", subscription_id=settings.subscription_id
    )
    for environment, settings in config.environments.items()
    if config.teams_in(environment)
}
team_variables: dict[str, dict[str, dict[str, pulumi.Input[str]]]] = {}
# Each environment's teams' CI identities, by team: the platform's deploy identity may give
# them what it gives the teams' groups, and CI sets them as appTeams[].deployerObjectId.
team_deployers: dict[str, dict[str, pulumi.Output[str]]] = {}
for team in config.app_teams:
    team_repository = github.Repository.parse(
        team.github_repository,
        team.github_owner_id,
        team.github_repository_id,
        team.github_subject_format,
    )
    for environment in team.environments:
        settings = config.environments[environment]
        team_stack = naming.team_stack(team.name, settings.stack)
        team_group = resources.ResourceGroup(
            f"{team_stack}-group",
            resource_group_name=naming.team_resource_group(team.name, settings.stack),
            location=config.location,
            # Kept, in a protected environment, as the platform's own resources are.
            opts=pulumi.ResourceOptions(
                provider=environment_providers[environment], protect=settings.protected
            ),
        )
        team_deployer = ci_identity(
            f"deploy-{team_stack}",
            naming.team_deploy_identity(team.name, settings.stack),
            environment,
            access.team_deploy_grants(
                team=team.name,
                resource_group_id=team_group.id,
                environment_subscription_id=settings.subscription_id,
                management_subscription_id=config.subscription_id,
                container_id=state.container_ids[team_stack],
                key_id=state.key_ids[team_stack],
                key_role=state.deploy_key_role,
                key_role_definition=state.deploy_key_definition,
                contract_container_id=state.contract_container_ids[settings.stack],
            ),
            in_repository=team_repository,
        )
        team_deployers.setdefault(environment, {})[team.name] = team_deployer.principal_id
        # The team repository's environment variables, as the platform's (githubVariables).
        team_variables.setdefault(team.name, {})[environment] = {
            **sign_in_variables(team_deployer, settings.subscription_id, team_stack),
            "DEPLOYER_OBJECT_ID": team_deployer.principal_id,
            "RESOURCE_GROUP": team_group.name,
            # What the team's project reads the platform from (platformContract).
            "PLATFORM_CONTRACT_URL": state.contract_urls[settings.stack],
        }


def condition_principals(environment: str) -> dict[str, tuple[pulumi.Input[str], ...]]:
    """Who the environment's deploy identity may grant to, by kind: config's groups, and the
    CI identities of the teams that deploy there."""
    principals: dict[str, tuple[pulumi.Input[str], ...]] = dict(
        config.condition_principals(environment)
    )
    principals[roles.TEAM_GROUPS] += tuple(team_deployers.get(environment, {}).values())
    return principals


variables: dict[str, dict[str, pulumi.Input[str]]] = {}
rules: dict[str, github.EnvironmentRules] = {}
reviewers = [(reviewer.type, reviewer.id) for reviewer in config.github.required_reviewers]
for environment, settings in config.environments.items():
    stack = settings.stack
    where = {
        "environment_subscription_id": settings.subscription_id,
        "management_subscription_id": config.subscription_id,
        "container_id": state.container_ids[stack],
        "key_id": state.key_ids[stack],
    }
    deployer = ci_identity(
        f"deploy-{environment}",
        naming.deploy_identity(stack),
        environment,
        access.deploy_grants(
            **where,
            key_role=state.deploy_key_role,
            key_role_definition=state.deploy_key_definition,
            condition_principals=condition_principals(environment),
            registry_id=registry.id,
            contract_container_id=state.contract_container_ids[stack],
        ),
    )
    preview_environment = naming.preview_environment(environment)
    previewer = ci_identity(
        f"preview-{environment}",
        naming.preview_identity(stack),
        preview_environment,
        access.preview_grants(
            **where,
            stack=stack,
            deployed=stack in config.deployed_stacks,
            key_role=state.preview_key_role,
            key_role_definition=state.preview_key_definition,
        ),
    )
    rules |= github.environment_rules(
        environment, protected=settings.protected, reviewers=reviewers
    )
    for name, identity in ((environment, deployer), (preview_environment, previewer)):
        variables[name] = {
            **sign_in_variables(identity, settings.subscription_id, stack),
            # Previews name the deployer too, or they would plan its grants replaced.
            "DEPLOYER_OBJECT_ID": deployer.principal_id,
            # The registry the kubelet identity pulls from (secretless-aks:registry).
            "REGISTRY_ID": registry.id,
            "REGISTRY_LOGIN_SERVER": registry.login_server,
            # {team: object id} of the teams' CI identities (appTeams[].deployerObjectId).
            "TEAM_DEPLOYERS": pulumi.Output.json_dumps(team_deployers.get(environment, {})),
            # Where pulumi up publishes the contract (secretless-aks:publishContractTo).
            "PLATFORM_CONTRACT_URL": state.contract_urls[stack],
        }
# The image build (build.yml) runs in no environment: the repository's own variables.
build_variables: dict[str, pulumi.Input[str]] = {
    "BUILD_CLIENT_ID": registry.builder.client_id,
    "BUILD_TENANT_ID": client.tenant_id,
    "BUILD_SUBSCRIPTION_ID": config.subscription_id,
    "REGISTRY_LOGIN_SERVER": registry.login_server,
}

# The stacks a pull request previews with Azure (pr-plan.yml's matrix).
pr_previews = [
    {"stack": settings.stack, "environment": naming.preview_environment(environment)}
    for environment, settings in config.environments.items()
    if github.previews_pull_requests(rules[naming.preview_environment(environment)])
]
if config.github.manage:
    GitHubEnvironments(
        "github",
        GitHubEnvironmentsArgs(repository, rules, variables, pr_previews, build_variables),
    )
else:
    pulumi.export(
        "ghCommands",
        pulumi.Output.all(variables, build_variables).apply(
            lambda values: github.gh_commands(
                repository.full_name,
                rules,
                cast(dict[str, dict[str, str]], values[0]),
                pr_previews,
                cast(dict[str, str], values[1]),
            )
        ),
    )
pulumi.export("githubVariables", variables)
# Per team and environment: its repository's environment variables. DEPLOYER_OBJECT_ID is also
# what the platform stack's appTeams entry takes as deployerObjectId.
pulumi.export("teamVariables", team_variables)
pulumi.export("prPreviews", pr_previews)
pulumi.export("buildVariables", build_variables)
pulumi.export("registry", {"id": registry.id, "loginServer": registry.login_server})
# What `pulumi stack init <stack> --secrets-provider ...` takes, with PULUMI_BACKEND_URL set.
pulumi.export(
    "stacks",
    {
        stack: {"backendUrl": state.backend_urls[stack], "secretsProvider": provider}
        for stack, provider in state.secrets_providers.items()
    },
)
pulumi.export(
    "registerProviders",
    providers.register_commands(
        config.subscription_id,
        {name: settings.subscription_id for name, settings in config.environments.items()},
    ),
)
