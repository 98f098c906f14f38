"""Azure's and Kubernetes' naming and count limits that this program relies on, as data.

These are facts about the platforms, not about our config: validation (`components/config`)
and name derivation (`components/naming.py`) read them from here, and `tests/test_azure_limits.py`
probes each one at and just past its boundary. Every number cites where it was read.

RN = https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameLimit:
    """What a name may be: its length range and a full-match pattern over its characters."""

    what: str
    min_length: int
    max_length: int
    pattern: str
    rule: str  # the rule in words, for error messages

    def check(self, name: str) -> str | None:
        """None when `name` is valid, else what is wrong with it."""
        if not self.min_length <= len(name) <= self.max_length:
            return (
                f"{self.what} {name!r} has {len(name)} characters; "
                f"{self.min_length}-{self.max_length} are allowed"
            )
        if not re.fullmatch(self.pattern, name):
            return f"{self.what} {name!r} must be {self.rule}"
        return None


# RN, Microsoft.KeyVault/vaults: "3-24. Alphanumerics and hyphens. Start with letter. End with
# letter or digit. Can't contain consecutive hyphens." Global, and reserved while soft-deleted.
# (The REST spec's pattern ^[a-zA-Z0-9-]{3,24}$ is looser; the documented rule is enforced.)
KEY_VAULT = NameLimit(
    "Key Vault name",
    3,
    24,
    r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]",
    "letters, digits and hyphens, starting with a letter, ending with a letter or digit, "
    "with no '--'",
)

# RN, Microsoft.ManagedIdentity/userAssignedIdentities: "3-128. Alphanumerics, hyphens, and
# underscores. Start with letter or number."
USER_ASSIGNED_IDENTITY = NameLimit(
    "managed identity name",
    3,
    128,
    r"[a-zA-Z0-9][a-zA-Z0-9_-]*",
    "letters, digits, '-' and '_', starting with a letter or digit",
)

# azure-rest-api-specs, msi ManagedIdentity.json, federatedIdentityCredentialResourceName:
# "^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$"; Entra "Create a trust relationship" page: "3-120
# characters ... the first character must be alphanumeric ... immutable once created".
# https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust
FEDERATED_CREDENTIAL = NameLimit(
    "federated credential name",
    3,
    120,
    r"[a-zA-Z0-9][a-zA-Z0-9_-]*",
    "letters, digits, '-' and '_', starting with a letter or digit",
)
# Same page: "A maximum of 20 federated identity credentials can be added to an application or
# user-assigned managed identity."
FEDERATED_CREDENTIALS_PER_IDENTITY = 20

# RN, Microsoft.ContainerService/managedClusters: "1-63. Alphanumerics, underscores, and
# hyphens. Start and end with alphanumeric." (REST spec pattern
# ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$).
CLUSTER = NameLimit(
    "cluster name",
    1,
    63,
    r"[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?",
    "letters, digits, '-' and '_', starting and ending with a letter or digit",
)

# The REST spec gives dnsPrefix no pattern and Microsoft documents none; azurerm's validator
# (hashicorp/terraform-provider-azurerm, internal/services/containers/validate/kubernetes.go)
# says 1-54 letters, digits and hyphens, starting and ending with a letter or digit (older
# sources say 45). Immutable after creation. Our prefixes are far shorter either way.
DNS_PREFIX = NameLimit(
    "DNS prefix",
    1,
    54,
    r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?",
    "letters, digits and '-', starting and ending with a letter or digit",
)

# RN, resourcegroups: "1-90. Underscores, hyphens, periods, parentheses, and letters or digits
# ... Can't end with period."
RESOURCE_GROUP = NameLimit(
    "resource group name",
    1,
    90,
    r"[-\w.()]*[-\w()]",
    "letters, digits, '-', '_', '.', '(' and ')', not ending in '.'",
)

# The node resource group is a resource group, but AKS refuses more than 80 characters ("The
# length of the node resource group name is too long. The maximum length is 80", the AKS API's
# error as reported in Azure-Terraform/terraform-azurerm-kubernetes#33).
NODE_RESOURCE_GROUP = NameLimit(
    "node resource group name", 1, 80, RESOURCE_GROUP.pattern, RESOURCE_GROUP.rule
)

# RN, vaults/secrets: "1-127. Alphanumerics and hyphens." (REST spec ^[a-zA-Z0-9-]{1,127}$).
KEY_VAULT_SECRET = NameLimit("secret name", 1, 127, r"[a-zA-Z0-9-]+", "letters, digits and hyphens")

# RN, Microsoft.Storage/storageAccounts: "3-24. Lowercase letters and numbers." Global, like a
# vault's name (it is the host name <name>.blob.core.windows.net).
STORAGE_ACCOUNT = NameLimit(
    "storage account name", 3, 24, r"[a-z0-9]+", "lowercase letters and digits"
)

# RN, storageAccounts/blobServices/containers: "3-63. Lowercase letters, numbers, and hyphens.
# Start with lowercase letter or number. Can't use consecutive hyphens."
BLOB_CONTAINER = NameLimit(
    "blob container name",
    3,
    63,
    r"[a-z0-9](?!.*--)[a-z0-9-]*",
    "lowercase letters, digits and hyphens, starting with a letter or digit, with no '--'",
)

# Role assignment descriptions: the REST spec (authorization RoleAssignmentsCalls.json) sets no
# maxLength and none is documented. This is our own cap, kept far below any plausible limit so
# every description is a sentence, not a paragraph.
ROLE_ASSIGNMENT_DESCRIPTION_MAX_LENGTH = 256

# Azure region names as ARM and the CLI spell them (`az account list-locations -o table`):
# lowercase letters and digits only (westeurope, eastus2, centraluseuap). Display names such
# as "West Europe" are not accepted by every API.
LOCATION = NameLimit(
    "Azure region",
    2,
    64,
    r"[a-z][a-z0-9]*",
    "lowercase letters and digits, such as westeurope (not a display name)",
)

# Kubernetes object names, https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
# Namespaces: RFC 1123 labels, 63 characters at most.
KUBERNETES_NAMESPACE = NameLimit(
    "namespace",
    1,
    63,
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
    "lowercase letters, digits and '-', starting and ending with a letter or digit",
)
# ServiceAccounts: DNS subdomains, 253 characters at most.
KUBERNETES_SERVICE_ACCOUNT = NameLimit(
    "ServiceAccount name",
    1,
    253,
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
)
# Services (and so our service names, which name one): RFC 1035 labels, starting with a letter.
KUBERNETES_SERVICE = NameLimit(
    "service name",
    1,
    63,
    r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
)

# Namespaces Kubernetes, AKS and its add-ons own: no service runs there and no team is given
# one (AKS RBAC Writer there reaches the add-ons' ServiceAccounts). One list, for both rules.
# - Kubernetes: kube-system, kube-public, kube-node-lease, default, and every kube- name
#   (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces);
#   the AAD Pod Identity chart runs in kube-system here.
# - Azure Policy for AKS: gatekeeper-system
#   (https://learn.microsoft.com/azure/governance/policy/concepts/policy-for-kubernetes).
# - Calico network policy: tigera-operator, calico-system
#   (https://learn.microsoft.com/azure/aks/use-network-policies).
# - `az aks command invoke`: aks-command
#   (https://learn.microsoft.com/azure/aks/access-private-cluster).
# - The application routing add-on: app-routing-system
#   (https://learn.microsoft.com/azure/aks/app-routing).
RESERVED_NAMESPACES: dict[str, str] = {
    "kube-system": "Kubernetes",
    "kube-public": "Kubernetes",
    "kube-node-lease": "Kubernetes",
    "default": "Kubernetes",
    "gatekeeper-system": "Azure Policy for AKS (Gatekeeper)",
    "tigera-operator": "Calico's operator",
    "calico-system": "Calico",
    "aks-command": "AKS (az aks command invoke)",
    "app-routing-system": "AKS's application routing add-on",
}
RESERVED_NAMESPACE_PREFIX = "kube-"


def reserved_namespace_owner(namespace: str) -> str | None:
    """Who owns `namespace`, when AKS, Kubernetes or an add-on does; None for a free one."""
    if namespace in RESERVED_NAMESPACES:
        return RESERVED_NAMESPACES[namespace]
    if namespace.startswith(RESERVED_NAMESPACE_PREFIX):
        return "Kubernetes (kube- names)"
    return None


# Every namespace's own ServiceAccount, which every pod without one runs as: federating it would
# hand the identity to every pod in the namespace.
# https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts
DEFAULT_SERVICE_ACCOUNT = "default"

# AKS node pool names: azure-rest-api-specs, containerservice aks/stable/2025-09-01
# managedClusters.json, ManagedClusterAgentPoolProfile.name: "^[a-z][a-z0-9]{0,11}$" (Windows
# pools: 6 characters at most, the description adds). Immutable: a new name is a new pool.
AGENT_POOL = NameLimit(
    "node pool name",
    1,
    12,
    r"[a-z][a-z0-9]*",
    "lowercase letters and digits, starting with a letter",
)

# Learn, "Secure access to the API server using authorized IP address ranges in AKS":
# https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges
# "You can specify up to 200 authorized IP ranges. To go beyond this limit, consider using API
# Server VNet Integration, which supports up to 2,000". AKS refuses more with "The number of
# APIServer Authorized IP Ranges is greater than the allowed value 200" (as quoted in
# StatCan/aaw#545). It counts ranges, not addresses (MicrosoftDocs/azure-docs#81008).
API_SERVER_AUTHORIZED_IP_RANGES = 200

# MaintenanceWindow.durationHours: "Length of maintenance window range from 4 to 24 hours"
# (containerservice 2025-09-01, as generated into pulumi-azure-native 3.29.0's
# containerservice MaintenanceWindowArgs; its startTime is "HH:MM", its utcOffset "+/-HH:mm").
MAINTENANCE_WINDOW_HOURS = (4, 24)
# The planned-maintenance configurations AKS reads, by these exact names: one for cluster
# auto-upgrades, one for node OS upgrades (Learn, "Use planned maintenance to schedule and
# control upgrades", https://learn.microsoft.com/azure/aks/planned-maintenance).
AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
NODE_OS_UPGRADE_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"

# The network plugins each network policy engine runs on (Learn, "Secure traffic between pods
# by using network policies", https://learn.microsoft.com/azure/aks/use-network-policies,
# "Supported networking options": Azure Network Policy Manager: Azure CNI; Calico: Azure CNI
# and kubenet). The same page announces the end of Azure NPM support (Windows nodes 30 Sep
# 2026; Linux nodes: check the page, copies of it give 2026 and 2028) in favour of Cilium.
NETWORK_POLICY_PLUGINS = {
    "azure": frozenset({"azure"}),
    "calico": frozenset({"azure", "kubenet"}),
}
