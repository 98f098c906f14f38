"""The bootstrap's Azure and GitHub names, derived from the management subscription, the
platform stacks and the GitHub environments.

Identities, state containers and keys of an environment take the platform stack's name
(`EnvironmentNames`), so `id-secretless-prod-deploy` reads as prod's next to
`id-secretless-prod-kubelet`. The state account and vault are global names: a digest of the
management subscription makes them unique to it and stable across runs (like Bicep's
uniqueString(subscription().id)), with no random resource; the custom roles' GUIDs and names
derive from it too, since both are unique in the tenant.
"""

from __future__ import annotations

import hashlib
import uuid

from secretless_aks.components.naming import WORKLOAD, EnvironmentNames

# Everything the bootstrap creates lives here; no platform stack name can produce it (the
# config refuses a stack named `bootstrap`).
RESOURCE_GROUP = f"rg-{WORKLOAD}-bootstrap"
# The single container and key every stack shared before each environment had its own; kept
# only while stacks migrate (bootstrap:retainSharedState).
LEGACY_STATE_CONTAINER = "pulumi-state"
LEGACY_STACKS_KEY = "pulumi-stacks"
# The one preview environment of that layout: no deploy environment may take its name.
LEGACY_PREVIEW_ENVIRONMENT = "preview"
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


def container_registry(subscription_id: str) -> str:
    """`cr<workload><digest>`: 18 letters and digits (a registry allows 5-50, no hyphens)."""
    return f"cr{WORKLOAD}{_digest(subscription_id)}"


# The identity the image build signs in as, federated with pushes to main.
BUILD_IDENTITY = f"id-{WORKLOAD}-build"
BUILD_BRANCH_CLAIM = "ref:refs/heads/main"
BUILD_CREDENTIAL = f"{CREDENTIAL_PREFIX}main-branch"


def deploy_identity(stack: str) -> str:
    return EnvironmentNames(stack).identity("deploy")


def federated_credential(environment: str) -> str:
    return f"{CREDENTIAL_PREFIX}{environment}"


def preview_environment(environment: str) -> str:
    """The GitHub environment an environment's pull-request previews run in."""
    return f"preview-{environment}"


def preview_identity(stack: str) -> str:
    return EnvironmentNames(stack).identity("preview")


# Azure's limit for a blob container's name (3-63 characters).
MAX_CONTAINER_NAME_LENGTH = 63
# What an application team's resources in an environment are named after:
# `team-<team>-<stack>`. No platform stack may start with it (the config refuses one), so a
# team's container and key are never a platform stack's.
TEAM_PREFIX = "team-"


def team_stack(team: str, stack: str) -> str:
    """`team-<team>-<stack>`: the team's state container and key in the environment of
    `stack` are named after it, as a platform stack's are after the stack."""
    return f"{TEAM_PREFIX}{team}-{stack}"


def team_deploy_identity(team: str, stack: str) -> str:
    return EnvironmentNames(stack).identity(f"{TEAM_PREFIX}{team}-deploy")


def team_resource_group(team: str, stack: str) -> str:
    """`rg-team-<team>-<stack>`, in the environment's subscription: never a platform group's
    name (`rg-secretless-<stack>`), whatever the team is called."""
    return f"rg-{TEAM_PREFIX}{team}-{stack}"


def state_container(stack: str) -> str:
    """`state-<stack>`: 3-63 lowercase letters, digits and single hyphens, as a stack name is."""
    return f"state-{stack}"


def contract_container(stack: str) -> str:
    """`contract-<stack>`: where the platform stack publishes its contract for the
    environment's application teams (published_contract.BLOB_NAME in it)."""
    return f"contract-{stack}"


def stack_key(stack: str) -> str:
    """`stack-<stack>`: never `pulumi-stacks`, the shared key, whatever the stack's name."""
    return f"stack-{stack}"


# Fixed namespace for the custom roles' GUIDs: uuid5(this, subscription|purpose).
_CUSTOM_ROLE_NAMESPACE = uuid.UUID("7a4f3b2e-9c1d-4e8f-a6b5-3d2c1e0f9a87")


def custom_role(subscription_id: str, purpose: str) -> tuple[str, str]:
    """A custom role's display name and GUID, both unique in the tenant (Azure refuses a second
    role of the same name: RoleDefinitionWithSameNameExists) and stable across runs."""
    name = f"{WORKLOAD} {purpose} ({_digest(subscription_id)})"
    guid = uuid.uuid5(_CUSTOM_ROLE_NAMESPACE, f"{subscription_id.lower()}|{purpose}")
    return name, str(guid)
