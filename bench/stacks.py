"""Stack configurations of N services for the benchmark, valid per the config models.

The services cycle through every binding (workload identity, pod identity, both), with and
without an image, a port, replicas, a per-secret scope (on a secret the stack seeds), no Key
Vault role, Secrets Officer, another ServiceAccount federated to the same identity, and
ingress from another namespace. The cluster, network and vault are the dev stack's.
"""

from __future__ import annotations

from typing import Any

from secretless_aks.offline.harness import read_stack_file

STACK = "dev"
BINDINGS = ("workloadIdentity", "podIdentity", "both")


def service(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `index`th service, and the secrets it needs seeded (`{Identity: {Secret: ...}}`)."""
    name = f"svc-{index:03d}"
    entry: dict[str, Any] = {"name": name, "binding": BINDINGS[index % 3]}
    secrets: dict[str, Any] = {}
    if index % 4 != 3:
        entry["image"] = f"ghcr.io/contoso/{name}:1.{index}.0"
        entry["replicas"] = 1 + index % 3
        if index % 2 == 0:
            entry["port"] = 8080
            if index % 8 == 0:
                entry["allowIngressFrom"] = ["ingress"]
    pod_identity = entry["binding"] != "workloadIdentity"
    # A pod identity must name its secrets (the node-wide path may not read the whole vault).
    if index % 4 == 1 or (pod_identity and index % 5 != 4):
        identity = f"Svc{index:03d}"
        secrets[identity] = {"Password": {"secure": f"v1:bench-ciphertext-{index}"}}
        entry["secretScope"] = [f"{identity}--Password"]
    elif index % 5 == 4:
        entry["keyVaultRole"] = "none"
    elif index % 6 == 0:  # workload identity only: pod identity may not write secrets
        entry["keyVaultRole"] = "secretsOfficer"
        entry["additionalServiceAccounts"] = [{"namespace": name, "serviceAccount": f"{name}-jobs"}]
    return entry, secrets


def stack_config(services: int) -> dict[str, Any]:
    """The dev stack file's `config:` block with `services` generated services."""
    entries: list[dict[str, Any]] = []
    secrets: dict[str, Any] = {}
    for index in range(services):
        entry, needed = service(index)
        entries.append(entry)
        secrets.update(needed)
    config = {
        **read_stack_file(STACK),
        # The services' images are on GitHub's registry, beside the platform's.
        "secretless-aks:allowedRegistries": ["ghcr.io"],
        "secretless-aks:services": entries,
    }
    if secrets:  # an empty object seeds nothing, and the config refuses it
        config["secretless-aks:secrets"] = secrets
    return config
