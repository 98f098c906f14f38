"""The Key Vault: created with RBAC authorization only, or an existing vault read as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random
from pulumi_azure_native import keyvault

from secretless_aks.components import roles
from secretless_aks.components.config import (
    DEFAULT_PUBLIC_NETWORK_ACCESS,
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    DeployerConfig,
    GeneratedSecretConfig,
    KeyVaultConfig,
)
from secretless_aks.components.config_secrets import ConfigSecret
from secretless_aks.components.naming import EnvironmentNames
from secretless_aks.components.outputs import required


@dataclass(frozen=True)
class KeyVaultArgs:
    settings: KeyVaultConfig
    names: EnvironmentNames
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    # The deployment's: a created vault lives there, and an existing one unless its config
    # names another.
    subscription_id: pulumi.Input[str]
    purge_protection: bool
    secrets: tuple[ConfigSecret, ...]
    # Who runs `pulumi up` (config `deployers`), and so seeds and deletes the secrets.
    deployers: tuple[DeployerConfig, ...]
    # Allowed through the vault firewall when `allowedIpRanges` closes it to everyone else;
    # None for a project without a cluster subnet of its own (an application's vault).
    node_subnet_id: pulumi.Input[str] | None = None
    protect: bool = False
    # Settings whose values `random` makes (config `generatedSecrets`), seeded like `secrets`.
    generated_secrets: tuple[GeneratedSecretConfig, ...] = ()
    # The region as config names it, when the program knows it: a created vault's name then
    # changes exactly when a region move replaces the vault (see _create_vault).
    region: str | None = None


class KeyVault(pulumi.ComponentResource):
    """Provides the vault's id, name, URI and subscription (roles on the vault and its secrets
    are named there), and the ids of the secrets seeded from config.

    A created vault authorizes with Azure RBAC only (no access policies), keeps soft delete,
    and gets a stable random suffix: its name stays reserved for the retention period after a
    delete, so a recreated vault needs a new one.
    """

    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    vault_subscription_id: pulumi.Output[str]
    secret_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:keyvault:KeyVault", name, None, opts)
        existing = args.settings.existing
        if existing is None:
            vault = self._create_vault(name, args)
            group: pulumi.Input[str] = args.resource_group_name
            subscription = args.subscription_id
        else:
            subscription = (
                str(existing.subscription_id) if existing.subscription_id else args.subscription_id
            )
            vault = keyvault.Vault.get(
                f"{name}-vault",
                pulumi.Output.concat(
                    "/subscriptions/",
                    subscription,
                    f"/resourceGroups/{existing.resource_group}",
                    f"/providers/Microsoft.KeyVault/vaults/{existing.name}",
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            group = existing.resource_group
        self.vault_subscription_id = pulumi.Output.from_input(subscription)
        properties = vault.properties.apply(_require_rbac_authorization)
        # The id waits for the RBAC check, so no role is granted on an access-policy vault.
        self.vault_id = pulumi.Output.all(vault.id, properties).apply(lambda both: both[0])
        self.vault_name = vault.name
        self.vault_uri = properties.apply(lambda p: required(p.vault_uri, "vaultUri for the vault"))
        self.secret_ids = self._seed_secrets(name, args, group)
        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "vault_name": self.vault_name,
                "vault_uri": self.vault_uri,
                "vault_subscription_id": self.vault_subscription_id,
                "secret_ids": self.secret_ids,
            }
        )

    def _create_vault(self, name: str, args: KeyVaultArgs) -> keyvault.Vault:
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self, protect=args.protect)
        # A deleted vault's name stays reserved while it is soft-deleted (up to 90 days), so a
        # vault a region move replaces needs a new one. The suffix is kept per region: a move
        # creates the new region's suffix, hence a new name, while every vault already
        # deployed keeps its own (its suffix, once `<name>-suffix`, is taken over by alias).
        # Keepers would do it too, but adding them replaces the random resource, and so every
        # deployed vault.
        suffix = random.RandomString(
            f"{name}-suffix-{args.region}" if args.region else f"{name}-suffix",
            length=args.names.key_vault_suffix_length,
            special=False,
            upper=False,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-suffix")])
                if args.region
                else None,
            ),
        )
        network_acls = None
        if settings.allowed_ip_ranges:
            network_acls = keyvault.NetworkRuleSetArgs(
                default_action=keyvault.NetworkRuleAction.DENY,
                bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                ip_rules=[
                    keyvault.IPRuleArgs(value=str(cidr)) for cidr in settings.allowed_ip_ranges
                ],
                # The pods reach the vault from the node subnet (Microsoft.KeyVault endpoint).
                virtual_network_rules=[keyvault.VirtualNetworkRuleArgs(id=args.node_subnet_id)]
                if args.node_subnet_id is not None
                else None,
            )
        return keyvault.Vault(
            f"{name}-vault",
            vault_name=suffix.result.apply(args.names.key_vault),
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=rbac_vault_properties(
                tenant_id=args.tenant_id,
                soft_delete_retention_days=settings.soft_delete_retention_days
                or DEFAULT_SOFT_DELETE_RETENTION_DAYS,
                purge_protection=args.purge_protection,
                public_network_access=settings.public_network_access
                or DEFAULT_PUBLIC_NETWORK_ACCESS,
                network_acls=network_acls,
            ),
            opts=child,
        )

    def _seed_secrets(
        self, name: str, args: KeyVaultArgs, group: pulumi.Input[str]
    ) -> dict[str, pulumi.Output[str]]:
        values = {
            secret.name: pulumi.Output.secret(secret.value.reveal()) for secret in args.secrets
        }
        for generated in args.generated_secrets:
            # Made once and kept in state (encrypted): later runs seed the same value; a new
            # length makes a new one.
            password = random.RandomPassword(
                f"{name}-generated-{generated.name.lower()}",
                length=generated.length,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # Secret by the provider's schema already; said here, so no path can lose it.
            values[generated.name] = pulumi.Output.secret(password.result)
        if not values:
            return {}
        # Officer, not just the ARM write Contributor would allow: azure-native writes a secret
        # through ARM but deletes it through the vault's data plane (custom_keyvault.go in
        # pulumi-azure-native), so removing a secret from config, or `pulumi destroy`, needs
        # a data-plane role here (and network reach, which config.py checks).
        writers = roles.assign_to_deployers(
            f"{name}-deployer",
            "secrets-officer",
            role=roles.KEY_VAULT_SECRETS_OFFICER,
            scope=self.vault_id,
            subscription_id=self.vault_subscription_id,
            deployers=args.deployers,
            description="A deployer (config deployers) seeds the secrets kept in stack config "
            "and deletes them through the data plane.",
            parent=self,
        )
        secret_ids: dict[str, pulumi.Output[str]] = {}
        for secret_name, value in values.items():
            created = keyvault.Secret(
                f"{name}-secret-{secret_name.lower()}",
                resource_group_name=group,
                vault_name=self.vault_name,
                secret_name=secret_name,
                properties=keyvault.SecretPropertiesArgs(value=value),
                # No data link says the writers' role must exist before the write.
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(writers)),
            )
            secret_ids[secret_name] = created.id
        return secret_ids


def secret_scope(
    vault_id: pulumi.Input[str], seeded: Mapping[str, pulumi.Output[str]], secret: str
) -> pulumi.Input[str]:
    """The scope of a role on one secret of the vault: a secret this stack seeds by its id, so
    the grant waits for the secret to exist; any other by the id it has in the vault."""
    for name, secret_id in seeded.items():
        if name.lower() == secret.lower():  # Key Vault names are case-insensitive
            return secret_id
    return pulumi.Output.concat(vault_id, f"/secrets/{secret}")


def read_targets(
    vault_id: pulumi.Input[str],
    seeded: Mapping[str, pulumi.Output[str]],
    secrets: Sequence[str] | None,
) -> list[tuple[str, pulumi.Input[str], str]]:
    """Where a reading role goes: the vault (`secrets` None), or each of `secrets`, as
    (resource-name fragment, scope, what a description calls it)."""
    if secrets is None:
        return [("vault", vault_id, "its Key Vault")]
    return [
        (f"secret-{secret.lower()}", secret_scope(vault_id, seeded, secret), f"the secret {secret}")
        for secret in secrets
    ]


def rbac_vault_properties(
    *,
    tenant_id: pulumi.Input[str],
    soft_delete_retention_days: int,
    purge_protection: bool,
    public_network_access: str | None = None,
    network_acls: keyvault.NetworkRuleSetArgs | None = None,
) -> keyvault.VaultPropertiesArgs:
    """A vault as this project makes every one (the platform's, and bootstrap's for the stacks'
    key): standard SKU, soft delete, and authorization by Azure RBAC only."""
    return keyvault.VaultPropertiesArgs(
        tenant_id=tenant_id,
        sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
        # Authorization by Azure RBAC only: access policies are ignored, and none exist.
        enable_rbac_authorization=True,
        access_policies=[],
        enable_soft_delete=True,
        soft_delete_retention_in_days=soft_delete_retention_days,
        # Azure accepts only true here: once on, purge protection cannot be turned off.
        enable_purge_protection=True if purge_protection else None,
        public_network_access=public_network_access,
        network_acls=network_acls,
    )


def _require_rbac_authorization(properties: Any) -> Any:
    # A vault on access policies ignores role assignments: every grant here would be void.
    if properties is not None and properties.enable_rbac_authorization is False:
        raise ValueError(
            "the Key Vault uses access policies; secretless-aks grants access with Azure RBAC "
            "roles only. Switch the vault to the Azure RBAC permission model first "
            "(enableRbacAuthorization: true)"
        )
    return properties
