"""Where the platform's stacks keep their state and the key their secrets are encrypted with.

A Pulumi DIY backend in Azure Blob Storage (`azblob://<container>?storage_account=<account>`)
reached with Entra ID only, and an Azure Key Vault key for the stacks' secrets provider
(`azurekeyvault://<vault>.vault.azure.net/keys/<key>/<version>`). Neither has a password, an
account key or a connection string: whoever reaches them does so with a role on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault, storage

from secretless_aks.components import roles
from secretless_aks.components.key_vault import rbac_vault_properties
from secretless_bootstrap import naming

# Days a deleted or overwritten state blob (and a deleted container) can still be restored.
STATE_RETENTION_DAYS = 30
# Days a deleted vault (and its key) can be recovered; Azure's maximum, and with purge
# protection nobody can shorten it.
VAULT_RETENTION_DAYS = 90
# RSA-OAEP-256 over a 3072-bit key: what gocloud.dev's azurekeyvault keeper (which Pulumi's
# secrets provider uses) sends by default, at a size NIST deems sound beyond 2030.
KEY_SIZE = 3072


@dataclass(frozen=True)
class StateBackendArgs:
    # Where the account and the vault live: their names derive from it, their roles name it.
    subscription_id: str
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    # Whoever runs the bootstrap (client config objectId): an existing principal.
    runner_object_id: pulumi.Input[str]


class StateBackend(pulumi.ComponentResource):
    """A storage account, its `pulumi-state` container, and a vault holding the stacks' key.

    The account takes no shared key (no account key, no SAS), no anonymous blob access and
    nothing below TLS 1.2 over HTTPS; blob versions, blob and container soft delete keep every
    state file recoverable for STATE_RETENTION_DAYS. The vault authorizes with Azure RBAC only
    and keeps purge protection. The state resources are protected: deleting them would lose
    every stack.
    """

    container_id: pulumi.Output[str]
    key_id: pulumi.Output[str]
    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:bootstrap:StateBackend", name, None, opts)
        kept = pulumi.ResourceOptions(parent=self, protect=True)
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=naming.storage_account(args.subscription_id),
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
            access_tier=storage.AccessTier.HOT,
            # Entra ID only: every request carries a token for a principal with a role here.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            enable_https_traffic_only=True,
            opts=kept,
        )
        storage.BlobServiceProperties(
            f"{name}-blob-service",
            blob_services_name="default",
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            # Every write of a checkpoint keeps the one before it as a version.
            is_versioning_enabled=True,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=STATE_RETENTION_DAYS
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=STATE_RETENTION_DAYS
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        container = storage.BlobContainer(
            f"{name}-container",
            container_name=naming.STATE_CONTAINER,
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            public_access=storage.PublicAccess.NONE,
            opts=kept,
        )
        self.container_id = container.id
        roles.assign_role(
            f"{name}-runner-{roles.STORAGE_BLOB_DATA_CONTRIBUTOR.slug}-on-container",
            role=roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
            scope=container.id,
            subscription_id=args.subscription_id,
            principal_id=args.runner_object_id,
            principal_type=None,  # the runner exists already: ARM looks its type up
            description="Whoever runs the bootstrap creates the platform stacks in this "
            "container (pulumi stack init) and can recover their state.",
            parent=self,
        )
        key = self._stacks_key(name, args)
        self.key_id = key.id
        self.backend_url = account.name.apply(
            lambda account_name: f"azblob://{naming.STATE_CONTAINER}?storage_account={account_name}"
        )
        # The versioned URI: a key rotated later (a new version) cannot make the data keys
        # the stacks hold undecryptable, since they keep naming the version that made them.
        self.secrets_provider = key.key_uri_with_version.apply(
            lambda uri: "azurekeyvault://" + uri.removeprefix("https://")
        )
        self.register_outputs(
            {
                "container_id": self.container_id,
                "key_id": self.key_id,
                "backend_url": self.backend_url,
                "secrets_provider": self.secrets_provider,
            }
        )

    def _stacks_key(self, name: str, args: StateBackendArgs) -> keyvault.Key:
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=naming.key_vault(args.subscription_id),
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=rbac_vault_properties(
                tenant_id=args.tenant_id,
                soft_delete_retention_days=VAULT_RETENTION_DAYS,
                purge_protection=True,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        officer = roles.assign_role(
            f"{name}-runner-{roles.KEY_VAULT_CRYPTO_OFFICER.slug}-on-vault",
            role=roles.KEY_VAULT_CRYPTO_OFFICER,
            scope=vault.id,
            subscription_id=args.subscription_id,
            principal_id=args.runner_object_id,
            principal_type=None,  # the runner exists already: ARM looks its type up
            description="Whoever runs the bootstrap creates the stacks' key (and deletes it "
            "on destroy), and encrypts each new stack's data key (pulumi stack init).",
            parent=self,
        )
        return keyvault.Key(
            f"{name}-key",
            key_name=naming.STACKS_KEY,
            vault_name=vault.name,
            resource_group_name=args.resource_group_name,
            properties=keyvault.KeyPropertiesArgs(
                kty=keyvault.JsonWebKeyType.RSA,
                key_size=KEY_SIZE,
                # What the secrets provider calls, and nothing else (no wrap, sign or verify).
                key_ops=[
                    keyvault.JsonWebKeyOperation.ENCRYPT,
                    keyvault.JsonWebKeyOperation.DECRYPT,
                ],
                # No expiry: an expired key would stop every deploy on that date.
                attributes=keyvault.KeyAttributesArgs(enabled=True),
            ),
            # ARM creates a key in an RBAC vault with the caller's data-plane rights
            # (pulumi/pulumi-azure-native#890: ForbiddenByRbac without them); no data link
            # carries that ordering. ARM can create a key but never change one
            # (Keys_CreateIfNotExist), and azure-native deletes it through the data plane
            # (custom_keyvault.go), with the same rights.
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[officer]),
        )
