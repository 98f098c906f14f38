"""A lifecycle test double: one stack deployed again and again, remembering what Pulumi's
state and Azure remember between deploys. It is not Azure.

Each `up` runs the real program under mocks that answer from the last deploy's state (a
resource the engine keeps keeps what Azure computed for it, its random result included; one it
creates or replaces gets new values), diffs the new graph against that state with the offline
diff (`secretless_aks.offline.diff`, which follows aliases and cascades replacements), drops
what each resource's `ignoreChanges` covers, and applies the steps in the engine's order. A step
Azure or the engine would refuse raises `LifecycleError` with their words, after the steps
before it were applied: half-way, as a real `pulumi up` fails.

What it enforces, and where each rule comes from:

- Pulumi refuses to delete or replace a protected resource ("unable to delete resource ...
  as it is currently marked for protection").
- Replacement order. azure-native deletes first (provider.go, Diff: `deleteBeforeReplace :=
  len(replaces) > 0`, unless the name was random); pulumi-kubernetes deletes first for an
  object whose name is fixed (provider.go, Diff: `metadata.IsNamed` and the same name and
  namespace); pulumi-random creates first (no DeleteBeforeReplace in its resources.go).
- A deleted vault's name stays reserved while it is soft-deleted (Key Vault soft-delete
  overview: "You cannot reuse the name of a key vault that has been soft-deleted until the
  retention period has passed"); ARM answers 409 ConflictError "A vault with the same name
  already exists in deleted state". Its secrets go with it.
- A deleted secret is soft-deleted; creating it again recovers it (pulumi-azure-native
  PR #4759, which closed #4282: the pinned 3.29.0 recovers instead of failing with a
  conflict).
- One federated credential per (identity, issuer, subject): Entra answers 400 "Issuer and
  subject combination already exists for this Managed Identity".
- AKS upgrades one minor version at a time and never downgrades: OperationNotAllowed.
- The API server's authorized ranges: a PUT without them leaves AKS's list as it was (an empty
  list clears it, as `az aks update --api-server-authorized-ip-ranges ""` sends).
- `refresh` reads back what AKS changed itself: the versions its auto-upgrade moved, and the
  separately declared pools in the cluster's pool list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from secretless_aks.offline.diff import (
    PROVIDER_REASON,
    Diff,
    ResourceChange,
    diff_plans,
    flatten,
)
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import RecordedGraph, run_program
from secretless_aks.offline.mocks import AzureMocks
from secretless_aks.offline.replacements import forces_replacement

RANDOM_TYPES = (
    "random:index/randomString:RandomString",
    "random:index/randomPassword:RandomPassword",
)
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class LifecycleError(Exception):
    """A step Azure or the engine refuses; the steps before it are applied."""


@dataclass
class SoftDeletedVault:
    purge_protection: bool
    retention_days: int
    secrets: set[str] = field(default_factory=set)


@dataclass
class Azure:
    """What Azure keeps besides the resources in state."""

    deleted_vaults: dict[str, SoftDeletedVault] = field(default_factory=dict)
    # Secrets soft-deleted in a live vault: (vault name, secret name), lower-cased.
    deleted_secrets: set[tuple[str, str]] = field(default_factory=set)
    # The authorized ranges AKS holds, which a PUT without them leaves as they are.
    authorized_ranges: list[str] = field(default_factory=list)
    # What each step did, in order: ("create" | "delete", resource name).
    log: list[tuple[str, str]] = field(default_factory=list)


def _under(path: str, ignored: str) -> bool:
    """Whether `path` is the ignoreChanges path `ignored` or inside it; `[*]` in it stands
    for any index, as in Pulumi's property paths."""
    pattern = re.escape(ignored).replace(re.escape("[*]"), r"\[[0-9]+\]")
    return re.fullmatch(rf"{pattern}([.\[].*)?", path) is not None


class _StateMocks(AzureMocks):
    """Answers from the stack's state: kept resources keep what Azure computed."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        super().__init__(preview=False)
        self._lifecycle = lifecycle
        self._next: tuple[str, tuple[str, ...]] = ("", ())

    def registering(self, urn: str, aliases: tuple[str, ...]) -> None:
        self._next = (urn, aliases)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, state = super().new_resource(args)
        urn, aliases = self._next
        previous = self._lifecycle.find(urn, aliases)
        if previous is not None and not _replaces(previous, args.typ, dict(args.inputs)):
            # Kept: the same id, and the value random made for it (the mocks derive every
            # other output from the inputs, as before).
            if args.typ in RANDOM_TYPES:
                state["result"] = previous["outputs"]["result"]
            return previous["id"], {**state, "id": previous["id"]}
        if args.typ in RANDOM_TYPES:
            # Made again: a value it never had (the base mocks derive one from the name).
            generation = self._lifecycle.generations.get(args.name, 0)
            self._lifecycle.generations[args.name] = generation + 1
            if generation:
                seed = hashlib.sha256(f"{args.name}#{generation}".encode()).digest()
                length = int(args.inputs["length"])
                state["result"] = "".join(ALPHABET[b % len(ALPHABET)] for b in seed)[:length]
        return resource_id, state


def _replaces(previous: Mapping[str, Any], type_: str, inputs: dict[str, Any]) -> bool:
    was, now = flatten(previous["inputs"]), flatten(inputs)
    changed = [path for path in set(was) | set(now) if was.get(path) != now.get(path)]
    return any(forces_replacement(type_, path) for path in changed)


class Lifecycle:
    """One stack of the platform, deployed with `up(config)` again and again."""

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.document: dict[str, Any] = {"resources": [], "outputs": {}}
        self.options: dict[str, Mapping[str, Any]] = {}
        self.generations: dict[str, int] = {}
        self.azure = Azure()
        self.graph: RecordedGraph | None = None

    # -- state ---------------------------------------------------------------------------------

    def resources(self) -> dict[str, dict[str, Any]]:
        return {resource["urn"]: resource for resource in self.document["resources"]}

    def find(self, urn: str, aliases: tuple[str, ...] = ()) -> dict[str, Any] | None:
        live = self.resources()
        for candidate in (urn, *aliases):
            if candidate in live:
                return live[candidate]
        return None

    def named(self, name: str) -> dict[str, Any]:
        (found,) = [r for r in self.document["resources"] if r["name"] == name]
        return found

    # -- steps ---------------------------------------------------------------------------------

    def plan(self, config: Mapping[str, Any]) -> tuple[Diff, RecordedGraph, dict[str, Any]]:
        """What `pulumi up` would do now, with what each resource's ignoreChanges covers left
        out; nothing is applied."""
        graph = run_program(self.stack, config=config, mocks=_StateMocks(self))
        after = to_json(graph)
        for resource, recorded in zip(after["resources"], graph.resources, strict=True):
            resource["id"] = recorded.outputs.get("id")
            resource["outputs"] = dict(recorded.outputs)
            resource["ignoreChanges"] = list(recorded.options.get("ignoreChanges", ()))
        diff = diff_plans(self.document, after)
        return _ignoring(diff), graph, after

    def up(self, config: Mapping[str, Any]) -> Diff:
        """Apply what `plan` shows: creates, updates and replacements in program order, then
        the deletes in reverse; a refused step stops there, the steps before it applied."""
        diff, graph, after = self.plan(config)
        live = self.resources()
        deletes = [change for change in diff.resources if change.op == "delete"]
        try:
            for change in diff.resources:
                if change.op != "delete":
                    self._apply(change, live)
            for change in reversed(deletes):
                if change.resource["urn"] in live:
                    self._delete(live[change.resource["urn"]], live)
        finally:
            self.document = {"resources": list(live.values()), "outputs": after["outputs"]}
        self.graph = graph
        return diff

    def destroy(self) -> None:
        live = self.resources()
        try:
            for urn in reversed(list(live)):
                self._delete(live[urn], live)
        finally:
            self.document = {"resources": list(live.values()), "outputs": {}}

    def refresh(self, *, aks_upgraded_to: str | None = None) -> None:
        """Read back what AKS changed: with auto-upgrade on, the versions it moved (the cluster's
        own version only when its channel moves minor versions), and, always, every pool in the
        cluster's pool list, the separately declared ones too."""
        live = self.resources()
        pools = [r for r in live.values() if r["type"] == AGENT_POOL]
        for cluster in (r for r in live.values() if r["type"] == MANAGED_CLUSTER):
            inputs = cluster["inputs"]
            channel = inputs.get("autoUpgradeProfile", {}).get("upgradeChannel", "none")
            if aks_upgraded_to and channel != "none":
                if channel in ("stable", "rapid"):
                    inputs["kubernetesVersion"] = aks_upgraded_to
                for profile in inputs["agentPoolProfiles"]:
                    profile["orchestratorVersion"] = aks_upgraded_to
                for pool in pools:
                    if pool["inputs"].get("orchestratorVersion") is None:
                        pool["inputs"]["orchestratorVersion"] = aks_upgraded_to
            known = {profile["name"] for profile in inputs["agentPoolProfiles"]}
            for pool in pools:
                if pool["inputs"]["agentPoolName"] not in known:
                    inputs["agentPoolProfiles"].append(
                        {
                            "name": pool["inputs"]["agentPoolName"],
                            "count": pool["inputs"]["count"],
                            "vmSize": pool["inputs"]["vmSize"],
                            "mode": pool["inputs"]["mode"],
                        }
                    )

    # -- the rules -----------------------------------------------------------------------------

    def _apply(self, change: ResourceChange, live: dict[str, dict[str, Any]]) -> None:
        resource = change.resource
        if change.op == "create":
            self._create(resource, live)
        elif change.op == "update":
            self._update(resource, live)
        elif change.op == "replace":
            old = self._previous(resource, live)
            self._refuse_if_protected(old, "replace")
            if resource["type"] in RANDOM_TYPES:  # create first
                self._create(resource, live, replacing=old)
                self._delete(old, live)
            else:  # delete first
                self._delete(old, live)
                self._create(resource, live)
        else:  # the same: kept under its new URN if it was renamed
            old = self._previous(resource, live) if resource["urn"] not in live else resource
            live.pop(old["urn"], None)
            live[resource["urn"]] = resource

    def _previous(self, resource: dict[str, Any], live: dict[str, dict[str, Any]]) -> dict:
        """The state the resource had: under its URN, or one it was renamed from."""
        for urn in (resource["urn"], *resource.get("aliases", ())):
            if urn in live:
                return live[urn]
        return resource  # new to state (a read)

    def _refuse_if_protected(self, resource: Mapping[str, Any], op: str) -> None:
        if resource["protect"]:
            raise LifecycleError(
                f'unable to {op} resource "{resource["urn"]}" as it is currently marked for '
                "protection. To unprotect the resource, remove the `protect` flag from the "
                "resource in your Pulumi program and run `pulumi up`"
            )

    def _create(
        self,
        resource: dict[str, Any],
        live: dict[str, dict[str, Any]],
        replacing: Mapping[str, Any] | None = None,
    ) -> None:
        type_, inputs = resource["type"], resource["inputs"]
        if type_ == VAULT:
            name = str(inputs["vaultName"]).lower()
            if name in self.azure.deleted_vaults:
                raise LifecycleError(
                    f"creating {resource['name']}: 409 ConflictError: A vault with the same "
                    "name already exists in deleted state. You need to either recover or "
                    "purge existing key vault."
                )
        elif type_ == SECRET:
            key = (str(inputs["vaultName"]).lower(), str(inputs["secretName"]).lower())
            self.azure.deleted_secrets.discard(key)  # recovered (azure-native PR #4759)
        elif type_ == FEDERATED_CREDENTIAL:
            twin = self._same_credential(resource, live, except_urn=None)
            if twin is not None:
                raise LifecycleError(
                    f"creating {resource['name']}: 400 Issuer and subject combination already "
                    f"exists for this Managed Identity (held by {twin})"
                )
        elif type_ == MANAGED_CLUSTER:
            self._set_ranges(inputs)
        live[resource["urn"]] = resource
        self.azure.log.append(("create", resource["name"]))

    def _update(self, resource: dict[str, Any], live: dict[str, dict[str, Any]]) -> None:
        old = self._previous(resource, live)
        if resource["type"] == MANAGED_CLUSTER:
            _upgrade_allowed(old["inputs"], resource["inputs"])
            self._set_ranges(resource["inputs"])
        if old["urn"] != resource["urn"]:
            del live[old["urn"]]
        live[resource["urn"]] = resource
        self.azure.log.append(("update", resource["name"]))

    def _set_ranges(self, inputs: Mapping[str, Any]) -> None:
        profile = inputs.get("apiServerAccessProfile")
        if profile is not None and "authorizedIPRanges" in profile:
            self.azure.authorized_ranges = list(profile["authorizedIPRanges"])

    def _delete(self, resource: Mapping[str, Any], live: dict[str, dict[str, Any]]) -> None:
        self._refuse_if_protected(resource, "delete")
        inputs = resource["inputs"]
        if resource["type"] == VAULT:
            name = str(inputs["vaultName"]).lower()
            properties = inputs.get("properties", {})
            secrets = {s for vault, s in self.azure.deleted_secrets if vault == name}
            self.azure.deleted_vaults[name] = SoftDeletedVault(
                bool(properties.get("enablePurgeProtection")),
                int(properties.get("softDeleteRetentionInDays", 90)),
                secrets,
            )
        elif resource["type"] == SECRET:
            key = (str(inputs["vaultName"]).lower(), str(inputs["secretName"]).lower())
            self.azure.deleted_secrets.add(key)
        live.pop(resource["urn"], None)
        self.azure.log.append(("delete", resource["name"]))

    def _same_credential(
        self, resource: Mapping[str, Any], live: Mapping[str, Mapping[str, Any]], except_urn: Any
    ) -> str | None:
        inputs = resource["inputs"]
        key = (inputs["resourceName"], inputs["issuer"], inputs["subject"])
        for other in live.values():
            if other["type"] != FEDERATED_CREDENTIAL or other["urn"] == except_urn:
                continue
            theirs = other["inputs"]
            if (theirs["resourceName"], theirs["issuer"], theirs["subject"]) == key:
                return str(other["name"])
        return None


def _minor(version: Any) -> tuple[int, ...] | None:
    return tuple(int(part) for part in version.split(".")[:2]) if isinstance(version, str) else None


def _upgrade_allowed(before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """AKS upgrades one minor version at a time and never downgrades (its upgrade rules);
    it answers OperationNotAllowed otherwise."""
    then, now = _minor(before.get("kubernetesVersion")), _minor(after.get("kubernetesVersion"))
    if then is None or now is None or now == then:
        return
    if now < then or now[1] > then[1] + 1:
        raise LifecycleError(
            f"updating the cluster: OperationNotAllowed: Upgrading Kubernetes version "
            f"{before['kubernetesVersion']} to {after['kubernetesVersion']} is not allowed"
        )


def _ignoring(diff: Diff) -> Diff:
    """The diff with what each resource's ignoreChanges covers left out, as the engine does."""

    def kept(change: ResourceChange) -> ResourceChange:
        if change.op not in ("update", "replace"):
            return change
        ignored = change.resource.get("ignoreChanges", [])
        properties = tuple(
            p for p in change.properties if not any(_under(p.path, i) for i in ignored)
        )
        reasons = tuple(
            r
            for r in change.replace_reasons
            if r == PROVIDER_REASON or any(p.path == r and p.replaces for p in properties)
        )
        if reasons:
            return ResourceChange("replace", change.resource, properties, reasons)
        return ResourceChange("update" if properties else "same", change.resource, properties)

    return Diff(diff.project, diff.stack, tuple(kept(c) for c in diff.resources), diff.outputs)


def changes(diff: Diff) -> dict[str, str]:
    """{resource name: op} of everything a step changes."""
    return {c.resource["name"]: c.op for c in diff.changes}


def property_paths(diff: Diff, name: str) -> list[str]:
    return [p.path for c in diff.changes if c.resource["name"] == name for p in c.properties]
