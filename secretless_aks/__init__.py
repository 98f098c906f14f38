"""secretless-aks: AKS workloads that reach Azure with managed identities only, no secret anywhere.

The names below are the public API, for application projects on a secretless-aks platform
(`examples/consumer` is the template): read the platform stack, give an application its own
identity, vault and Kubernetes objects, and validate the project's config the way the platform
validates its own. The offline plan's command line is public too:
`python -m secretless_aks.offline.plan`, and `main(argv)` in that module, which runs it
in-process for a project's tests. All of them keep their meaning within a major version: a
breaking change to them, or to the platform's outputs contract (`CONTRACT_VERSION`), is a new
major version; an addition is a minor one.

Everything else (the modules under `secretless_aks.components` and `secretless_aks.offline`, and
names not listed here) is internal to the platform program and may change in any release.

- Reading the platform: `PlatformStack` (a typed StackReference that checks the contract version
  and names a missing output; `PlatformStack.published(url)` reads the same from the contract
  document the platform's environment publishes, without its state or key; `app_teams` and
  `team_namespaces` read and check the namespaces the platform made for application teams;
  `service_grants`, each platform service's data roles as `ServiceGrant`s),
  `ContractError`, `ContractBlobUrl` (a config field for the document's URL), `CONTRACT_VERSION`
  (the major version), `CONTRACT_MINOR_VERSION` (additions within it: 1.1 added `appTeams`),
  `SUPPORTED_CONTRACT_VERSIONS`.
- An application: `ServiceIdentity` / `ServiceIdentityArgs` (identity, Key Vault role, federated
  credential, ServiceAccount, Deployment, in a Namespace the project creates or one that exists,
  such as its team's), `KeyVault` / `KeyVaultArgs` (an RBAC-only vault with secrets seeded from
  encrypted config), `restricted_namespace` (a Namespace under the `restricted` Pod Security
  Standard that denies ingress by default), `EnvironmentNames`.
- Roles: `assign_role` (every grant, named from scope, role and principal), `BuiltInRole`, the
  roles an application grants (`KEY_VAULT_SECRETS_USER`, `KEY_VAULT_SECRETS_OFFICER`,
  `ACR_PULL`), `SERVICE_PRINCIPAL`, `subscription_of`, `rbac_vault_properties`.
- Config: `load_config` (one ConfigError naming every wrong key), `ConfigModel`, `ServiceConfig`
  (an application, as a platform `services` entry), `KeyVaultConfig`, `DeployerConfig` (a
  `deployers` entry: who runs `pulumi up`, which `KeyVaultArgs.deployers` takes), `ConfigSecret`,
  `StackName`, `KeyRuleError` (a project's own rules across keys), `ConfigError`.
"""

from secretless_aks.components.config import (
    ConfigError,
    ConfigModel,
    ConfigSecret,
    ContractBlobUrl,
    DeployerConfig,
    KeyRuleError,
    KeyVaultConfig,
    ServiceConfig,
    StackName,
    load_config,
)
from secretless_aks.components.key_vault import KeyVault, KeyVaultArgs, rbac_vault_properties
from secretless_aks.components.kubernetes_platform import restricted_namespace
from secretless_aks.components.naming import EnvironmentNames
from secretless_aks.components.roles import (
    ACR_PULL,
    KEY_VAULT_SECRETS_OFFICER,
    KEY_VAULT_SECRETS_USER,
    SERVICE_PRINCIPAL,
    BuiltInRole,
    assign_role,
    subscription_of,
)
from secretless_aks.components.service_identity import ServiceIdentity, ServiceIdentityArgs
from secretless_aks.contract import (
    CONTRACT_MINOR_VERSION,
    CONTRACT_VERSION,
    SUPPORTED_CONTRACT_VERSIONS,
    ContractError,
    PlatformStack,
    ServiceGrant,
)

# The package's version (pyproject.toml reads it from here).
__version__ = "2.1.0"

__all__ = [
    "ACR_PULL",
    "CONTRACT_MINOR_VERSION",
    "CONTRACT_VERSION",
    "KEY_VAULT_SECRETS_OFFICER",
    "KEY_VAULT_SECRETS_USER",
    "SERVICE_PRINCIPAL",
    "SUPPORTED_CONTRACT_VERSIONS",
    "BuiltInRole",
    "ConfigError",
    "ConfigModel",
    "ConfigSecret",
    "ContractBlobUrl",
    "ContractError",
    "DeployerConfig",
    "EnvironmentNames",
    "KeyRuleError",
    "KeyVault",
    "KeyVaultArgs",
    "KeyVaultConfig",
    "PlatformStack",
    "ServiceConfig",
    "ServiceGrant",
    "ServiceIdentity",
    "ServiceIdentityArgs",
    "StackName",
    "__version__",
    "assign_role",
    "load_config",
    "rbac_vault_properties",
    "restricted_namespace",
    "subscription_of",
]
