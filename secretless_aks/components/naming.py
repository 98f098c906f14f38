"""Azure names for one environment, derived from the stack name and nothing else.

Explicit names (instead of Pulumi's random suffixes) make the portal, the activity log and
`az` commands readable, and let a second project find these resources by convention. The
stack name is validated in `config` so that every name below fits Azure's rules
(`azure_limits`); the prefixes follow the Cloud Adoption Framework abbreviations (rg-, vnet-,
snet-, id-, aks-).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from secretless_aks.components import azure_limits

WORKLOAD = "secretless"
# Vault names are global across Azure: the random part after `kv-<stack>-` is never shorter
# than this, which is what bounds the stack name's length.
MIN_KEY_VAULT_SUFFIX_LENGTH = 4
MAX_STACK_NAME_LENGTH = (
    azure_limits.KEY_VAULT.max_length - len("kv--") - MIN_KEY_VAULT_SUFFIX_LENGTH
)
# The readable federated credential name joins namespace and ServiceAccount with "_", which
# neither can contain; a shortened one has a second "_" before a digest of the subject.
CREDENTIAL_NAME_SEPARATOR = "_"
CREDENTIAL_DIGEST_LENGTH = 16


@dataclass(frozen=True)
class EnvironmentNames:
    stack: str

    @property
    def resource_group(self) -> str:
        return f"rg-{WORKLOAD}-{self.stack}"

    @property
    def node_resource_group(self) -> str:
        # Named instead of AKS's default MC_<rg>_<cluster>_<region>, so it reads as ours.
        return f"rg-{WORKLOAD}-{self.stack}-nodes"

    @property
    def virtual_network(self) -> str:
        return f"vnet-{WORKLOAD}-{self.stack}"

    @property
    def node_subnet(self) -> str:
        return "snet-nodes"

    @property
    def cluster(self) -> str:
        return f"aks-{WORKLOAD}-{self.stack}"

    def identity(self, role: str) -> str:
        """A user-assigned identity: `id-<workload>-<stack>-<role>`."""
        return f"id-{WORKLOAD}-{self.stack}-{role}"

    @property
    def key_vault_suffix_length(self) -> int:
        """Random characters after `kv-<stack>-`, filling Key Vault's 24-character limit.

        Vault names are global across Azure: the longer the random part, the less likely a
        collision with someone else's vault (or our own soft-deleted one).
        """
        return azure_limits.KEY_VAULT.max_length - len(self.key_vault(""))

    def key_vault(self, suffix: str) -> str:
        return f"kv-{self.stack}-{suffix}"

    def service_identity(self, service: str) -> str:
        return self.identity(f"svc-{service}")


def federated_subject(namespace: str, service_account: str) -> str:
    """The token subject Kubernetes issues for a ServiceAccount (case-sensitive)."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def federated_credential_name(namespace: str, service_account: str) -> str:
    """The Azure name of the credential that trusts `system:serviceaccount:<ns>:<sa>`.

    Readable where it can be: `<namespace>_<serviceAccount>` (neither holds "_", so two
    subjects never meet). A ServiceAccount with "." (which Azure does not allow) or a pair too
    long for Azure's 120 characters is shortened, "." read as "-", and given "_" and a digest of
    the whole subject: two "_" never occur in a readable name, so the two kinds never collide.
    """
    readable = f"{namespace}{CREDENTIAL_NAME_SEPARATOR}{service_account}"
    limit = azure_limits.FEDERATED_CREDENTIAL.max_length
    if "." not in readable and len(readable) <= limit:
        return readable
    subject = federated_subject(namespace, service_account)
    digest = hashlib.sha256(subject.encode()).hexdigest()[:CREDENTIAL_DIGEST_LENGTH]
    head = readable.replace(".", "-")[: limit - len(digest) - len(CREDENTIAL_NAME_SEPARATOR)]
    return f"{head}{CREDENTIAL_NAME_SEPARATOR}{digest}"


@dataclass(frozen=True)
class TeamNames:
    """The Pulumi names of an application team's resources (AppTeam), in one place: the
    component builds them, and the config refuses two teams whose names would meet."""

    team: str

    @property
    def component(self) -> str:
        return f"team-{self.team}"

    def namespace(self, namespace: str) -> str:
        return f"{self.component}-namespace-{namespace}"

    def grant(self, role_slug: str, target: str, holder: str = "") -> str:
        """A role assignment's name: `<component>-<role>-on-<target>`, the group's; with a
        `holder`, `<component>-<holder>-<role>-on-<target>` (the team's deploy identity)."""
        who = f"{self.component}-{holder}" if holder else self.component
        return f"{who}-{role_slug}-on-{target}"
