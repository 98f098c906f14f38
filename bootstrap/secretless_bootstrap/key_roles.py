"""The two custom roles CI identities hold on their own environment's stacks key.

Pulumi's `azurekeyvault://` secrets provider (gocloud.dev's azurekeyvault keeper) calls Encrypt
once, when a stack is created (its 32-byte data key), and Decrypt on every run (RSA-OAEP-256).
A deploy identity therefore needs encrypt and decrypt, a preview identity decrypt only, and
both read (the key's properties). No built-in role is that narrow: Key Vault Crypto User also
grants keys/update/action (disable the key, stop every deploy), backup, wrap, unwrap, sign and
verify; Crypto Service Encryption User grants wrap and unwrap, which the keeper does not call.
Data actions: https://learn.microsoft.com/azure/role-based-access-control/permissions/security
"""

from __future__ import annotations

from dataclasses import dataclass

READ = "Microsoft.KeyVault/vaults/keys/read"
ENCRYPT = "Microsoft.KeyVault/vaults/keys/encrypt/action"
DECRYPT = "Microsoft.KeyVault/vaults/keys/decrypt/action"


@dataclass(frozen=True)
class KeyRole:
    purpose: str  # names the role (naming.custom_role) and its resource
    data_actions: tuple[str, ...]
    description: str


DEPLOY = KeyRole(
    "stacks key deploy",
    (READ, ENCRYPT, DECRYPT),
    "pulumi up with an azurekeyvault secrets provider: encrypt a new stack's data key, decrypt "
    "it on every run. Nothing else: no update, backup, wrap, sign or delete.",
)
PREVIEW = KeyRole(
    "stacks key preview",
    (READ, DECRYPT),
    "pulumi preview with an azurekeyvault secrets provider: decrypt the stack's data key. "
    "Nothing else.",
)
