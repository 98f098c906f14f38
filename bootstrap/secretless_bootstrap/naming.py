"""The bootstrap's Azure names, derived from the subscription and the platform's own naming.

Identities of a deploy environment take the platform stack's names (`EnvironmentNames`), so
`id-secretless-prod-deploy` reads as prod's next to `id-secretless-prod-kubelet`. The state
account and vault are global names: a digest of the subscription makes them unique to it and
stable across runs (like Bicep's uniqueString(subscription().id)), with no random resource.
"""

from __future__ import annotations

import hashlib

from secretless_aks.components.naming import WORKLOAD, EnvironmentNames

# Everything the bootstrap creates lives here; no platform stack name can produce it (the
# config refuses a stack named `bootstrap`).
RESOURCE_GROUP = f"rg-{WORKLOAD}-bootstrap"
# The blob container every stack's state lives in, and the key that encrypts their secrets.
STATE_CONTAINER = "pulumi-state"
STACKS_KEY = "pulumi-stacks"
# The GitHub environment the pull-request preview job runs in (pr-plan.yml), and its identity.
PREVIEW_ENVIRONMENT = "preview"
PREVIEW_IDENTITY = f"id-{WORKLOAD}-preview"
# A federated credential is named after the one GitHub environment it trusts.
CREDENTIAL_PREFIX = "github-"
DIGEST_LENGTH = 8


def _digest(subscription_id: str) -> str:
    return hashlib.sha256(subscription_id.lower().encode()).hexdigest()[:DIGEST_LENGTH]


def storage_account(subscription_id: str) -> str:
    """`st<workload><digest>`: 20 lowercase letters and digits (storage allows 3-24)."""
    return f"st{WORKLOAD}{_digest(subscription_id)}"


def key_vault(subscription_id: str) -> str:
    """`kv-<workload>-<digest>`: 22 characters (Key Vault allows 3-24).

    Purge protection keeps a deleted vault's name for its retention period (90 days): a
    bootstrap destroyed and created again in the same subscription within it cannot reuse it.
    """
    return f"kv-{WORKLOAD}-{_digest(subscription_id)}"


def deploy_identity(stack: str) -> str:
    return EnvironmentNames(stack).identity("deploy")


def federated_credential(environment: str) -> str:
    return f"{CREDENTIAL_PREFIX}{environment}"
