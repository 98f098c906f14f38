"""Changes a diff shows that `pulumi up` would not carry through, found before anything runs.

`refusals` are changes that would stop half-way or that Azure refuses: the plan (`--against`)
prints each as an error naming the resource and what to do instead, and exits 1. `cautions`
are changes Azure accepts that break the running service unless taken in steps: warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from secretless_aks.offline import plan_values
from secretless_aks.offline.diff import Diff, ResourceChange

MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
# A service's own resources are named svc-<service>-...; its identity is the protected one.
SERVICE_RESOURCE = re.compile(r"svc-(?P<service>[a-z0-9-]+?)-(identity|federated-.*)$")
VERSION = re.compile(r"^(?P<major>[0-9]+)\.(?P<minor>[0-9]+)")

Resource = Mapping[str, Any]


def refusals(before: Mapping[str, Any], diff: Diff) -> list[str]:
    """Each change the plan refuses, with the steps to take instead."""
    old = {resource["urn"]: resource for resource in before.get("resources", [])}
    return [
        *_protected(old, diff),
        *_credentials_created_beside_their_twin(diff),
        *_version_steps(old, diff),
    ]


def cautions(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Changes that work but break a running service unless taken in steps."""
    was = before.get("outputs", {}).get("services", {})
    now = after.get("outputs", {}).get("services", {})
    found = []
    for name, service in now.items():
        binding = service.get("binding") if isinstance(service, dict) else None
        previous = was.get(name, {}).get("binding") if isinstance(was.get(name), dict) else None
        if previous == "podIdentity" and binding == "workloadIdentity":
            found.append(
                f"service {name} switches binding straight from podIdentity to "
                "workloadIdentity: its pods lose the identity NMI gave them before the new "
                "ones have the webhook's. Deploy binding: both first, roll the pods, then "
                "workloadIdentity (docs/security.md, Moving a service from pod identity to "
                "workload identity)"
            )
    return found


def _before_of(change: ResourceChange, old: Mapping[str, Resource]) -> Resource | None:
    for urn in (change.resource["urn"], *change.resource.get("aliases", ())):
        if urn in old:
            return old[urn]
    return None


def _protected(old: Mapping[str, Resource], diff: Diff) -> Iterator[str]:
    for change in diff.changes:
        if change.op not in ("delete", "replace"):
            continue
        was = change.resource if change.op == "delete" else _before_of(change, old)
        if was is None or not was["protect"]:
            continue
        name = was["name"]
        service = SERVICE_RESOURCE.match(name)
        first = (
            f"set retire: true on service {service['service']} and deploy, which only drops "
            "its protection"
            if service
            else "set secretless-aks:protect: false and deploy, which only drops the protection"
        )
        yield (
            f"{name} ({was['type']}) is protected (protect: true), and this change would "
            f"{change.op} it: `pulumi up` would stop there, half-way. Take two steps: first "
            f"{first}; then make this change (docs/operations.md, Removing a protected service)"
        )


def _credential_key(resource: Resource) -> tuple[Any, ...]:
    inputs = resource["inputs"]
    issuer = inputs.get("issuer")
    # Unknown in a preview on both sides alike: the same cluster's issuer.
    issuer_key = "unknown" if plan_values.marker(issuer) == "unknown" else str(issuer)
    return (str(inputs.get("resourceName")), issuer_key, str(inputs.get("subject")))


def _credentials_created_beside_their_twin(diff: Diff) -> Iterator[str]:
    deleted = {
        _credential_key(change.resource): change.resource["name"]
        for change in diff.changes
        if change.op == "delete" and change.resource["type"] == FEDERATED_CREDENTIAL
    }
    for change in diff.changes:
        if change.op != "create" or change.resource["type"] != FEDERATED_CREDENTIAL:
            continue
        twin = deleted.get(_credential_key(change.resource))
        if twin is not None:
            yield (
                f"{change.resource['name']} would be created while {twin}, a federated "
                "credential with the same identity, issuer and subject, still exists: Pulumi "
                "creates before it deletes, and Entra refuses a second credential for one "
                "issuer and subject on an identity. Keep the credential's resource name (an "
                f"alias from {twin}), or delete {twin} in a deploy of its own first"
            )


def _minor(version: Any) -> tuple[int, int] | None:
    match = VERSION.match(version) if isinstance(version, str) else None
    return (int(match["major"]), int(match["minor"])) if match else None


def _version_steps(old: Mapping[str, Resource], diff: Diff) -> Iterator[str]:
    for change in diff.changes:
        if change.resource["type"] != MANAGED_CLUSTER or change.op != "update":
            continue
        was = _before_of(change, old)
        if was is None:
            continue
        before = was["inputs"].get("kubernetesVersion")
        after = change.resource["inputs"].get("kubernetesVersion")
        then, now = _minor(before), _minor(after)
        if then is None or now is None:
            continue
        if now < then:
            yield (
                f"cluster.kubernetesVersion {before} -> {after} is a downgrade, which AKS does "
                "not support: keep the version the cluster runs"
            )
        elif now[0] == then[0] and now[1] > then[1] + 1:
            step = f"{then[0]}.{then[1] + 1}"
            yield (
                f"cluster.kubernetesVersion {before} -> {after} skips minor versions, which AKS "
                f"refuses (upgrades go one minor version at a time): deploy {step} first"
            )
