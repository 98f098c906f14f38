"""Which input changes replace a resource rather than update it, per resource type, with sources.

What `pulumi preview` shows as `+-` comes from each provider's Diff:
- azure-native (provider/pkg/provider/diff.go, calculateDetailedDiff) replaces on every URL
  path parameter (the resource group, the resource's name, a parent's name, a role
  assignment's scope) and on properties marked forceNew when the SDK was generated
  (provider/pkg/gen/properties.go): a top-level or flattened property whose REST
  specification `x-ms-mutability` has `create` but not `update` (`location` of a tracked
  resource, common-types TrackedResource), or one listed in the hand-kept forceNewMap
  (provider/pkg/gen/replacement.go). A create-only property nested in an object does not;
- pulumi-kubernetes (provider/pkg/provider/diff.go, forceNewProperties) replaces on
  `metadata.name`, `metadata.namespace` and per-kind immutable fields; its Helm Release on
  `name` and `namespace` (helm_release.go); its provider when the kubeconfig is unknown or names
  another cluster (provider.go, DiffConfig); and the engine replaces every resource of a replaced
  provider (pulumi/pulumi pkg/resource/deploy/step_generator.go, providerChanged);
- bridged Terraform providers (random) replace on attributes with a RequiresReplace modifier.

Paths are input paths as the program passes them (camelCase); `[]` stands for any list index,
ALL for every input. API versions are the ones the pinned SDK uses (each module's docstring).
A type missing here (or from NEVER_REPLACED) fails the test that walks every type the programs
declare, so a new resource type cannot slip into the plan without its rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALL = "*"
_AZURE = "https://github.com/pulumi/pulumi-azure-native/blob/master/provider/pkg"
_SPECS = "https://github.com/Azure/azure-rest-api-specs/blob/main/specification"
_KUBERNETES = "https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider"
_PATH_PARAMETERS = f"{_AZURE}/provider/diff.go: URL path parameters"
_TRACKED_LOCATION = (
    f"{_SPECS}/common-types/resource-management/v5/types.json: TrackedResource.location "
    '"x-ms-mutability": ["read", "create"]'
)
_FORCE_NEW_MAP = f"{_AZURE}/gen/replacement.go: forceNewMap"
_GITHUB = "https://github.com/integrations/terraform-provider-github/blob/main/github"


@dataclass(frozen=True)
class Rule:
    paths: tuple[str, ...]
    source: str


def _path_parameters(*names: str) -> Rule:
    return Rule(names, _PATH_PARAMETERS)


_K8S_NAME = Rule(
    ("metadata.name", "metadata.namespace"),
    f"{_KUBERNETES}/diff.go: metadataForceNewProperties",
)

REPLACEMENTS: dict[str, tuple[Rule, ...]] = {
    # Microsoft.Resources 2024-03-01
    "azure-native:resources:ResourceGroup": (
        _path_parameters("resourceGroupName"),
        Rule(("location",), f"{_FORCE_NEW_MAP} Resources/ResourceGroup"),
    ),
    # Microsoft.Network 2024-05-01
    "azure-native:network:VirtualNetwork": (
        _path_parameters("resourceGroupName", "virtualNetworkName"),
        Rule(("location",), f"{_FORCE_NEW_MAP} Network/VirtualNetwork"),
    ),
    "azure-native:network:Subnet": (
        _path_parameters("resourceGroupName", "virtualNetworkName", "subnetName"),
    ),
    # Microsoft.ManagedIdentity 2023-01-31: issuer, subject and audiences are updatable.
    "azure-native:managedidentity:UserAssignedIdentity": (
        _path_parameters("resourceGroupName", "resourceName"),
        Rule(("location",), _TRACKED_LOCATION),
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        _path_parameters(
            "resourceGroupName", "resourceName", "federatedIdentityCredentialResourceName"
        ),
    ),
    # Microsoft.Authorization 2022-04-01: ARM refuses to update a principal or a scope
    # (RoleAssignmentUpdateNotPermitted); the role definition and description are updates.
    "azure-native:authorization:RoleAssignment": (
        _path_parameters("scope", "roleAssignmentName"),
        Rule(("principalId", "scope"), f"{_FORCE_NEW_MAP} Authorization/RoleAssignment"),
    ),
    # The bootstrap's custom key roles (Microsoft.Authorization 2022-05-01-preview): name,
    # permissions and assignable scopes are updates of the definition its GUID names.
    "azure-native:authorization:RoleDefinition": (_path_parameters("scope", "roleDefinitionId"),),
    # Microsoft.ContainerService 2025-09-01: pools, identities, RBAC and Entra ID are updates.
    "azure-native:containerservice:ManagedCluster": (
        _path_parameters("resourceGroupName", "resourceName"),
        Rule(
            (
                "location",
                "dnsPrefix",
                "fqdnSubdomain",
                "nodeResourceGroup",
                "diskEncryptionSetID",
                "linuxProfile",
                "windowsProfile",
                "networkProfile.serviceCidr",
                "networkProfile.serviceCidrs",
                "networkProfile.dnsServiceIP",
                "networkProfile.networkMode",
                "networkProfile.networkPlugin",
                "networkProfile.networkPluginMode",
                "networkProfile.podCidr",
                "networkProfile.networkDataplane",
                "networkProfile.networkPolicy",
                "networkProfile.outboundType",
            ),
            f"{_FORCE_NEW_MAP} ContainerService/ManagedCluster",
        ),
    ),
    # Microsoft.ContainerService 2025-09-01 agentPools (`properties` flattened): count, taints,
    # upgrade settings and the version are updates; ManagedClusterAgentPoolProfileProperties has
    # no create-only x-ms-mutability. vmSize and gpuInstanceProfile came from
    # pulumi/pulumi-azure-native#3655 ("You can't change the VM size of a node pool after you
    # create it"), networkProfile.nodePublicIPTags from #4771.
    "azure-native:containerservice:AgentPool": (
        _path_parameters("resourceGroupName", "resourceName", "agentPoolName"),
        Rule(
            ("vmSize", "gpuInstanceProfile", "networkProfile.nodePublicIPTags"),
            f"{_FORCE_NEW_MAP} ContainerService/AgentPool",
        ),
    ),
    # The window itself (schedule, start, duration, offset) is an update.
    "azure-native:containerservice:MaintenanceConfiguration": (
        _path_parameters("resourceGroupName", "resourceName", "configName"),
    ),
    # Microsoft.KeyVault 2024-11-01: `location` carries no x-ms-mutability and `properties` is
    # not flattened, so a move is planned as an update (which Azure then refuses).
    "azure-native:keyvault:Vault": (_path_parameters("resourceGroupName", "vaultName"),),
    "azure-native:keyvault:Secret": (
        _path_parameters("resourceGroupName", "vaultName", "secretName"),
    ),
    # The bootstrap's stacks key. `properties` is not flattened, so a changed kty, size or
    # operation is planned as an update, which Azure ignores: ARM's only write for keys is
    # Keys_CreateIfNotExist ("does not create subsequent versions, and does not update
    # existing keys", Microsoft.KeyVault 2024-11-01 keys.json).
    "azure-native:keyvault:Key": (_path_parameters("resourceGroupName", "vaultName", "keyName"),),
    # Microsoft.Storage 2024-01-01: StorageAccountCreateParameters (flattened `properties`
    # included) carries no x-ms-mutability; the forceNewMap lists isHnsEnabled and location.
    "azure-native:storage:StorageAccount": (
        _path_parameters("resourceGroupName", "accountName"),
        Rule(("isHnsEnabled", "location"), f"{_FORCE_NEW_MAP} Storage/StorageAccount"),
    ),
    # Versioning and retention are updates.
    "azure-native:storage:BlobServiceProperties": (
        _path_parameters("resourceGroupName", "accountName", "blobServicesName"),
    ),
    # forceNewMap: `"BlobContainer": codegen.NewStringSet(), // no force-news`.
    "azure-native:storage:BlobContainer": (
        _path_parameters("resourceGroupName", "accountName", "containerName"),
    ),
    # bootstrap's registry (Microsoft.ContainerRegistry 2023-01-01-preview): the SKU, the admin
    # user, anonymous pull and network access are updates.
    "azure-native:containerregistry:Registry": (
        _path_parameters("resourceGroupName", "registryName"),
        Rule(("location",), _TRACKED_LOCATION),
    ),
    # Microsoft.OperationalInsights: the SKU and retention are updates.
    "azure-native:operationalinsights:Workspace": (
        _path_parameters("resourceGroupName", "workspaceName"),
        Rule(("location",), _TRACKED_LOCATION),
    ),
    # Microsoft.Insights diagnosticSettings: an extension resource, named under its resource
    # (resourceUri and name are path parameters); logs and destination are updates.
    "azure-native:monitor:DiagnosticSetting": (_path_parameters("resourceUri", "name"),),
    "random:index/randomString:RandomString": (
        Rule(
            (ALL,),
            "https://github.com/hashicorp/terraform-provider-random/blob/main/internal/"
            "provider/resource_string.go: RequiresReplace on every attribute",
        ),
    ),
    # This project's own dynamic resource: its provider's diff replaces it on new triggers.
    "pulumi-python:dynamic/rbac:PropagationWait": (
        Rule(
            ("triggers",),
            "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/"
            "__main__.py: Diff returns the provider's replaces, which _WaitProvider.diff "
            "(components/propagation_wait.py) gives for triggers only",
        ),
    ),
    # And the published contract's: a new URL replaces it (the new blob first).
    "pulumi-python:dynamic/contract:Publication": (
        Rule(
            ("url",),
            "https://github.com/pulumi/pulumi/blob/master/sdk/python/lib/pulumi/dynamic/"
            "__main__.py: Diff returns the provider's replaces, which "
            "_BlobDocumentProvider.diff (components/contract_publication.py) gives for url only",
        ),
    ),
    # random_password is random_string with a sensitive result (its docs); the same schema.
    "random:index/randomPassword:RandomPassword": (
        Rule(
            (ALL,),
            "https://github.com/hashicorp/terraform-provider-random/blob/main/internal/"
            "provider/resource_password.go: RequiresReplace on every attribute",
        ),
    ),
    # The bootstrap's GitHub side (pulumi-github 6.15, bridged from integrations/
    # terraform-provider-github): the repository, the environment and the variable's name are
    # ForceNew; reviewers, branch policy flags, patterns and values are updates.
    "github:index/repositoryEnvironment:RepositoryEnvironment": (
        Rule(("repository", "environment"), f"{_GITHUB}/resource_github_repository_environment.go"),
    ),
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": (
        Rule(
            ("repository", "environment"),
            f"{_GITHUB}/resource_github_repository_environment_deployment_policy.go",
        ),
    ),
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": (
        Rule(
            ("repository", "environment", "variableName"),
            f"{_GITHUB}/resource_github_actions_environment_variable.go",
        ),
    ),
    "github:index/actionsVariable:ActionsVariable": (
        Rule(("repository", "variableName"), f"{_GITHUB}/resource_github_actions_variable.go"),
    ),
    "pulumi:providers:kubernetes": (
        Rule(("kubeconfig",), f"{_KUBERNETES}/provider.go: DiffConfig"),
    ),
    "kubernetes:core/v1:Namespace": (_K8S_NAME,),
    "kubernetes:core/v1:ServiceAccount": (_K8S_NAME,),
    "kubernetes:core/v1:Service": (
        _K8S_NAME,
        Rule(("spec.clusterIP",), f"{_KUBERNETES}/diff.go: Service"),
    ),
    "kubernetes:apps/v1:Deployment": (
        _K8S_NAME,
        Rule(("spec.selector",), f"{_KUBERNETES}/diff.go: apps/v1 Deployment"),
    ),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": (_K8S_NAME,),
    "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentity": (_K8S_NAME,),
    "kubernetes:aadpodidentity.k8s.io/v1:AzureIdentityBinding": (_K8S_NAME,),
    "kubernetes:helm.sh/v3:Release": (
        Rule(("name", "namespace"), f"{_KUBERNETES}/helm_release.go: forceNewFields"),
    ),
}


# Types that no change of input replaces, with the source that says so.
NEVER_REPLACED: dict[str, str] = {
    # The bootstrap's explicit provider: azure-native's DiffConfig reports no changes, so a new
    # subscriptionId is an update of the provider, never a replacement of its resources.
    "pulumi:providers:azure-native": f"{_AZURE}/provider/provider.go: DiffConfig",
    # The GitHub side's provider: none of terraform-provider-github's provider settings is
    # ForceNew, so the bridge's DiffConfig replaces nothing when the owner changes.
    "pulumi:providers:github": (
        "https://github.com/pulumi/pulumi-terraform-bridge/blob/master/pkg/tfbridge/"
        "provider.go: DiffConfig"
    ),
}


def _normalise(path: str) -> str:
    return re.sub(r"\[\d+\]", "[]", path)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def forces_replacement(type_: str, path: str) -> bool:
    """Whether a change at input `path` replaces a resource of `type_`.

    True when the path is a listed one, lies inside one (a leaf of a create-only object), or
    contains one (a whole object that holds a create-only field changed or became unknown).
    """
    path = _normalise(path)
    for rule in REPLACEMENTS.get(type_, ()):
        for listed in rule.paths:
            if listed == ALL or _under(path, listed) or _under(listed, path):
                return True
    return False
