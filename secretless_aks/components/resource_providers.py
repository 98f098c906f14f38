"""The Azure resource providers a subscription must have registered before the platform deploys.

azure-native cannot register a resource provider (it has no resource for it), and a deploy
identity with Contributor may not either (`*/register/action` is Contributor's, but on a
subscription where the namespace was never registered the first PUT fails with
MissingSubscriptionRegistration before Pulumi can help). So bootstrap prints the
`az provider register` commands, and the deploy workflow checks each namespace with
`az provider show` before `pulumi up` (`python -m secretless_aks.components.resource_providers
--check`). Nothing is ever unregistered.

The list follows from the azure-native modules the platform declares resources of
(tests/test_resource_providers.py runs the program with every feature and compares). Azure
registers Microsoft.Authorization and Microsoft.Resources in every subscription ("Resource
providers and types": registered by default), so they are not listed.
https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

# azure-native module (the token's middle part) -> the ARM namespace its resources live in.
NAMESPACES = {
    "authorization": "Microsoft.Authorization",
    "resources": "Microsoft.Resources",
    "network": "Microsoft.Network",
    "managedidentity": "Microsoft.ManagedIdentity",
    "containerservice": "Microsoft.ContainerService",
    "keyvault": "Microsoft.KeyVault",
    "storage": "Microsoft.Storage",
    "containerregistry": "Microsoft.ContainerRegistry",
    "cosmosdb": "Microsoft.DocumentDB",
    "operationalinsights": "Microsoft.OperationalInsights",
    "monitor": "Microsoft.Insights",
}
REGISTERED_BY_DEFAULT = frozenset({"Microsoft.Authorization", "Microsoft.Resources"})
# Namespaces of what the platform declares only inside resources that exist already (a
# service's Cosmos DB role assignment, in its account): registered wherever those exist.
REGISTERED_WITH_THEIR_RESOURCES = frozenset({"Microsoft.DocumentDB"})
# What an environment's subscription needs for the platform.
PLATFORM = (
    "Microsoft.ContainerService",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
)
# What the management subscription needs for the bootstrap itself.
BOOTSTRAP = (
    "Microsoft.ContainerRegistry",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.Storage",
)


def required(resource_types: Sequence[str]) -> tuple[str, ...]:
    """The namespaces to register for these azure-native type tokens, sorted."""
    namespaces = {NAMESPACES[token.split(":")[1]] for token in resource_types}
    return tuple(sorted(namespaces - REGISTERED_BY_DEFAULT - REGISTERED_WITH_THEIR_RESOURCES))


def register_command(namespace: str, subscription_id: str) -> str:
    return f"az provider register --namespace {namespace} --subscription {subscription_id}"


def check(az: str, subscription_id: str, namespaces: Sequence[str] = PLATFORM) -> list[str]:
    """The register commands for the namespaces not Registered in the subscription, asked of
    the Azure CLI at `az`."""
    missing = []
    for namespace in namespaces:
        # Fixed arguments, and a subscription id checked to be a GUID (main).
        state = subprocess.run(  # noqa: S603
            [
                az,
                "provider",
                "show",
                "--namespace",
                namespace,
                "--subscription",
                subscription_id,
                "--query",
                "registrationState",
                "--output",
                "tsv",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if state != "Registered":
            missing.append(register_command(namespace, subscription_id))
    return missing


def _guid(value: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value):
        raise argparse.ArgumentTypeError(f"expected a subscription id (a GUID), found {value!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secretless_aks.components.resource_providers",
        description="Check that the platform's resource providers are registered.",
    )
    parser.add_argument(
        "--subscription", required=True, type=_guid, help="the environment's subscription id"
    )
    args = parser.parse_args(argv)
    az = shutil.which("az")
    if az is None:
        print("error: the Azure CLI (az) is not on the PATH", file=sys.stderr)
        return 1
    missing = check(az, args.subscription)
    for command in missing:
        print(f"::error::not registered; an Owner runs: {command}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
