"""The replacement table: every type the program declares has its rules, each with a source,
and the facts the providers' sources settle are pinned."""

from __future__ import annotations

import pytest

from secretless_aks.offline.harness import PROJECT_DIR, read_stack_file, run_program
from secretless_aks.offline.replacements import NEVER_REPLACED, REPLACEMENTS, forces_replacement
from tests.stack_configs import stack_config

BOOTSTRAP = PROJECT_DIR / "bootstrap"

EVERY_FEATURE = stack_config(
    services=[
        {"name": "orders", "image": "ghcr.io/contoso/orders:1.0", "port": 8080},
        {"name": "payments", "binding": "both", "secretScope": ["Identity--Secret"]},
        {"name": "legacy", "binding": "podIdentity", "secretScope": ["Identity--Secret"]},
    ],
    secrets={"Db": {"Password": {"secure": "v1:ciphertext"}}},
    cluster={
        "userPool": {"nodeCount": 2, "nodeVmSize": "Standard_D4s_v5"},
        "maintenanceWindow": {"dayOfWeek": "Saturday", "startHour": 22, "durationHours": 6},
        "apiServerAuthorizedIpRanges": ["203.0.113.0/24"],
    },
    monitoring={"create": {"retentionDays": 30}},
)


def test_every_type_the_programs_declare_has_rules_and_no_rule_is_stale() -> None:
    platform = run_program("dev", config=EVERY_FEATURE, preview=True)
    # The bootstrap, with read grants on deployed stacks too.
    example = read_stack_file("example", BOOTSTRAP)
    bootstrap = run_program(
        "example",
        config={**example, "bootstrap:deployedStacks": ["dev"]},
        preview=True,
        project_dir=BOOTSTRAP,
    )
    declared = {r.type for graph in (platform, bootstrap) for r in graph.resources if r.custom}
    assert declared == set(REPLACEMENTS) | set(NEVER_REPLACED)
    assert not set(REPLACEMENTS) & set(NEVER_REPLACED)


def test_every_rule_names_its_paths_and_cites_a_source() -> None:
    for type_, rules in REPLACEMENTS.items():
        assert rules, type_
        for rule in rules:
            assert rule.paths and all(rule.paths), type_
            assert "github.com/" in rule.source, (type_, rule.source)
    for type_, source in NEVER_REPLACED.items():
        assert "github.com/" in source, (type_, source)


@pytest.mark.parametrize(
    ("type_", "path", "replaces"),
    [
        # azure-native: path parameters and location (provider diff.go; common-types).
        ("azure-native:resources:ResourceGroup", "location", True),
        ("azure-native:resources:ResourceGroup", "tags.team", False),
        ("azure-native:managedidentity:UserAssignedIdentity", "resourceName", True),
        ("azure-native:managedidentity:UserAssignedIdentity", "location", True),
        ("azure-native:managedidentity:FederatedIdentityCredential", "resourceName", True),
        ("azure-native:managedidentity:FederatedIdentityCredential", "issuer", False),
        ("azure-native:managedidentity:FederatedIdentityCredential", "subject", False),
        ("azure-native:network:Subnet", "addressPrefix", False),
        # Role assignments: principal and scope are create-only, the rest updates.
        ("azure-native:authorization:RoleAssignment", "principalId", True),
        ("azure-native:authorization:RoleAssignment", "scope", True),
        ("azure-native:authorization:RoleAssignment", "roleAssignmentName", True),
        ("azure-native:authorization:RoleAssignment", "roleDefinitionId", False),
        ("azure-native:authorization:RoleAssignment", "description", False),
        # The cluster: forceNewMap entries, one level into networkProfile; pools update.
        ("azure-native:containerservice:ManagedCluster", "dnsPrefix", True),
        ("azure-native:containerservice:ManagedCluster", "nodeResourceGroup", True),
        ("azure-native:containerservice:ManagedCluster", "networkProfile.podCidr", True),
        ("azure-native:containerservice:ManagedCluster", "networkProfile", True),
        ("azure-native:containerservice:ManagedCluster", "networkProfile.loadBalancerSku", False),
        ("azure-native:containerservice:ManagedCluster", "agentPoolProfiles[0].vmSize", False),
        ("azure-native:containerservice:ManagedCluster", "aadProfile.enableAzureRBAC", False),
        # The user pool: a new VM size is a new pool (forceNewMap); scaling is an update.
        ("azure-native:containerservice:AgentPool", "vmSize", True),
        ("azure-native:containerservice:AgentPool", "agentPoolName", True),
        ("azure-native:containerservice:AgentPool", "resourceName", True),
        ("azure-native:containerservice:AgentPool", "count", False),
        ("azure-native:containerservice:AgentPool", "orchestratorVersion", False),
        ("azure-native:containerservice:AgentPool", "upgradeSettings.maxSurge", False),
        # Maintenance windows: only the configuration's name (and its cluster) replace.
        ("azure-native:containerservice:MaintenanceConfiguration", "configName", True),
        (
            "azure-native:containerservice:MaintenanceConfiguration",
            "maintenanceWindow.durationHours",
            False,
        ),
        # The vault: only its path; `properties` is not flattened and location not create-only.
        ("azure-native:keyvault:Vault", "vaultName", True),
        ("azure-native:keyvault:Vault", "location", False),
        ("azure-native:keyvault:Vault", "properties.tenantId", False),
        ("azure-native:keyvault:Secret", "properties.value", False),
        # The bootstrap's state: names and location replace; hardening flags update.
        ("azure-native:storage:StorageAccount", "accountName", True),
        ("azure-native:storage:StorageAccount", "location", True),
        ("azure-native:storage:StorageAccount", "isHnsEnabled", True),
        ("azure-native:storage:StorageAccount", "allowSharedKeyAccess", False),
        ("azure-native:storage:StorageAccount", "sku.name", False),
        ("azure-native:storage:BlobServiceProperties", "blobServicesName", True),
        ("azure-native:storage:BlobServiceProperties", "deleteRetentionPolicy.days", False),
        ("azure-native:storage:BlobContainer", "containerName", True),
        ("azure-native:storage:BlobContainer", "publicAccess", False),
        ("azure-native:keyvault:Key", "keyName", True),
        ("azure-native:keyvault:Key", "vaultName", True),
        ("azure-native:keyvault:Key", "properties.keySize", False),
        # An explicit azure-native provider is never replaced (DiffConfig reports no change).
        ("pulumi:providers:azure-native", "subscriptionId", False),
        ("random:index/randomString:RandomString", "length", True),
        ("random:index/randomString:RandomString", "upper", True),
        # Kubernetes: identity, immutable fields, anything under them.
        ("kubernetes:core/v1:ServiceAccount", "metadata.namespace", True),
        ("kubernetes:core/v1:ServiceAccount", "metadata.annotations.x", False),
        ("kubernetes:apps/v1:Deployment", "spec.selector.matchLabels.app", True),
        ("kubernetes:apps/v1:Deployment", "spec.template.spec.containers[0].image", False),
        ("kubernetes:core/v1:Service", "spec.clusterIP", True),
        ("kubernetes:core/v1:Service", "spec.type", False),
        ("kubernetes:helm.sh/v3:Release", "namespace", True),
        ("kubernetes:helm.sh/v3:Release", "version", False),
        ("pulumi:providers:kubernetes", "kubeconfig", True),
    ],
)
def test_what_forces_a_replacement(type_: str, path: str, replaces: bool) -> None:
    assert forces_replacement(type_, path) is replaces
