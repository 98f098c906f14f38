"""bootstrap: what the platform's pipelines need before their first run, with no secret.

The state container and the stacks' secrets key, a deploy identity per GitHub environment and a
read-only preview identity, each federated with exactly one GitHub environment, and their role
assignments. The outputs are the repository variables to set. This file only loads the
configuration, builds the components and exports outputs; `secretless_aks` is the platform's
package, installed from the repository root (requirements.txt: `-e ..`).
"""

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import authorization, resources

from secretless_bootstrap import access, github, naming
from secretless_bootstrap.config import load_bootstrap_config
from secretless_bootstrap.github_identity import GitHubIdentity, GitHubIdentityArgs
from secretless_bootstrap.state_backend import StateBackend, StateBackendArgs

config = load_bootstrap_config()
# Every resource and the client config go through this provider: the bootstrap acts on the
# configured subscription, whichever one `az account set` last chose.
subscription = azure_native.Provider("subscription", subscription_id=config.subscription_id)
in_subscription = pulumi.ResourceOptions(providers=[subscription])
# Who runs the bootstrap (a person signed in as Owner, once), in which tenant.
client = authorization.get_client_config_output(
    opts=pulumi.InvokeOutputOptions(provider=subscription)
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
        location=group.location,
        tenant_id=client.tenant_id,
        runner_object_id=client.object_id,
    ),
    opts=in_subscription,
)

identities = {
    environment: GitHubIdentity(
        f"deploy-{environment}",
        GitHubIdentityArgs(
            identity_name=naming.deploy_identity(stack),
            resource_group_name=group.name,
            location=group.location,
            repository=config.github_repository,
            environment=environment,
            subscription_id=config.subscription_id,
            grants=access.deploy_grants(
                config.subscription_id,
                state.container_id,
                state.key_id,
                config.app_team_group_object_ids,
            ),
        ),
        opts=in_subscription,
    )
    for environment, stack in config.environments.items()
}
identities[naming.PREVIEW_ENVIRONMENT] = GitHubIdentity(
    naming.PREVIEW_ENVIRONMENT,
    GitHubIdentityArgs(
        identity_name=naming.PREVIEW_IDENTITY,
        resource_group_name=group.name,
        location=group.location,
        repository=config.github_repository,
        environment=naming.PREVIEW_ENVIRONMENT,
        subscription_id=config.subscription_id,
        grants=access.preview_grants(
            config.subscription_id, config.deployed_stacks, state.container_id, state.key_id
        ),
    ),
    opts=in_subscription,
)

variables = {
    environment: {
        "AZURE_CLIENT_ID": identity.client_id,
        "AZURE_TENANT_ID": client.tenant_id,
        "AZURE_SUBSCRIPTION_ID": config.subscription_id,
        "PULUMI_BACKEND_URL": state.backend_url,
        "PULUMI_SECRETS_PROVIDER": state.secrets_provider,
    }
    for environment, identity in identities.items()
}
pulumi.export("backendUrl", state.backend_url)
pulumi.export("secretsProvider", state.secrets_provider)
pulumi.export("githubVariables", variables)
pulumi.export(
    "ghCommands",
    pulumi.Output.from_input(variables).apply(
        lambda values: github.gh_commands(config.github_repository, values)
    ),
)
