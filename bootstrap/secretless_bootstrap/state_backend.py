"""Where the platform's stacks keep their state and the keys their secrets are encrypted with.

A Pulumi DIY backend in Azure Blob Storage (`azblob://<container>?storage_account=<account>`)
reached with Entra ID only, and Azure Key Vault keys for the stacks' secrets provider
(`azurekeyvault://<vault>.vault.azure.net/keys/<key>/<version>`). Neither has a password, an
account key or a connection string: whoever reaches them does so with a role on them. Each
platform stack has a container and a key of its own, so a role on one reaches no other stack's
state or secrets. Each platform stack also has a contract container, where its `pulumi up`
publishes what the environment's application teams read instead of its state
(secretless_aks/published_contract.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, keyvault, storage

from secretless_aks import published_contract
from secretless_aks.components import roles
from secretless_aks.components.key_vault import rbac_vault_properties
from secretless_bootstrap import key_roles, naming

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
    # The management subscription, where the account and the vault live: their names derive
    # from it, their roles name it.
    subscription_id: str
    resource_group_name: pulumi.Input[str]
    # The custom key roles may be assigned only within it.
    resource_group_id: pulumi.Input[str]
    location: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    # Whoever runs the bootstrap (client config objectId): an existing principal.
    runner_object_id: pulumi.Input[str]
    # The stacks, the platform's and the application teams': a container and a key each.
    stacks: Sequence[str]
    # The platform stacks, which publish a contract each.
    platform_stacks: Sequence[str] = ()
    # Keep the shared layout's container and key while stacks migrate off them.
    retain_shared_state: bool = False


class StateBackend(pulumi.ComponentResource):
    """A storage account with a container per stack, a vault with a key per stack, and the
    custom roles CI identities hold on their own stack's key.

    The account takes no shared key (no account key, no SAS), no anonymous blob access and
    nothing below TLS 1.2 over HTTPS; blob versions, blob and container soft delete keep every
    state file recoverable for STATE_RETENTION_DAYS. The vault authorizes with Azure RBAC only
    and keeps purge protection. The state resources are protected: deleting them would lose
    stacks.
    """

    container_ids: dict[str, pulumi.Output[str]]
    key_ids: dict[str, pulumi.Output[str]]
    # Per platform stack: its contract container, and the URL of the document in it.
    contract_container_ids: dict[str, pulumi.Output[str]]
    contract_urls: dict[str, pulumi.Output[str]]
    backend_urls: dict[str, pulumi.Output[str]]
    secrets_providers: dict[str, pulumi.Output[str]]
    # The custom roles on a key, and their definitions (which an assignment waits for).
    deploy_key_role: roles.CustomRole
    deploy_key_definition: authorization.RoleDefinition
    preview_key_role: roles.CustomRole
    preview_key_definition: authorization.RoleDefinition

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
        vault, key_writer = self._vault(name, args)
        self.deploy_key_role, self.deploy_key_definition = self._key_role(
            name, args, key_roles.DEPLOY
        )
        self.preview_key_role, self.preview_key_definition = self._key_role(
            name, args, key_roles.PREVIEW
        )
        self.container_ids, self.key_ids = {}, {}
        self.backend_urls, self.secrets_providers = {}, {}
        # (resource-name suffix, container, key, stack). The shared layout's keep their
        # resource names (`<name>-container`, `<name>-key`), so that a stack file moving to
        # this layout keeps them rather than replacing them.
        layout: list[tuple[str, str, str, str | None]] = [
            (f"-{stack}", naming.state_container(stack), naming.stack_key(stack), stack)
            for stack in args.stacks
        ]
        if args.retain_shared_state:
            layout.append(("", naming.LEGACY_STATE_CONTAINER, naming.LEGACY_STACKS_KEY, None))
        for suffix, container_name, key_name, stack in layout:
            container = storage.BlobContainer(
                f"{name}-container{suffix}",
                container_name=container_name,
                account_name=account.name,
                resource_group_name=args.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                opts=kept,
            )
            self._runner_grant(
                f"{name}-runner",
                roles.STORAGE_BLOB_DATA_CONTRIBUTOR,
                container.id,
                f"container{suffix}",
                "Whoever runs the bootstrap creates the platform stacks in this container "
                "(pulumi stack init), moves them between containers and can recover their state.",
                args,
            )
            key = self._stacks_key(f"{name}-key{suffix}", key_name, vault, key_writer, args)
            if stack:
                self.container_ids[stack] = container.id
                self.key_ids[stack] = key.id
                self.backend_urls[stack] = pulumi.Output.concat(
                    "azblob://", container.name, "?storage_account=", account.name
                )
                # The versioned URI: a key rotated later (a new version) cannot make the data
                # keys the stacks hold undecryptable, since they keep naming the version that
                # made them.
                self.secrets_providers[stack] = key.key_uri_with_version.apply(
                    lambda uri: "azurekeyvault://" + uri.removeprefix("https://")
                )
        self.contract_container_ids, self.contract_urls = {}, {}
        for stack in args.platform_stacks:
            # Not protected: the next `pulumi up` of the stack writes its document again.
            contract = storage.BlobContainer(
                f"{name}-contract-{stack}",
                container_name=naming.contract_container(stack),
                account_name=account.name,
                resource_group_name=args.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.contract_container_ids[stack] = contract.id
            self.contract_urls[stack] = pulumi.Output.concat(
                account.primary_endpoints.blob,
                contract.name,
                "/",
                published_contract.BLOB_NAME,
            )
        self.register_outputs(
            {
                "container_ids": self.container_ids,
                "key_ids": self.key_ids,
                "backend_urls": self.backend_urls,
                "secrets_providers": self.secrets_providers,
                "contract_urls": self.contract_urls,
            }
        )

    def _vault(
        self, name: str, args: StateBackendArgs
    ) -> tuple[keyvault.Vault, authorization.RoleAssignment]:
        """The vault, and the runner's grant that lets ARM create keys in it."""
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
        officer = self._runner_grant(
            f"{name}-runner",
            roles.KEY_VAULT_CRYPTO_OFFICER,
            vault.id,
            "vault",
            "Whoever runs the bootstrap creates the stacks' keys (and deletes them on destroy), "
            "and encrypts each new stack's data key (pulumi stack init).",
            args,
        )
        return vault, officer

    def _runner_grant(
        self,
        prefix: str,
        role: roles.Role,
        scope: pulumi.Input[str],
        scope_name: str,
        why: str,
        args: StateBackendArgs,
    ) -> authorization.RoleAssignment:
        """A grant to whoever runs the bootstrap: `<prefix>-<role>-on-<scope_name>`."""
        return roles.assign_role(
            f"{prefix}-{role.slug}-on-{scope_name}",
            role=role,
            scope=scope,
            subscription_id=args.subscription_id,
            principal_id=args.runner_object_id,
            principal_type=None,  # the runner exists already: ARM looks its type up
            description=why,
            parent=self,
        )

    def _key_role(
        self, name: str, args: StateBackendArgs, key_role: key_roles.KeyRole
    ) -> tuple[roles.CustomRole, authorization.RoleDefinition]:
        role_name, guid = naming.custom_role(args.subscription_id, key_role.purpose)
        definition = authorization.RoleDefinition(
            f"{name}-{key_role.purpose.replace(' ', '-')}-role",
            role_definition_id=guid,
            role_name=role_name,
            description=key_role.description,
            role_type="CustomRole",
            # Defined in the management subscription, assignable only within the bootstrap's
            # resource group (Learn, "Azure role definitions": assignableScopes).
            scope=f"/subscriptions/{args.subscription_id}",
            assignable_scopes=[args.resource_group_id],
            permissions=[authorization.PermissionArgs(data_actions=list(key_role.data_actions))],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return roles.CustomRole(role_name, guid), definition

    def _stacks_key(
        self,
        resource_name: str,
        key_name: str,
        vault: keyvault.Vault,
        key_writer: authorization.RoleAssignment,
        args: StateBackendArgs,
    ) -> keyvault.Key:
        return keyvault.Key(
            resource_name,
            key_name=key_name,
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
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[key_writer]),
        )
