"""`make -C app run STACK=dev`: the sample app on a developer's own machine, signed in as the
developer (`AZURE_TOKEN_CREDENTIALS=dev`: `az login` and its kin), reading what one of the
stack's services reads. The stack's `developers` group holds the same data roles.

Where it reads from: `pulumi stack output --json -s <stack>` in the platform's directory, when
the Pulumi CLI and the stack's state are reachable; otherwise the variables already set
(KEY_VAULT_URL, and optionally KEY_VAULT_GRANTED_NAMES, APP_CONFIGURATION_ENDPOINT,
APP_CONFIGURATION_LABEL, BLOB_CONTAINER_URL). It says which, then runs `python -m
secretless_app`. Not in the image: the Dockerfile copies secretless_app/ only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PLATFORM_DIR = Path(__file__).resolve().parent.parent
SECRETS_USER = "Key Vault Secrets User"


class StackUnreachableError(Exception):
    """`pulumi stack output` could not answer; says why."""


def stack_outputs(stack: str, platform_dir: Path = PLATFORM_DIR) -> dict[str, Any]:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise StackUnreachableError("the Pulumi CLI is not on PATH")
    done = subprocess.run(  # noqa: S603 - a fixed command, the stack name an argument
        [pulumi, "stack", "output", "--json", "-s", stack],
        cwd=platform_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StackUnreachableError(f"pulumi stack output -s {stack} failed: {last}")
    return dict(json.loads(done.stdout))


def service_environment(outputs: Mapping[str, Any], stack: str, service: str) -> dict[str, str]:
    """What the platform renders into `service`'s Deployment, from the stack's outputs: the
    vault, the secrets granted by name, and its App Configuration store and blob container."""
    grants = (outputs.get("serviceGrants") or {}).get(service)
    if grants is None:
        known = ", ".join(sorted(outputs.get("services") or {})) or "none"
        raise StackUnreachableError(f"stack {stack} has no service {service} (services: {known})")
    env = {"KEY_VAULT_URL": str(outputs["keyVaultUri"])}
    names = [
        grant["resource"].rsplit("/secrets/", 1)[1]
        for grant in grants
        if grant["role"] == SECRETS_USER and "/secrets/" in grant["resource"]
    ]
    if names:
        env["KEY_VAULT_GRANTED_NAMES"] = ",".join(names)
    for grant in grants:
        parts = grant["resource"].split("/")
        if grant["role"] == "App Configuration Data Reader":
            env["APP_CONFIGURATION_ENDPOINT"] = f"https://{parts[-1]}.azconfig.io"
            env["APP_CONFIGURATION_LABEL"] = stack
        elif grant["role"].startswith("Storage Blob Data") and "/containers/" in grant["resource"]:
            account = parts[parts.index("storageAccounts") + 1]
            env["BLOB_CONTAINER_URL"] = f"https://{account}.blob.core.windows.net/{parts[-1]}"
    return env


def local_environment(
    stack: str, service: str, environ: Mapping[str, str], platform_dir: Path = PLATFORM_DIR
) -> tuple[dict[str, str], str]:
    """The app's environment, and a line saying where its settings came from."""
    try:
        found = service_environment(stack_outputs(stack, platform_dir), stack, service)
        source = f"settings of service {service} from `pulumi stack output -s {stack}`"
    except StackUnreachableError as why:
        if not environ.get("KEY_VAULT_URL"):
            raise StackUnreachableError(
                f"{why}; and KEY_VAULT_URL is not set: set it to the vault's URI (the stack's "
                "keyVaultUri output)"
            ) from None
        found, source = {}, f"settings from the environment ({why})"
    return {**environ, **found, "AZURE_TOKEN_CREDENTIALS": "dev"}, source


def main(argv: list[str]) -> int:
    stack, service = (argv + ["dev", "my-great-service"][len(argv) :])[:2]
    try:
        environment, source = local_environment(stack, service, os.environ)
    except StackUnreachableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"run: {source}; signed in as you (AZURE_TOKEN_CREDENTIALS=dev)", file=sys.stderr)
    os.execve(sys.executable, [sys.executable, "-m", "secretless_app"], environment)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
