"""An application team's project on a secretless-aks cluster: the template to copy.

It reads the platform through the typed contract reader, from the contract its environment
publishes (or, with `platformSource: stackReference`, from the platform stack itself), and
gives one application what it needs to read its secrets with no secret: its own identity,
federated with the cluster's OIDC issuer; its own Key Vault (Azure RBAC only) in the team's
resource group, seeded from this stack's encrypted `secrets`, where the identity gets Key Vault
Secrets User (on the vault, or on each secret in `app.secretScope`); and its ServiceAccount and
Deployment on the cluster, through a Kubernetes provider built from the platform's kubeconfig
(kubelogin, no credential), in a namespace the platform made for its team (or, with
`createNamespace: true`, one it creates). With `usePlatformVault: true` it reads named secrets
from the platform's vault instead, which the platform must delegate (README.md).
"""

from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import authorization
from pydantic import ConfigDict, Field, StrictBool
from secretless_aks import (
    ConfigModel,
    ConfigSecret,
    ContractBlobUrl,
    DeployerConfig,
    EnvironmentNames,
    KeyRuleError,
    KeyVault,
    KeyVaultArgs,
    KeyVaultConfig,
    PlatformStack,
    ServiceConfig,
    ServiceIdentity,
    ServiceIdentityArgs,
    StackName,
    load_config,
    restricted_namespace,
    subscription_of,
)

PROJECT = "secretless-aks-consumer"


class AppStackConfig(ConfigModel):
    """Everything this project's stack is configured with (Pulumi.yaml describes each key)."""

    # ConfigSecret holds its value in a type of its own, which pydantic takes as it is.
    model_config = ConfigDict(arbitrary_types_allowed=True)

    stack: StackName
    # publishedContract: the document the platform's environment publishes (bootstrap's
    # teamVariables PLATFORM_CONTRACT_URL), readable by the team's deploy identity without the
    # platform's state. stackReference: the platform stack, which needs its state and key.
    platform_source: Literal["publishedContract", "stackReference"] = "publishedContract"
    platform_contract: ContractBlobUrl | None = None
    platform_stack: str = ""
    # The team's resource group in this environment (bootstrap's teamVariables RESOURCE_GROUP):
    # Azure's rule, letters, digits, `_`, `-`, `.` and parentheses, not ending in `.`.
    resource_group: Annotated[str, Field(max_length=90, pattern=r"^[-\w.()]*[-\w()]$")]
    # The platform's appTeams entry this application belongs to.
    team: Annotated[str, Field(min_length=1)]
    app: ServiceConfig
    # False: the app's namespaces are ones the platform made for the team, where the team may
    # write but not create namespaces. True: this project creates app.namespace itself.
    create_namespace: StrictBool = False
    use_platform_vault: StrictBool = False
    # Who runs `pulumi up` and so seeds and deletes the vault's secrets: the team's CI deploy
    # identity (from its environment's DEPLOYER_OBJECT_ID), never whoever happens to run.
    deployers: tuple[DeployerConfig, ...] = ()
    protect: StrictBool = False
    secrets: tuple[ConfigSecret, ...] = ()

    @classmethod
    def with_defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        # `platformContract: ""` is Pulumi.yaml's default (the CLI hands it to the program): none.
        return {
            key: value for key, value in data.items() if (key, value) != ("platformContract", "")
        }


# Rules across keys, reported with the platform's own (each names the key to change).
def _platform_source_named(config: AppStackConfig) -> None:
    if config.platform_source == "publishedContract" and config.platform_contract is None:
        raise KeyRuleError(
            "platformContract",
            "names the platform's published contract (bootstrap's teamVariables "
            "PLATFORM_CONTRACT_URL); or read the platform stack itself with platformSource: "
            "stackReference and platformStack",
        )
    if config.platform_source == "stackReference" and not config.platform_stack:
        raise KeyRuleError(
            "platformStack",
            "names the platform stack to read with platformSource: stackReference, e.g. "
            "organization/secretless-aks/dev",
        )


def _workload_identity_only(config: AppStackConfig) -> None:
    if config.app.binding != "workloadIdentity":
        raise KeyRuleError(
            "app.binding",
            "an application project binds its pods with workloadIdentity only: pod identity "
            "needs the platform's AAD Pod Identity release and kubelet grants",
        )


def _own_vault_for_seeded_secrets(config: AppStackConfig) -> None:
    if config.use_platform_vault and config.secrets:
        raise KeyRuleError(
            "secrets",
            "seeds the application's own vault, which usePlatformVault leaves out; drop "
            "usePlatformVault, or ask the platform team to seed the platform's vault",
        )


def _platform_vault_reads_delegated_secrets(config: AppStackConfig) -> None:
    # The platform delegates Key Vault Secrets User on the secrets it names, and no more.
    if not config.use_platform_vault or config.app.key_vault_role == "none":
        return
    if config.app.key_vault_role != "secretsUser":
        raise KeyRuleError(
            "app.keyVaultRole",
            "the platform delegates Key Vault Secrets User on its vault only; use secretsUser, "
            "or a vault of your own (usePlatformVault: false)",
        )
    if config.app.vault_wide:
        raise KeyRuleError(
            "app.secretScope",
            "with usePlatformVault, name the platform vault's secrets to read: the platform "
            "delegates grants on named secrets only",
        )


def _access_in_the_teams_group(config: AppStackConfig) -> None:
    # The team's deploy identity holds RBAC Administrator in its own resource group only.
    for index, access in enumerate(config.app.azure_access):
        group = access.resource.split("/")[4] if access.resource.count("/") > 4 else ""
        if group.lower() != config.resource_group.lower():
            raise KeyRuleError(
                ("app", "azureAccess", index, "resource"),
                f"is in resource group {group or '(none)'}: the team's deploy identity may grant "
                f"only on its own resources, in {config.resource_group}; ask the platform team "
                "for a grant elsewhere",
            )


RULES = (
    _platform_source_named,
    _access_in_the_teams_group,
    _workload_identity_only,
    _own_vault_for_seeded_secrets,
    _platform_vault_reads_delegated_secrets,
)

config = load_config(AppStackConfig, project=PROJECT, extra_rules={AppStackConfig: RULES})
# AZURE_TOKEN_CREDENTIALS only when the app opts in (app.pinCredential: true): an SDK older
# than azure-identity 1.24 (or its kin in other languages) refuses a credential's name there.
app = config.app.model_copy(update={"pin_credential": config.app.pin_credential is True})
names = EnvironmentNames(config.stack)
platform = (
    PlatformStack.published(config.platform_contract)
    if config.platform_contract and config.platform_source == "publishedContract"
    else PlatformStack(config.platform_stack)
)
# The tenant and subscription `pulumi up` runs in: the application's own.
client = authorization.get_client_config_output()

# The application's Azure resources live in the team's resource group, which bootstrap made
# (its teamVariables RESOURCE_GROUP): the team's CI may create resources there and nowhere
# else, so it could not create a group of its own. They are placed in the platform's region.
group_name = config.resource_group

if config.use_platform_vault:
    vault_id, vault_uri = platform.key_vault_resource_id, platform.key_vault_uri
    # The platform's vault may live in another subscription than the application.
    vault_subscription_id = vault_id.apply(subscription_of)
    secret_ids = {}
else:
    vault = KeyVault(
        "keyvault",
        KeyVaultArgs(
            settings=KeyVaultConfig(),
            names=names,
            resource_group_name=group_name,
            location=platform.location,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            purge_protection=config.protect,
            secrets=config.secrets,
            deployers=config.deployers,
            protect=config.protect,
        ),
    )
    vault_id, vault_uri = vault.vault_id, vault.vault_uri
    vault_subscription_id, secret_ids = vault.vault_subscription_id, vault.secret_ids

provider = kubernetes.Provider("platform-cluster", kubeconfig=platform.kubeconfig)
if config.create_namespace:
    namespace: kubernetes.core.v1.Namespace | pulumi.Output[str] = restricted_namespace(
        f"{app.name}-namespace", app.namespace, pulumi.ResourceOptions(provider=provider)
    )
else:
    # Every namespace a credential trusts must be the team's: another's could run as the app.
    federated = [account_namespace for account_namespace, _ in app.federated_service_accounts]
    namespace = platform.team_namespaces(config.team, federated).apply(lambda _: app.namespace)
service = ServiceIdentity(
    f"svc-{app.name}",
    ServiceIdentityArgs(
        settings=app,
        names=names,
        resource_group_name=group_name,
        location=platform.location,
        subscription_id=client.subscription_id,
        vault_id=vault_id,
        vault_uri=vault_uri,
        vault_subscription_id=vault_subscription_id,
        secret_ids=secret_ids,
        oidc_issuer_url=platform.oidc_issuer_url,
        tenant_id=client.tenant_id,
        kubelet_principal_id=platform.kubelet_identity.object_id,
        provider=provider,
        namespace=namespace,
        # app.retire: the first of the two deploys that remove the app from a protected stack.
        protect=config.protect and not app.retire,
        config_key="secretless-aks-consumer:app",
    ),
)

pulumi.export("clientId", service.client_id)
pulumi.export("identityResourceId", service.identity_resource_id)
pulumi.export("keyVaultUri", vault_uri)
