"""Mock Azure: what the providers would return, shaped like their real outputs.

Each resource type gets the outputs the real provider returns that this program reads (ids
in ARM form, identity client/principal ids, the cluster's OIDC issuer URL with its trailing
slash, a map of user-assigned identities where the input was a list). In preview mode a mock
returns only the inputs, so everything Azure computes stays unknown, as in `pulumi preview`.
Values are deterministic: uuid5 of the resource's URN, so two runs give the same graph.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from secretless_aks import contract

MOCK_SUBSCRIPTION_ID = "11111111-2222-3333-4444-555555555555"
MOCK_TENANT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
# The identity running `pulumi up` (a CI service principal, in the mocks).
MOCK_DEPLOYER_OBJECT_ID = "99999999-8888-7777-6666-555555555555"
MOCK_DEPLOYER_CLIENT_ID = "12121212-3434-5656-7878-909090909090"
# What `getClientConfig` returns: the signed-in account, invented. A plan marks these values
# wherever they appear, so no one takes them for their own.
SIGNED_IN_ACCOUNT = {
    "clientId": MOCK_DEPLOYER_CLIENT_ID,
    "objectId": MOCK_DEPLOYER_OBJECT_ID,
    "subscriptionId": MOCK_SUBSCRIPTION_ID,
    "tenantId": MOCK_TENANT_ID,
}
# What the offline plan takes for `deployers` when a stack file leaves it to CI, which sets it
# from its environment's DEPLOYER_OBJECT_ID (the committed stack files carry no fake ids).
CI_DEPLOYER_STAND_IN = "88888888-7777-4666-8555-444444444444"
# And for `registry`, which CI sets from REGISTRY_ID and REGISTRY_LOGIN_SERVER.
CI_REGISTRY_STAND_IN = {
    "id": "/subscriptions/00000000-0000-4000-8000-0000000000c1/resourceGroups/"
    "rg-secretless-bootstrap/providers/Microsoft.ContainerRegistry/registries/crsecretlessci",
    "loginServer": "crsecretlessci.azurecr.io",
}
# And for `publishContractTo`, which CI sets from PLATFORM_CONTRACT_URL.
CI_CONTRACT_URL_STAND_IN = (
    "https://stsecretlessci.blob.core.windows.net/contract/platform-contract.json"
)
_NAMESPACE = uuid.UUID("0f3f6f5e-35a4-4d8e-9a34-9c1b1f0a2e11")

# The input that carries the Azure name, per resource type (azure-native autonames otherwise).
AZURE_NAME_INPUT = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:managedidentity:FederatedIdentityCredential": (
        "federatedIdentityCredentialResourceName"
    ),
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:authorization:RoleDefinition": "roleDefinitionId",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:containerservice:AgentPool": "agentPoolName",
    "azure-native:containerservice:MaintenanceConfiguration": "configName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:keyvault:Secret": "secretName",
    "azure-native:keyvault:Key": "keyName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:storage:BlobServiceProperties": "blobServicesName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:monitor:DiagnosticSetting": "name",
}
# An explicit azure-native provider (the bootstrap's) names the subscription it acts in.
AZURE_PROVIDER = "pulumi:providers:azure-native"


# Inputs whose output has another shape; a preview cannot know the output, so it is unknown.
PREVIEW_UNKNOWN_INPUTS = {
    "azure-native:containerservice:ManagedCluster": ("identity",),
}


def mock_guid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(map(str, parts))))


def group_id(group: str) -> str:
    return f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/{group}"


def _azure_name(args: pulumi.runtime.MockResourceArgs) -> Any:
    if args.resource_id:  # a read: the name is the id's last segment
        return args.resource_id.rstrip("/").rsplit("/", 1)[-1]
    key = AZURE_NAME_INPUT.get(args.typ)
    if key and args.inputs.get(key):
        value = args.inputs[key]
        return value if isinstance(value, str) else rpc.UNKNOWN  # unknown during a preview
    # azure-native's autonaming: the logical name plus a random suffix.
    return args.name + hashlib.sha256(args.name.encode()).hexdigest()[:8]


def _resource_group(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    return {"id": group_id(name)}


def _virtual_network(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group = args.inputs["resourceGroupName"]
    return {"id": f"{group_id(group)}/providers/Microsoft.Network/virtualNetworks/{name}"}


def _subnet(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group, vnet = args.inputs["resourceGroupName"], args.inputs["virtualNetworkName"]
    return {
        "id": f"{group_id(group)}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"
    }


def _user_assigned_identity(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group = args.inputs["resourceGroupName"]
    return {
        "id": f"{group_id(group)}/providers/Microsoft.ManagedIdentity/"
        f"userAssignedIdentities/{name}",
        "clientId": mock_guid("client", group, name),
        "principalId": mock_guid("principal", group, name),
        "tenantId": MOCK_TENANT_ID,
    }


def _role_assignment(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    # No scope when the program's own check of it failed: that failure is the run's error.
    scope = args.inputs.get("scope", "")
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "createdOn": "2026-01-01T00:00:00Z",
    }


def _role_definition(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    return {
        "id": f"{args.inputs['scope']}/providers/Microsoft.Authorization/roleDefinitions/{name}",
        "type": "Microsoft.Authorization/roleDefinitions",
    }


def _managed_cluster(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group = args.inputs["resourceGroupName"]
    location = args.inputs.get("location", "westeurope")
    identity = args.inputs.get("identity") or {}
    return {
        "id": f"{group_id(group)}/providers/Microsoft.ContainerService/managedClusters/{name}",
        "fqdn": f"{name}-{mock_guid('fqdn', name)[:8]}.hcp.{location}.azmk8s.io",
        # Azure returns the issuer with a trailing slash; federated credentials must match it.
        "oidcIssuerProfile": {
            "enabled": True,
            "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{MOCK_TENANT_ID}/"
            f"{mock_guid('issuer', group, name)}/",
        },
        # A list of ids on input, a map of id -> {clientId, principalId} on output.
        "identity": {
            "type": identity.get("type"),
            "userAssignedIdentities": {
                identity_id: {
                    "clientId": mock_guid("client-of", identity_id),
                    "principalId": mock_guid("principal-of", identity_id),
                }
                for identity_id in identity.get("userAssignedIdentities", [])
            },
        },
        "nodeResourceGroup": args.inputs.get("nodeResourceGroup")
        or f"MC_{group}_{name}_{location}",
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
    }


def _cluster_child(kind: str) -> Callable[[pulumi.runtime.MockResourceArgs, str], dict[str, Any]]:
    """Outputs of a cluster's sub-resource (an agent pool, a maintenance configuration)."""

    def outputs(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
        group, cluster = args.inputs["resourceGroupName"], args.inputs["resourceName"]
        return {
            "id": f"{group_id(group)}/providers/Microsoft.ContainerService/managedClusters/"
            f"{cluster}/{kind}/{name}"
        }

    return outputs


def _vault(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    if args.resource_id:
        # An existing vault, as a read returns it: on the RBAC permission model.
        return {
            "id": args.resource_id,
            "location": "westeurope",
            "properties": {
                "tenantId": MOCK_TENANT_ID,
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
                "enableSoftDelete": True,
                "vaultUri": f"https://{name}.vault.azure.net/",
            },
        }
    group = args.inputs["resourceGroupName"]
    return {
        "id": f"{group_id(group)}/providers/Microsoft.KeyVault/vaults/{name}",
        "properties": {**args.inputs["properties"], "vaultUri": f"https://{name}.vault.azure.net/"},
    }


def _secret(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group, vault = args.inputs["resourceGroupName"], args.inputs["vaultName"]
    # ARM never returns a secret's value.
    return {
        "id": f"{group_id(group)}/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{name}",
        "properties": {
            "secretUri": f"https://{vault}.vault.azure.net/secrets/{name}",
            "attributes": {"enabled": True},
        },
    }


def _key(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group, vault = args.inputs["resourceGroupName"], args.inputs["vaultName"]
    uri = f"https://{vault}.vault.azure.net/keys/{name}"
    return {
        "id": f"{group_id(group)}/providers/Microsoft.KeyVault/vaults/{vault}/keys/{name}",
        "keyUri": uri,
        # A key version is 32 hex digits.
        "keyUriWithVersion": f"{uri}/{mock_guid('key-version', vault, name).replace('-', '')}",
    }


def _storage_account(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group = args.inputs["resourceGroupName"]
    return {
        "id": f"{group_id(group)}/providers/Microsoft.Storage/storageAccounts/{name}",
        "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"},
    }


def _blob_service(kind: str) -> Callable[[pulumi.runtime.MockResourceArgs, str], dict[str, Any]]:
    """Outputs of a storage account's blob service (`default`) or of one of its containers."""

    def outputs(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
        group, account = args.inputs["resourceGroupName"], args.inputs["accountName"]
        service = f"{group_id(group)}/providers/Microsoft.Storage/storageAccounts/{account}"
        if kind == "containers":
            return {"id": f"{service}/blobServices/default/containers/{name}"}
        return {"id": f"{service}/blobServices/{name}"}

    return outputs


def _registry(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    group = args.inputs["resourceGroupName"]
    return {
        "id": f"{group_id(group)}/providers/Microsoft.ContainerRegistry/registries/{name}",
        # Azure's login server is the lower-cased name under azurecr.io.
        "loginServer": f"{name.lower()}.azurecr.io",
    }


def _random_string(args: pulumi.runtime.MockResourceArgs, name: str) -> dict[str, Any]:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(args.name.encode()).digest()
    length = int(args.inputs["length"])
    return {"result": "".join(alphabet[b % len(alphabet)] for b in digest)[:length]}


def _kubeconfig(cluster_name: str) -> str:
    # With Entra ID and local accounts off, the user kubeconfig ("exec" format) carries no
    # token or client certificate: it runs kubelogin, which AKS sets to device-code sign-in.
    return f"""apiVersion: v1
kind: Config
clusters:
- name: {cluster_name}
  cluster:
    certificate-authority-data: {base64.b64encode(b"mock-ca").decode()}
    server: https://{cluster_name}.hcp.westeurope.azmk8s.io:443
contexts:
- name: {cluster_name}
  context:
    cluster: {cluster_name}
    user: clusterUser_{cluster_name}
current-context: {cluster_name}
users:
- name: clusterUser_{cluster_name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud,
             --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
             --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a,
             --tenant-id, {MOCK_TENANT_ID}, --login, devicecode]
"""


_OUTPUTS: dict[str, Callable[[pulumi.runtime.MockResourceArgs, str], dict[str, Any]]] = {
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:network:VirtualNetwork": _virtual_network,
    "azure-native:network:Subnet": _subnet,
    "azure-native:managedidentity:UserAssignedIdentity": _user_assigned_identity,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:authorization:RoleDefinition": _role_definition,
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:containerservice:AgentPool": _cluster_child("agentPools"),
    "azure-native:containerservice:MaintenanceConfiguration": _cluster_child(
        "maintenanceConfigurations"
    ),
    "azure-native:keyvault:Vault": _vault,
    "azure-native:keyvault:Secret": _secret,
    "azure-native:keyvault:Key": _key,
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:storage:BlobServiceProperties": _blob_service("blobServices"),
    "azure-native:storage:BlobContainer": _blob_service("containers"),
    "azure-native:containerregistry:Registry": _registry,
    "random:index/randomString:RandomString": _random_string,
    "random:index/randomPassword:RandomPassword": _random_string,
}


def _resubscribed(value: Any, subscription: str) -> Any:
    """`value` with the mocked subscription in its ARM ids replaced by `subscription`."""
    if isinstance(value, str):
        return value.replace(
            f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/", f"/subscriptions/{subscription}/"
        )
    if isinstance(value, dict):
        return {key: _resubscribed(item, subscription) for key, item in value.items()}
    return value


def _known_inputs_over_unknown_outputs(inputs: dict[str, Any], outputs: dict[str, Any]) -> dict:
    merged = dict(inputs)
    for key, value in outputs.items():
        if key not in inputs:
            merged[key] = rpc.UNKNOWN
        elif isinstance(inputs[key], dict) and isinstance(value, dict):
            merged[key] = _known_inputs_over_unknown_outputs(inputs[key], value)
    return merged


# A plan saved with `python -m secretless_aks.offline.plan --format json` (formats.PLAN_FORMAT).
PLAN_FORMAT_PREFIX = "secretless-aks-plan/"
_MARKER = "$plan"


def _as_previewed(value: Any) -> Any:
    """A planned value as a preview's StackReference holds it: what the plan marks unknown or
    secret (never shown there) is unknown; an invented id is the text that names it."""
    if isinstance(value, dict) and _MARKER in value:
        return value.get("value", "") if value[_MARKER] == "mocked" else rpc.UNKNOWN
    if isinstance(value, dict):
        return {key: _as_previewed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_previewed(item) for item in value]
    return value


class OutputsFileError(Exception):
    """A file of stack outputs that is not one."""


@dataclass(frozen=True)
class ReferencedStack:
    """Another stack's outputs, as a StackReference reads them."""

    outputs: dict[str, Any]
    secret_output_names: frozenset[str] = frozenset()
    # From a saved plan: what Azure would compute is unknown there, so is the reference.
    planned: bool = False

    @classmethod
    def from_outputs_file(cls, path: Path) -> ReferencedStack:
        """A platform stack's outputs as `pulumi stack output --json --show-secrets` prints them
        (a flat object of output name -> value), or a platform plan saved with `--format json`
        (its `outputs`: what Azure would compute is unknown, as it is in a preview). Secrets
        print in clear with --show-secrets and not at all in a plan; the contract's secret
        outputs (the kubeconfig) are secret again, as a StackReference has them.
        """
        try:
            document = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise OutputsFileError(f"cannot read platform outputs from {path}: {error}") from None
        if not isinstance(document, dict):
            raise OutputsFileError(
                f"{path} holds no stack outputs: expected a JSON object of output names and "
                "values, as `pulumi stack output --json --show-secrets` prints them, or a "
                "platform plan saved with --format json"
            )
        planned = str(document.get("format", "")).startswith(PLAN_FORMAT_PREFIX)
        outputs = _as_previewed(document.get("outputs", {})) if planned else document
        if not isinstance(outputs, dict):
            raise OutputsFileError(f"{path}: the plan's outputs are not an object")
        secret = {spec.name for spec in contract.OUTPUTS if spec.secret}
        return cls(outputs, frozenset(secret & set(outputs)), planned)


class AzureMocks(pulumi.runtime.Mocks):
    """`stack_references` answers a StackReference by stack name; `any_stack`, when given, any
    other (an application project references one platform stack, whatever its name)."""

    def __init__(
        self,
        *,
        preview: bool,
        stack_references: dict[str, ReferencedStack] | None = None,
        any_stack: ReferencedStack | None = None,
        signed_in: Mapping[str, str] = SIGNED_IN_ACCOUNT,
    ) -> None:
        self.preview = preview
        # Who `getClientConfig` says runs `pulumi up` (a person, or CI's deploy identity).
        self.signed_in = dict(signed_in)
        self.stack_references = stack_references or {}
        self.any_stack = any_stack
        # Explicit azure-native providers by name -> the subscription each is configured with.
        self._subscriptions: dict[str, str] = {}

    def _subscription(self, provider: str | None) -> str | None:
        """The subscription of the explicit azure-native provider a reference ("<urn>::<id>")
        names, or None for the default provider (the mocked signed-in subscription)."""
        parts = (provider or "").rsplit("::", 1)[0].split("::")
        # A URN ends in "<parent types$>type::name".
        if len(parts) < 2 or parts[-2].rsplit("$", 1)[-1] != AZURE_PROVIDER:
            return None
        return self._subscriptions.get(parts[-1])

    def _stack_reference(self, stack_name: str) -> tuple[str, dict]:
        stack = self.stack_references.get(stack_name, self.any_stack)
        if stack is None:
            raise ValueError(
                f"unknown stack {stack_name!r}: the offline plan reads a referenced stack's "
                "outputs from --platform-outputs FILE"
            )
        return stack_name, {
            "name": stack_name,
            "outputs": stack.outputs,
            "secretOutputNames": sorted(stack.secret_output_names),
        }

    def registering(self, urn: str, aliases: tuple[str, ...]) -> None:
        """Told, before `new_resource`, which resource it is for; these mocks need not know."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(str(args.inputs.get("name") or args.resource_id))
        if args.typ == AZURE_PROVIDER and args.inputs.get("subscriptionId"):
            self._subscriptions[args.name] = str(args.inputs["subscriptionId"])
        name = _azure_name(args)
        state = {**args.inputs, "name": name} if args.typ in AZURE_NAME_INPUT else dict(args.inputs)
        make_outputs = _OUTPUTS.get(args.typ)
        outputs = make_outputs(args, name) if make_outputs else {}
        subscription = self._subscription(args.provider)
        if subscription is not None:
            outputs = _resubscribed(outputs, subscription)
        if self.preview and not args.resource_id:
            # Like a real preview of a create: inputs are known, what Azure computes is not.
            for key in PREVIEW_UNKNOWN_INPUTS.get(args.typ, ()):
                state[key] = rpc.UNKNOWN
            outputs.pop("id", None)
            return "", _known_inputs_over_unknown_outputs(state, outputs)
        resource_id = args.resource_id or outputs.pop("id", None) or f"{args.name}-id"
        return resource_id, {**state, **outputs, "id": resource_id}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:  # type: ignore[override]
        if args.token == "azure-native:authorization:getClientConfig":
            account = dict(self.signed_in)
            subscription = self._subscription(args.provider)
            if subscription is not None:  # an explicit provider: the one it is configured with
                account["subscriptionId"] = subscription
            return account
        if args.token == "azure-native:containerservice:listManagedClusterUserCredentials":
            value = base64.b64encode(_kubeconfig(args.args["resourceName"]).encode()).decode()
            return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}
        raise NotImplementedError(f"no mock for the invoke {args.token}")
