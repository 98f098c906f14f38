"""Day two: dev and prod through create, add a service, remove it, upgrade, refresh, move
region and destroy, against the lifecycle double (tests/lifecycle.py). Each step either works
or is stopped by the plan with what to do; each fix is shown to matter by reverting it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from secretless_aks.components import cluster as cluster_module
from secretless_aks.components.key_vault import KeyVault, KeyVaultArgs
from secretless_aks.offline.refusals import refusals
from tests.lifecycle import Lifecycle, LifecycleError, changes
from tests.stack_configs import stack_config

DIGEST = "@sha256:" + "1" * 64
ORDERS = {"name": "orders", "image": "ghcr.io/contoso/orders" + DIGEST, "secretScope": ["*"]}
CLUSTER_VERSION = "1.34"


def config(stack: str, **changes: Any) -> dict[str, Any]:
    return stack_config(stack, **changes)


def with_orders(stack: str, **service: Any) -> dict[str, Any]:
    base = config(stack)
    services = base.get("secretless-aks:services", [])
    return config(stack, services=[*services, {**ORDERS, **service}])


def refused(lifecycle: Lifecycle, changed: dict[str, Any]) -> list[str]:
    """What the plan (`--against` the deployed state) refuses of a change."""
    diff, _, _ = lifecycle.plan(changed)
    return refusals(lifecycle.document, diff)


@pytest.fixture
def dev() -> Iterator[Lifecycle]:
    lifecycle = Lifecycle("dev")
    lifecycle.up(config("dev"))
    yield lifecycle


@pytest.fixture
def prod() -> Iterator[Lifecycle]:
    lifecycle = Lifecycle("prod")
    lifecycle.up(config("prod"))
    yield lifecycle


# --- dev, step by step -------------------------------------------------------------------------


def test_dev_lives_through_every_step_and_leaves_only_soft_deleted_names(
    dev: Lifecycle,
) -> None:
    assert changes(dev.up(config("dev"))) == {}  # deployed: nothing left to do
    added = changes(dev.up(with_orders("dev")))
    assert added["svc-orders-identity"] == "create"
    # ... and the published contract, whose serviceGrants lists the new service's grants.
    assert added.pop("contract") == "update" and set(added.values()) == {"create"}
    removed = changes(dev.up(config("dev")))
    assert removed.pop("contract") == "update"
    assert removed["svc-orders-identity"] == "delete" and set(removed.values()) == {"delete"}

    dev.refresh(aks_upgraded_to="1.35.4")  # the patch channel moved the pools' versions
    assert changes(dev.up(config("dev"))) == {}

    old_vault = dev.named("keyvault-vault")["inputs"]["vaultName"]
    moved = changes(dev.up(config("dev", location="northeurope")))
    assert moved["keyvault-vault"] == "replace"
    new_vault = dev.named("keyvault-vault")["inputs"]["vaultName"]
    assert new_vault != old_vault
    assert old_vault.lower() in dev.azure.deleted_vaults

    dev.destroy()
    assert dev.document["resources"] == []
    assert set(dev.azure.deleted_vaults) == {old_vault.lower(), new_vault.lower()}


def test_upgrading_one_minor_version_works_and_a_skip_or_a_downgrade_is_refused() -> None:
    lifecycle = Lifecycle("dev")
    lifecycle.up(config("dev", cluster={"kubernetesVersion": CLUSTER_VERSION}))
    assert refused(lifecycle, config("dev", cluster={"kubernetesVersion": "1.36"})) == [
        "cluster.kubernetesVersion 1.34 -> 1.36 skips minor versions, which AKS refuses "
        "(upgrades go one minor version at a time): deploy 1.35 first"
    ]
    assert refused(lifecycle, config("dev", cluster={"kubernetesVersion": "1.33"})) == [
        "cluster.kubernetesVersion 1.34 -> 1.33 is a downgrade, which AKS does not support: "
        "keep the version the cluster runs"
    ]
    upgrade = config("dev", cluster={"kubernetesVersion": "1.35"})
    assert refused(lifecycle, upgrade) == []
    assert changes(lifecycle.up(upgrade)) == {"cluster-aks": "update"}
    # What the refusals prevent: AKS refuses the update itself.
    for version in ("1.37", "1.34"):
        with pytest.raises(LifecycleError, match="OperationNotAllowed"):
            lifecycle.up(config("dev", cluster={"kubernetesVersion": version}))


def test_what_config_sets_is_never_ignored_after_a_refresh(prod: Lifecycle) -> None:
    prod.refresh(aks_upgraded_to="1.35.2")
    resized = config("prod", cluster={"nodeCount": 4, "nodeVmSize": "Standard_D8s_v5"})
    changed = {
        p.path
        for c in prod.plan(resized)[0].changes
        if c.resource["name"] == "cluster-aks"
        for p in c.properties
    }
    assert changed == {"agentPoolProfiles[0].count", "agentPoolProfiles[0].vmSize"}
    for channel in ("patch", "none"):
        ignored = list(cluster_module.changed_by_aks(_cluster_settings(channel)))
        assert "kubernetesVersion" not in ignored


# --- prod, step by step ------------------------------------------------------------------------


def test_prod_removes_a_service_in_two_deploys_and_refuses_the_one_that_would_stop_half_way(
    prod: Lifecycle,
) -> None:
    prod.up(with_orders("prod"))
    assert refused(prod, config("prod")) == [
        "svc-orders-identity (azure-native:managedidentity:UserAssignedIdentity) is protected "
        "(protect: true), and this change would delete it: `pulumi up` would stop there, "
        "half-way. Take two steps: first set retire: true on service orders and deploy, which "
        "only drops its protection; then make this change (docs/operations.md, Removing a "
        "protected service)"
    ]
    # What the refusal prevents: the deploy fails at the identity, after the steps before it.
    with pytest.raises(LifecycleError, match="as it is currently marked for protection"):
        prod.up(config("prod"))
    assert ("delete", "svc-orders-deployment") in prod.azure.log

    prod.up(with_orders("prod"))  # back to where it was
    retired = changes(prod.up(with_orders("prod", retire=True)))
    assert retired == {"svc-orders-identity": "update"}
    assert refused(prod, config("prod")) == []
    assert changes(prod.up(config("prod")))["svc-orders-identity"] == "delete"


def test_prod_upgrades_refreshes_and_refuses_a_region_move_and_a_destroy(prod: Lifecycle) -> None:
    upgrade = config("prod", cluster={"kubernetesVersion": "1.36"})
    assert refused(prod, upgrade) == []
    assert changes(prod.up(upgrade)) == {
        "cluster-aks": "update",
        "cluster-pool-userf0a72f": "update",
    }

    prod.refresh(aks_upgraded_to="1.36.2")  # the user pool now shows in the cluster's list
    assert changes(prod.up(upgrade)) == {}

    moving = refused(
        prod, config("prod", location="northeurope", cluster={"kubernetesVersion": "1.36"})
    )
    assert moving and all("is protected (protect: true)" in refusal for refusal in moving)
    assert any(r.startswith("environment (azure-native:resources:ResourceGroup)") for r in moving)
    assert all("set secretless-aks:protect: false" in r or "retire" in r for r in moving)
    with pytest.raises(LifecycleError, match="marked for protection"):
        prod.destroy()


# --- each fix, reverted ------------------------------------------------------------------------


def test_without_a_suffix_per_region_a_moved_vault_asks_for_its_soft_deleted_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = KeyVault.__init__

    def one_suffix(self: KeyVault, name: str, args: KeyVaultArgs, opts: Any = None) -> None:
        original(self, name, dataclasses.replace(args, region=None), opts)

    monkeypatch.setattr(KeyVault, "__init__", one_suffix)
    lifecycle = Lifecycle("dev")
    lifecycle.up(config("dev"))
    with pytest.raises(LifecycleError, match="A vault with the same name already exists in"):
        lifecycle.up(config("dev", location="northeurope"))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_without_ignoring_what_aks_changes_a_refresh_makes_the_next_deploy_undo_it(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_module, "changed_by_aks", lambda settings: iter(()))
    lifecycle = Lifecycle(stack)
    lifecycle.up(config(stack))
    lifecycle.refresh(aks_upgraded_to="1.35.9")
    undone = lifecycle.up(config(stack))
    assert changes(undone)["cluster-aks"] == "update"


def test_removing_the_authorized_ranges_clears_them_and_omitting_the_list_would_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ranges = {"apiServerAuthorizedIpRanges": ["203.0.113.0/24"]}
    lifecycle = Lifecycle("dev")
    lifecycle.up(config("dev", cluster=ranges))
    assert lifecycle.azure.authorized_ranges == ["203.0.113.0/24"]
    lifecycle.up(config("dev"))
    assert lifecycle.azure.authorized_ranges == []

    # Reverted: a PUT without the list leaves AKS's as it was.
    original = cluster_module.containerservice.ManagedClusterAPIServerAccessProfileArgs

    def omitted(*, authorized_ip_ranges: list[str]) -> Any:
        return original(authorized_ip_ranges=authorized_ip_ranges) if authorized_ip_ranges else None

    monkeypatch.setattr(
        cluster_module.containerservice, "ManagedClusterAPIServerAccessProfileArgs", omitted
    )
    reverted = Lifecycle("dev")
    reverted.up(config("dev", cluster=ranges))
    reverted.up(config("dev"))
    assert reverted.azure.authorized_ranges == ["203.0.113.0/24"]


def test_a_credential_renamed_without_an_alias_is_refused_and_would_fail_in_entra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from secretless_aks.components import service_identity

    lifecycle = Lifecycle("dev")
    lifecycle.up(config("dev"))
    renamed = service_identity.federated_credential_name

    def another_name(*args: Any, **kwargs: Any) -> str:
        return "x" + renamed(*args, **kwargs)

    monkeypatch.setattr(service_identity, "federated_credential_name", another_name)
    (refusal,) = refused(lifecycle, config("dev"))
    assert refusal.startswith(
        "svc-my-great-service-federated-xmy-great-service_my-great-service would be created "
        "while svc-my-great-service-federated-my-great-service_my-great-service, a federated "
        "credential with the same identity, issuer and subject, still exists"
    )
    with pytest.raises(LifecycleError, match="Issuer and subject combination already exists"):
        lifecycle.up(config("dev"))


def test_a_straight_switch_from_pod_identity_is_cautioned(dev: Lifecycle) -> None:
    from secretless_aks.offline.refusals import cautions

    dev.up(with_orders("dev", binding="podIdentity", secretScope=["Identity--Secret"]))
    _, _, after = dev.plan(with_orders("dev", binding="workloadIdentity"))
    assert cautions(dev.document, after) == [
        "service orders switches binding straight from podIdentity to workloadIdentity: its "
        "pods lose the identity NMI gave them before the new ones have the webhook's. Deploy "
        "binding: both first, roll the pods, then workloadIdentity (docs/security.md, Moving a "
        "service from pod identity to workload identity)"
    ]


def _cluster_settings(channel: str) -> Any:
    from secretless_aks.components.config import ClusterConfig

    return ClusterConfig.model_validate(
        {
            "nodeCount": 1,
            "nodeVmSize": "Standard_D2s_v5",
            "tier": "Free",
            "kubernetesVersion": "1.35",
            "upgradeChannel": channel,
        }
    )
