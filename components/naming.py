"""Azure names for one environment, derived from the stack name and nothing else.

Explicit names (instead of Pulumi's random suffixes) make the portal, the activity log and
`az` commands readable, and let a second project find these resources by convention. The
stack name is validated in `config.py` so that every name below fits Azure's rules; the
prefixes follow the Cloud Adoption Framework abbreviations (rg-, vnet-, snet-, id-, aks-).
"""

from __future__ import annotations

from dataclasses import dataclass

WORKLOAD = "secretless"
KEY_VAULT_MAX_LENGTH = 24


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
        """A user-assigned identity: `id-<workload>-<stack>-<role>` (3-128 characters)."""
        return f"id-{WORKLOAD}-{self.stack}-{role}"

    @property
    def key_vault_suffix_length(self) -> int:
        """Random characters after `kv-<stack>-`, filling Key Vault's 24-character limit.

        Vault names are global across Azure: the longer the random part, the less likely a
        collision with someone else's vault (or our own soft-deleted one).
        """
        return KEY_VAULT_MAX_LENGTH - len(self.key_vault(""))

    def key_vault(self, suffix: str) -> str:
        return f"kv-{self.stack}-{suffix}"

    def service_identity(self, service: str) -> str:
        return self.identity(f"svc-{service}")
