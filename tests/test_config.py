"""Stack configuration: every class of mistake is rejected, named by key, before any resource."""

from __future__ import annotations

import ipaddress
import json
import uuid
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pydantic import ConfigDict

from secretless_aks.components.config import (
    ConfigError,
    ConfigModel,
    ConfigSecret,
    KeyRuleError,
    ServiceConfig,
    StackConfig,
    StackName,
    load_stack_config,
    parse_config,
    parse_stack_config,
)
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    ProgramFailedError,
    config_values,
    read_project_file,
    run_program,
    with_ci_stand_ins,
)
from secretless_aks.offline.warnings import plan_warnings
from tests.stack_configs import stack_config

PROJECT_FILE = read_project_file(PROJECT_DIR)

EXISTING_SUBNET = (
    "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-hub"
    "/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-aks"
)


def rejected(config: dict[str, Any], stack: str = "dev") -> str:
    """Run the real program; assert it fails on config before registering or invoking anything."""
    with pytest.raises(ProgramFailedError) as failure:
        run_program(stack, config=config)
    assert isinstance(failure.value.error, ConfigError), failure.value.error
    assert failure.value.graph.resources == [], "resources were registered before validation"
    assert failure.value.graph.invokes == [], "Azure was called before validation"
    return str(failure.value.error)


def parsed(config: dict[str, Any], stack: str = "dev") -> StackConfig:
    """As the harness parses it: with CI's deployer standing in where the stack leaves it out."""
    values, _ = config_values(with_ci_stand_ins(PROJECT_FILE, config))
    return parse_stack_config(stack, values, source=f"Pulumi.{stack}.yaml")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        pytest.param(
            stack_config(location=None),
            "azure-native:location: required key is missing",
            id="missing-top-level-key",
        ),
        pytest.param(
            stack_config(cluster={"nodeVmSize": None}),
            "secretless-aks:cluster.nodeVmSize: required key is missing",
            id="missing-nested-key",
        ),
        pytest.param(
            stack_config(cluster={"nodeCount": "three"}),
            "secretless-aks:cluster.nodeCount: expected a whole number (unquoted), found 'three'",
            id="wrong-type",
        ),
        pytest.param(
            stack_config(cluster={"nodeCont": 2}),
            "secretless-aks:cluster.nodeCont: unknown key (did you mean 'nodeCount'?)",
            id="typo-in-nested-key",
        ),
        pytest.param(
            stack_config(netwrk={"addressSpace": "10.0.0.0/16"}),
            "secretless-aks:netwrk: unknown key (did you mean 'network'?)",
            id="typo-in-top-level-key",
        ),
        pytest.param(
            stack_config(network={"addressSpace": "10.40.0.0/33"}),
            "secretless-aks:network.addressSpace: expected an IPv4 CIDR such as 10.40.0.0/16, "
            "found '10.40.0.0/33'",
            id="invalid-cidr",
        ),
        pytest.param(
            stack_config(network={"nodeSubnetPrefix": "10.41.0.0/22"}),
            "secretless-aks:network.nodeSubnetPrefix: 10.41.0.0/22 does not lie inside "
            "addressSpace 10.40.0.0/16",
            id="subnet-outside-address-space",
        ),
        pytest.param(
            stack_config(cluster={"nodeCount": 0}),
            "secretless-aks:cluster.nodeCount: expected at least 1, found 0",
            id="node-count-below-range",
        ),
        pytest.param(
            stack_config(cluster={"nodeCount": 1001}),
            "secretless-aks:cluster.nodeCount: expected at most 1000, found 1001",
            id="node-count-above-range",
        ),
        pytest.param(
            stack_config(cluster={"tier": "Premium"}),
            "secretless-aks:cluster.tier: expected 'Free' or 'Standard', found 'Premium'",
            id="unknown-enum-value",
        ),
        pytest.param(
            stack_config(
                network={
                    "existingSubnetId": "/subscriptions/abc/resourceGroups/rg",
                    "addressSpace": None,
                    "nodeSubnetPrefix": None,
                }
            ),
            "secretless-aks:network.existingSubnetId: expected a subnet resource id: "
            "/subscriptions/<subscription id>/resourceGroups/<group>/providers/"
            "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, "
            "found '/subscriptions/abc/resourceGroups/rg'",
            id="malformed-resource-id",
        ),
        pytest.param(
            stack_config(network={"existingSubnetId": EXISTING_SUBNET}),
            "secretless-aks:network.existingSubnetId: give either existingSubnetId or "
            "addressSpace + nodeSubnetPrefix, not both",
            id="both-subnet-sources",
        ),
        pytest.param(
            stack_config(network={"nodeSubnetPrefix": None}),
            "secretless-aks:network.nodeSubnetPrefix: required unless existingSubnetId is given "
            "(set both addressSpace and nodeSubnetPrefix, or existingSubnetId)",
            id="half-of-a-new-network",
        ),
        pytest.param(
            stack_config(cluster={"nodeCount": 10}, network={"nodeSubnetPrefix": "10.40.0.0/24"}),
            "secretless-aks:network.nodeSubnetPrefix: 10.40.0.0/24 has 251 usable addresses, "
            "but 10 nodes (+1 during upgrades) with maxPods 30 need 341; use a /23 or larger",
            id="subnet-too-small-for-azure-cni",
        ),
        pytest.param(
            stack_config(network={"serviceCidr": "10.40.128.0/20", "dnsServiceIp": "10.40.128.10"}),
            "secretless-aks:network.serviceCidr: 10.40.128.0/20 overlaps addressSpace "
            "10.40.0.0/16; Kubernetes service addresses must not collide with the VNet",
            id="service-cidr-overlaps-vnet",
        ),
        pytest.param(
            stack_config(network={"dnsServiceIp": "172.16.0.1"}),
            "secretless-aks:network.dnsServiceIp: 172.16.0.1 must be an address inside "
            "serviceCidr 172.16.0.0/16 other than its first two and its last",
            id="dns-ip-is-the-kubernetes-service-address",
        ),
        pytest.param(
            stack_config(cluster={"adminGroupObjectIds": ["platform-admins"]}),
            "secretless-aks:cluster.adminGroupObjectIds[0]: expected an Entra object id "
            "(a GUID), found 'platform-admins'",
            id="group-name-instead-of-object-id",
        ),
        pytest.param(
            stack_config(cluster={"disableLocalAccounts": "false"}),
            "secretless-aks:cluster.disableLocalAccounts: expected true or false (unquoted), "
            "found 'false'",
            id="quoted-boolean",
        ),
        pytest.param(
            stack_config(cluster={"kubernetesVersion": 1.35}),
            "secretless-aks:cluster.kubernetesVersion: expected a string, found the number 1.35 "
            "(quote it in the stack file)",
            id="unquoted-kubernetes-version",
        ),
        pytest.param(
            stack_config(cluster={"availabilityZones": ["1", "1"]}),
            "secretless-aks:cluster.availabilityZones: each entry must appear once",
            id="repeated-zone",
        ),
        pytest.param(
            stack_config(location="West Europe"),
            "azure-native:location: expected a valid Azure region: 2-64 lowercase letters and "
            "digits, such as westeurope (not a display name), found 'West Europe'",
            id="region-display-name",
        ),
        pytest.param(
            stack_config(location="westeurope", stack="prod"),
            "secretless-aks:stack: unknown key; known keys: allowedRegistries, appTeams, "
            "cluster, deployers, developers, generatedSecrets, keyVault, monitoring, network, "
            "protect, publishContractTo, registry, secrets, services",
            id="reserved-key",
        ),
    ],
)
def test_bad_config_is_rejected_naming_the_key_before_any_resource(
    config: dict[str, Any], problem: str
) -> None:
    message = rejected(config)
    assert message.startswith("invalid configuration in Pulumi.dev.yaml (1 problem):\n")
    assert f"\n  - {problem}" in message


def test_every_problem_is_reported_at_once() -> None:
    config = stack_config(
        cluster={"nodeCount": 0, "tier": "Gold", "nodeVmSize": None},
        network={"addressSpace": "not-a-cidr"},
        protect="yes",
    )
    assert rejected(config) == (
        "invalid configuration in Pulumi.dev.yaml (5 problems):\n"
        "  - secretless-aks:cluster.nodeCount: expected at least 1, found 0\n"
        "  - secretless-aks:cluster.nodeVmSize: required key is missing\n"
        "  - secretless-aks:cluster.tier: expected 'Free' or 'Standard', found 'Gold'\n"
        "  - secretless-aks:network.addressSpace: expected an IPv4 CIDR such as 10.40.0.0/16, "
        "found 'not-a-cidr'\n"
        "  - secretless-aks:protect: expected true or false (unquoted), found 'yes'"
    )


def test_stack_name_that_cannot_name_azure_resources_is_rejected() -> None:
    with pytest.raises(ProgramFailedError) as failure:
        run_program("Prod_EU", config=stack_config())
    assert failure.value.graph.resources == []
    assert str(failure.value.error) == (
        "invalid configuration in Pulumi.Prod_EU.yaml (1 problem):\n"
        "  - stack name 'Prod_EU' cannot name Azure resources: use 2-16 lowercase letters, "
        "digits and hyphens, starting with a letter and not ending with a hyphen"
    )


def test_defaults_fill_what_the_stack_file_leaves_out() -> None:
    config = parsed(stack_config())
    assert config.protect is False
    assert config.cluster.disable_local_accounts is True
    assert config.cluster.admin_group_object_ids == ()
    assert config.cluster.max_pods == 30
    assert config.cluster.kubernetes_version is None
    assert config.network.service_cidr == ipaddress.IPv4Network("172.16.0.0/16")
    assert config.network.dns_service_ip == ipaddress.IPv4Address("172.16.0.10")


def test_existing_subnet_mode_accepts_a_full_subnet_id_in_any_case() -> None:
    subnet = EXISTING_SUBNET.replace("resourceGroups", "resourcegroups")
    config = parsed(
        stack_config(
            network={"existingSubnetId": subnet, "addressSpace": None, "nodeSubnetPrefix": None}
        )
    )
    assert config.network.existing_subnet_id == subnet
    assert config.network.address_space is None


def test_config_objects_are_frozen() -> None:
    config = parsed(stack_config())
    with pytest.raises(ValueError, match="frozen"):
        config.cluster.node_count = 5  # type: ignore[misc]


def test_admin_groups_are_parsed_as_object_ids() -> None:
    group = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
    config = parsed(stack_config(cluster={"adminGroupObjectIds": [group]}))
    assert config.cluster.admin_group_object_ids == (uuid.UUID(group),)


USER_POOL = {"nodeCount": 3, "nodeVmSize": "Standard_D4s_v5"}
WINDOW = {"dayOfWeek": "Sunday", "startHour": 2, "durationHours": 4}
RANGES = "secretless-aks:cluster.apiServerAuthorizedIpRanges"


def _window(**changes: Any) -> dict[str, Any]:
    return {key: value for key, value in {**WINDOW, **changes}.items() if value is not None}


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        pytest.param(
            stack_config(cluster={"networkPolicy": "cilium"}),
            "secretless-aks:cluster.networkPolicy: expected 'azure' or 'calico', found 'cilium'",
            id="network-policy-cilium",
        ),
        pytest.param(
            stack_config(cluster={"upgradeChannel": "Stable"}),
            "secretless-aks:cluster.upgradeChannel: expected 'none', 'patch', 'stable', 'rapid' "
            "or 'node-image', found 'Stable'",
            id="upgrade-channel-spelled-as-a-title",
        ),
        pytest.param(
            stack_config(cluster={"nodeOsUpgradeChannel": "nodeImage"}),
            "secretless-aks:cluster.nodeOsUpgradeChannel: expected 'None', 'Unmanaged', "
            "'NodeImage' or 'SecurityPatch', found 'nodeImage'",
            id="node-os-channel-in-camel-case",
        ),
        *(
            pytest.param(
                stack_config(cluster={"kubernetesVersion": "1.35", "upgradeChannel": channel}),
                f"secretless-aks:cluster.upgradeChannel: {channel} moves the cluster to newer "
                "minor versions than kubernetesVersion 1.35, and the next pulumi up would ask AKS "
                "to downgrade; use patch or none, or remove kubernetesVersion",
                id=f"pinned-minor-version-with-{channel}",
            )
            for channel in ("stable", "rapid")
        ),
        pytest.param(
            stack_config(cluster={"kubernetesVersion": "1.35.2"}),
            "secretless-aks:cluster.upgradeChannel: patch moves the cluster past "
            "kubernetesVersion 1.35.2, and the next pulumi up would ask AKS to downgrade; pin the "
            "minor version only (1.35), or use none",
            id="pinned-patch-version-with-the-default-patch-channel",
        ),
        *(
            pytest.param(
                stack_config(
                    cluster={
                        "upgradeChannel": "none",
                        "nodeOsUpgradeChannel": node_os,
                        "maintenanceWindow": WINDOW,
                    }
                ),
                "secretless-aks:cluster.maintenanceWindow: schedules nothing: with upgradeChannel "
                f"none and nodeOsUpgradeChannel {node_os} AKS makes no upgrades of its own; choose "
                "a channel or remove the window",
                id=f"window-with-no-channel-and-node-os-{node_os}",
            )
            for node_os in ("None", "Unmanaged")
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": _window(dayOfWeek="sunday")}),
            "secretless-aks:cluster.maintenanceWindow.dayOfWeek: expected 'Monday', 'Tuesday', "
            "'Wednesday', 'Thursday', 'Friday', 'Saturday' or 'Sunday', found 'sunday'",
            id="day-of-week-in-lowercase",
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": _window(startHour=24)}),
            "secretless-aks:cluster.maintenanceWindow.startHour: expected at most 23, found 24",
            id="start-hour-24",
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": _window(startHour="02:00")}),
            "secretless-aks:cluster.maintenanceWindow.startHour: expected a whole number "
            "(unquoted), found '02:00'",
            id="start-hour-as-a-time",
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": _window(durationHours=3)}),
            "secretless-aks:cluster.maintenanceWindow.durationHours: expected at least 4, found 3",
            id="window-shorter-than-azure-allows",
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": _window(durationHours=25)}),
            "secretless-aks:cluster.maintenanceWindow.durationHours: expected at most 24, found 25",
            id="window-longer-than-a-day",
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": _window(durationHours=None)}),
            "secretless-aks:cluster.maintenanceWindow.durationHours: required key is missing",
            id="window-without-a-duration",
        ),
        *(
            pytest.param(
                stack_config(cluster={"maintenanceWindow": _window(utcOffset=offset)}),
                "secretless-aks:cluster.maintenanceWindow.utcOffset: expected a UTC offset such "
                f"as +00:00 or -05:30, found {offset!r}",
                id=f"utc-offset-{offset}",
            )
            for offset in ("+2:00", "02:00", "UTC", "+15:00", "+05:60")
        ),
        pytest.param(
            stack_config(cluster={"maintenanceWindow": {**WINDOW, "utcOfset": "+01:00"}}),
            "secretless-aks:cluster.maintenanceWindow.utcOfset: unknown key (did you mean "
            "'utcOffset'?)",
            id="typo-in-window-key",
        ),
        pytest.param(
            stack_config(cluster={"userPool": {"nodeCount": 3}}),
            "secretless-aks:cluster.userPool.nodeVmSize: required key is missing",
            id="user-pool-without-a-vm-size",
        ),
        pytest.param(
            stack_config(cluster={"userPool": {**USER_POOL, "nodeCount": 0}}),
            "secretless-aks:cluster.userPool.nodeCount: expected at least 1, found 0",
            id="user-pool-of-no-nodes",
        ),
        pytest.param(
            stack_config(cluster={"userPool": {**USER_POOL, "availabilityZones": ["1", "1"]}}),
            "secretless-aks:cluster.userPool.availabilityZones: each entry must appear once",
            id="user-pool-zone-repeated",
        ),
        pytest.param(
            stack_config(cluster={"userPool": {**USER_POOL, "maxPods": 251}}),
            "secretless-aks:cluster.userPool.maxPods: expected at most 250, found 251",
            id="user-pool-max-pods-above-range",
        ),
        pytest.param(
            # Either pool fits the /22 alone (62 and 961 addresses); together they do not.
            stack_config(cluster={"userPool": {**USER_POOL, "nodeCount": 30}}),
            "secretless-aks:network.nodeSubnetPrefix: 10.40.0.0/22 has 1019 usable addresses, "
            "but the system pool's 1 node with maxPods 30 and the user pool's 30 nodes with "
            "maxPods 30 (each pool +1 during upgrades) need 1023; use a /21 or larger",
            id="subnet-too-small-for-both-pools",
        ),
        pytest.param(
            stack_config(cluster={"userPool": {**USER_POOL, "nodeCount": "three"}}),
            "secretless-aks:cluster.userPool.nodeCount: expected a whole number (unquoted), "
            "found 'three'",
            id="invalid-user-pool-skips-the-subnet-rule",
        ),
        pytest.param(
            stack_config(cluster={"apiServerAuthorizedIpRanges": ["0.0.0.0/0"]}),
            f"{RANGES}: together these ranges admit every IPv4 address; list the operators' and "
            "CI runners' egress ranges, or leave the key out",
            id="authorized-range-of-everything",
        ),
        pytest.param(
            stack_config(cluster={"apiServerAuthorizedIpRanges": ["0.0.0.0/1", "128.0.0.0/1"]}),
            f"{RANGES}: together these ranges admit every IPv4 address; list the operators' and "
            "CI runners' egress ranges, or leave the key out",
            id="authorized-ranges-that-cover-everything",
        ),
        pytest.param(
            stack_config(cluster={"kubernetesVersion": "1.\u0663\u0662"}),
            "secretless-aks:cluster.kubernetesVersion: expected a Kubernetes version such as "
            "1.35 or 1.35.2, found '1.\u0663\u0662'",
            id="version-with-non-ascii-digits",
        ),
        pytest.param(
            stack_config(
                cluster={"apiServerAuthorizedIpRanges": ["203.0.113.0/24", "203.0.113.0/24"]}
            ),
            f"{RANGES}: each entry must appear once",
            id="authorized-range-twice",
        ),
        pytest.param(
            stack_config(cluster={"apiServerAuthorizedIpRanges": []}),
            f"{RANGES}: list at least one range, or leave the key out",
            id="no-authorized-ranges",
        ),
        pytest.param(
            stack_config(cluster={"apiServerAuthorizedIpRanges": ["203.0.113.7/24"]}),
            f"{RANGES}[0]: expected an IPv4 CIDR such as 10.40.0.0/16, found '203.0.113.7/24'",
            id="authorized-range-with-host-bits",
        ),
        pytest.param(
            stack_config(
                cluster={
                    "apiServerAuthorizedIpRanges": [
                        f"198.51.{i // 256}.{i % 256}/32" for i in range(201)
                    ]
                }
            ),
            f"{RANGES}: 201 ranges, but AKS accepts at most 200; merge them into wider ranges",
            id="more-authorized-ranges-than-aks-accepts",
        ),
    ],
)
def test_bad_cluster_settings_are_rejected_naming_the_key(
    config: dict[str, Any], problem: str
) -> None:
    message = rejected(config)
    assert message == f"invalid configuration in Pulumi.dev.yaml (1 problem):\n  - {problem}"


def test_cluster_settings_default_to_azure_policy_patch_upgrades_and_no_user_pool() -> None:
    cluster = parsed(stack_config()).cluster
    assert cluster.network_policy == "azure"
    assert (cluster.upgrade_channel, cluster.node_os_upgrade_channel) == ("patch", "NodeImage")
    assert cluster.maintenance_window is None
    assert cluster.user_pool is None
    assert cluster.api_server_authorized_ip_ranges is None
    pool_and_window = parsed(
        stack_config(cluster={"userPool": USER_POOL, "maintenanceWindow": WINDOW})
    )
    assert pool_and_window.cluster.user_pool is not None
    assert pool_and_window.cluster.user_pool.max_pods == 30
    assert pool_and_window.cluster.maintenance_window is not None
    assert pool_and_window.cluster.maintenance_window.utc_offset == "+00:00"


def test_authorized_ranges_are_accepted_up_to_the_limit_and_single_addresses_as_32s() -> None:
    ranges = [f"198.51.{i // 256}.{i % 256}" for i in range(200)]
    cluster = parsed(stack_config(cluster={"apiServerAuthorizedIpRanges": ranges})).cluster
    assert cluster.api_server_authorized_ip_ranges is not None
    assert len(cluster.api_server_authorized_ip_ranges) == 200
    assert cluster.api_server_authorized_ip_ranges[0] == ipaddress.IPv4Network("198.51.0.0/32")


def test_a_pinned_version_and_a_window_are_accepted_with_the_channels_that_keep_them() -> None:
    for version, channel in (("1.35", "patch"), ("1.35", "none"), ("1.35.2", "none")):
        settings = {"kubernetesVersion": version, "upgradeChannel": channel}
        assert parsed(stack_config(cluster=settings)).cluster.upgrade_channel == channel
    only_node_images = {"upgradeChannel": "none", "maintenanceWindow": WINDOW}
    assert parsed(stack_config(cluster=only_node_images)).cluster.maintenance_window is not None


def test_a_network_policy_the_clusters_plugin_cannot_run_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The plugin is fixed (Azure CNI), and both policies run on it; were it kubenet, Azure
    # Network Policy Manager would not.
    from secretless_aks.components.config import rules

    monkeypatch.setattr(rules, "NETWORK_PLUGIN", "kubenet")
    assert parsed(stack_config(cluster={"networkPolicy": "calico"})).cluster.network_policy
    with pytest.raises(ConfigError) as error:
        parsed(stack_config())
    assert str(error.value) == (
        "invalid configuration in Pulumi.dev.yaml (1 problem):\n"
        "  - secretless-aks:cluster.networkPolicy: azure needs network plugin azure, but this "
        "cluster uses kubenet"
    )


SECRET = {"secure": "v1:AAABAAAAAAAAAAAA"}


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        pytest.param(
            stack_config(services=[{"name": "Orders_Api"}]),
            "secretless-aks:services[0].name: expected a valid service name: 1-63 lowercase "
            "letters, digits and '-', starting with a letter and ending with a letter or digit, "
            "found 'Orders_Api'",
            id="service-name-not-dns-1123",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders"}, {"name": "orders"}]),
            "secretless-aks:services: service name 'orders' appears twice",
            id="duplicate-service",
        ),
        pytest.param(
            stack_config(
                services=[
                    {"name": "orders", "namespace": "shop", "serviceAccount": "app"},
                    {"name": "billing", "namespace": "shop", "serviceAccount": "app"},
                ]
            ),
            "secretless-aks:services: services 'orders' and 'billing' share the ServiceAccount "
            "shop/app; each needs its own",
            id="shared-service-account",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "binding": "podIdentities"}]),
            "secretless-aks:services[0].binding: expected 'workloadIdentity', 'podIdentity' or "
            "'both', found 'podIdentities'",
            id="unknown-binding",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "keyVaultRole": "reader"}]),
            "secretless-aks:services[0].keyVaultRole: expected 'secretsUser', 'secretsOfficer' "
            "or 'none', found 'reader'",
            id="unknown-key-vault-role",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "secretScope": ["Orders:DbPassword"]}]),
            "secretless-aks:services[0].secretScope[0]: secret name 'Orders:DbPassword' must be "
            "1-127 letters, digits and hyphens",
            id="secret-scope-holds-a-config-path",
        ),
        pytest.param(
            stack_config(
                services=[{"name": "orders", "keyVaultRole": "none", "secretScope": ["A--B"]}]
            ),
            "secretless-aks:services[0].secretScope: needs a keyVaultRole other than none",
            id="secret-scope-without-a-role",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "secretScope": []}]),
            "secretless-aks:services[0].secretScope: list at least one secret, or leave it out",
            id="empty-secret-scope",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "replicas": 2}]),
            "secretless-aks:services[0].replicas: needs an image: only a service with an image "
            "runs here",
            id="replicas-without-image",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "imag": "nginx"}]),
            "secretless-aks:services[0].imag: unknown key (did you mean 'image'?)",
            id="typo-in-service-key",
        ),
        pytest.param(
            stack_config(
                keyVault={
                    "existing": {"name": "kv-shared", "resourceGroup": "rg"},
                    "purgeProtection": True,
                }
            ),
            "secretless-aks:keyVault.purgeProtection: applies only to a vault this stack "
            "creates, not an existing one",
            id="creation-setting-on-existing-vault",
        ),
        pytest.param(
            stack_config(keyVault={"existing": {"name": "1kv", "resourceGroup": "rg"}}),
            "secretless-aks:keyVault.existing.name: expected a valid Key Vault name: 3-24 letters, "
            "digits and hyphens, starting with a letter, ending with a letter or digit, with no "
            "'--', found '1kv'",
            id="invalid-existing-vault-name",
        ),
        pytest.param(
            stack_config(keyVault={"softDeleteRetentionDays": 3}),
            "secretless-aks:keyVault.softDeleteRetentionDays: expected at least 7, found 3",
            id="retention-below-azure-minimum",
        ),
        pytest.param(
            stack_config(secrets={"Identity": {"Secret": "very secret!"}}),
            "secretless-aks:secrets.Identity.Secret: stored in plaintext in Pulumi.dev.yaml; "
            "encrypt it with `pulumi config set --secret --path 'secrets.Identity.Secret' <value>`",
            id="plaintext-secret",
        ),
        pytest.param(
            stack_config(
                secrets={"Identity": {"Secret": SECRET, "Other": "plain"}}, generatedSecrets=None
            ),
            "secretless-aks:secrets.Identity.Other: stored in plaintext in Pulumi.dev.yaml; "
            "encrypt it with `pulumi config set --secret --path 'secrets.Identity.Other' <value>`",
            id="one-plaintext-secret-among-encrypted-ones",
        ),
        pytest.param(
            stack_config(secrets={"Identity": {"Sec_ret": SECRET}}),
            "secretless-aks:secrets.Identity.Sec_ret: config path 'Identity:Sec_ret': segment "
            "'Sec_ret' must be letters and digits, optionally joined by single hyphens",
            id="path-that-cannot-be-a-secret-name",
        ),
        pytest.param(
            stack_config(
                secrets={"Identity": {"Secret": SECRET}, "identity:secret": SECRET},
                generatedSecrets=None,
            ),
            "secretless-aks:secrets[\"identity:secret\"]: config paths 'Identity:Secret' and "
            "'identity:secret' both map to the secret name 'identity--secret' (Key Vault names "
            "are case-insensitive)",
            id="two-paths-one-secret-name",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "image": "ghcr.io/contoso/orders"}]),
            "secretless-aks:services[0].image: has no tag, so it means :latest; pin a version "
            "tag (e.g. ghcr.io/contoso/app:1.2.3) or a digest (@sha256:...), found "
            "'ghcr.io/contoso/orders'",
            id="image-without-a-tag",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "image": "localhost:5000/orders"}]),
            "secretless-aks:services[0].image: has no tag, so it means :latest; pin a version "
            "tag (e.g. ghcr.io/contoso/app:1.2.3) or a digest (@sha256:...), found "
            "'localhost:5000/orders'",
            id="registry-port-is-not-a-tag",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "image": "ghcr.io/contoso/orders:latest"}]),
            "secretless-aks:services[0].image: ':latest' moves with every push; pin a version "
            "tag (e.g. ghcr.io/contoso/app:1.2.3) or a digest (@sha256:...), found "
            "'ghcr.io/contoso/orders:latest'",
            id="image-latest",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "allowIngressFrom": ["web"]}]),
            "secretless-aks:services[0].allowIngressFrom: needs a port: it opens the service's "
            "port",
            id="ingress-without-a-port",
        ),
        pytest.param(
            stack_config(
                services=[
                    {
                        "name": "orders",
                        "image": "ghcr.io/contoso/orders:1.0",
                        "port": 8080,
                        "allowIngressFrom": ["web", "web"],
                    }
                ]
            ),
            "secretless-aks:services[0].allowIngressFrom: each namespace must appear once",
            id="ingress-from-a-namespace-twice",
        ),
        pytest.param(
            stack_config(
                services=[
                    {
                        "name": "orders",
                        "image": "ghcr.io/contoso/orders:1.0",
                        "port": 8080,
                        "allowIngressFrom": ["Web"],
                    }
                ]
            ),
            "secretless-aks:services[0].allowIngressFrom[0]: expected a valid namespace: 1-63 "
            "lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "found 'Web'",
            id="ingress-from-an-invalid-namespace",
        ),
        *(
            pytest.param(
                stack_config(
                    services=[
                        {"name": "orders", "binding": binding, "keyVaultRole": "secretsOfficer"}
                    ]
                ),
                "secretless-aks:services[0].keyVaultRole: secretsOfficer is refused with pod "
                "identity: NMI, running as the kubelet identity, can attach this identity to any "
                "node; use binding workloadIdentity, or secretsUser",
                id=f"secrets-officer-with-{binding}",
            )
            for binding in ("podIdentity", "both")
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "secretScope": ["*", "Orders--Db"]}]),
            "secretless-aks:services[0].secretScope: '*' means every secret in the vault and "
            "stands alone",
            id="vault-wide-beside-named-secrets",
        ),
        *(
            pytest.param(
                stack_config(services=[{"name": "legacy", "binding": binding, **scope}]),
                f"secretless-aks:services[0].secretScope: binding {binding} must name the "
                "secrets it reads: a pod identity can be assigned to any node (the node-wide "
                "path), so a vault-wide role would reach every secret from there",
                id=f"vault-wide-with-{binding}-{'explicit' if scope else 'implicit'}",
            )
            for binding in ("podIdentity", "both")
            for scope in ({}, {"secretScope": ["*"]})
        ),
        pytest.param(
            stack_config(
                services=[{"name": "orders", "allowIngressFrom": [f"n{i}" for i in range(101)]}]
            ),
            "secretless-aks:services[0].allowIngressFrom: at most 100 entries, found 101",
            id="too-many-ingress-namespaces",
        ),
        pytest.param(
            stack_config(services=[{"name": f"s{i}"} for i in range(1001)]),
            "secretless-aks:services: at most 1000 entries, found 1001",
            id="too-many-services",
        ),
        pytest.param(
            stack_config(keyVault={"allowedIpRanges": ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"]}),
            "secretless-aks:keyVault.allowedIpRanges: together these ranges admit every IPv4 "
            "address, which opens the firewall they close; list the addresses that need the vault",
            id="vault-firewall-open-to-everything",
        ),
        pytest.param(
            stack_config(
                cluster={
                    "maintenanceWindow": {
                        "dayOfWeek": "Sunday",
                        "startHour": 1,
                        "durationHours": 4,
                        "utcOffset": "+0\u0665:00",
                    }
                }
            ),
            "secretless-aks:cluster.maintenanceWindow.utcOffset: expected a UTC offset such as "
            "+00:00 or -05:30, found '+0\u0665:00'",
            id="offset-with-non-ascii-digits",
        ),
    ],
)
def test_bad_service_vault_and_secret_config_is_rejected(
    config: dict[str, Any], problem: str
) -> None:
    message = rejected(config)
    assert message.startswith("invalid configuration in Pulumi.dev.yaml (1 problem):\n")
    assert f"\n  - {problem}" in message


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/contoso/orders:1.4.2",
        "localhost:5000/orders:1.0",
        "ghcr.io/contoso/orders@sha256:" + "0" * 64,
        "ghcr.io/contoso/orders:1.4.2@sha256:" + "a" * 64,
    ],
)
def test_pinned_images_are_accepted(image: str) -> None:
    config = parsed(
        stack_config(
            allowedRegistries=["ghcr.io", "localhost:5000"],
            services=[{"name": "orders", "image": image}],
        )
    )
    assert config.services[0].image == image


# --- where images come from, and how protected stacks pin them ------------------------------

DIGEST = "@sha256:" + "0" * 64
NO_REGISTRY = {"registry": {}, "allowedRegistries": None}


@pytest.mark.parametrize(
    ("allowed", "problem"),
    [
        pytest.param(
            ["https://ghcr.io"],
            "secretless-aks:allowedRegistries[0]: expected a registry's login server, a "
            "lowercase hostname such as ghcr.io or contoso.azurecr.io (no scheme, path or "
            "wildcard), found 'https://ghcr.io'",
            id="scheme",
        ),
        pytest.param(
            ["ghcr.io/contoso"],
            "secretless-aks:allowedRegistries[0]: expected a registry's login server",
            id="path",
        ),
        pytest.param(
            ["*.azurecr.io"],
            "secretless-aks:allowedRegistries[0]: expected a registry's login server",
            id="wildcard",
        ),
        pytest.param(
            ["ghcr.io", "GHCR.io"],
            "secretless-aks:allowedRegistries[1]: expected a registry's login server",
            id="uppercase",
        ),
        pytest.param(
            ["ghcr.io", "ghcr.io"],
            "secretless-aks:allowedRegistries: each registry must appear once",
            id="twice",
        ),
        pytest.param(
            [f"r{i}.example.com" for i in range(101)],
            "secretless-aks:allowedRegistries: at most 100 entries, found 101",
            id="too-many",
        ),
    ],
)
def test_allowed_registries_are_login_servers_listed_once(allowed: list[str], problem: str) -> None:
    assert f"\n  - {problem}" in rejected(stack_config(allowedRegistries=allowed))


@pytest.mark.parametrize(
    ("changes", "image"),
    [
        pytest.param({}, "registry/orders" + DIGEST, id="platform-registry"),
        pytest.param({}, "ghcr.io/contoso/orders:1.0", id="allowed"),
        pytest.param(
            {"allowedRegistries": ["localhost:5000"]}, "localhost:5000/orders:1.0", id="port"
        ),
        pytest.param({"allowedRegistries": ["docker.io"]}, "nginx:1.27", id="docker-hub"),
        pytest.param(NO_REGISTRY, "quay.io/contoso/orders:1.0", id="no-registry-named"),
    ],
)
def test_images_from_the_platform_registry_or_an_allowed_one_are_accepted(
    changes: dict[str, Any], image: str
) -> None:
    config = parsed(stack_config(services=[{"name": "orders", "image": image}], **changes))
    assert config.services[0].image == image


@pytest.mark.parametrize(
    ("changes", "image", "host"),
    [
        pytest.param({}, "quay.io/contoso/orders:1.0", "quay.io", id="other-registry"),
        pytest.param({}, "nginx:1.27", "docker.io", id="docker-hub"),
        pytest.param({}, "contoso/orders:1.0", "docker.io", id="docker-hub-namespace"),
        pytest.param(
            {"allowedRegistries": None}, "ghcr.io/contoso/orders:1.0", "ghcr.io", id="registry-only"
        ),
        pytest.param(
            {"registry": {}},
            "registry-x.azurecr.io/orders:1.0",
            "registry-x.azurecr.io",
            id="list-only",
        ),
    ],
)
def test_an_image_from_a_registry_the_stack_does_not_name_is_refused(
    changes: dict[str, Any], image: str, host: str
) -> None:
    services = [{"name": "web"}, {"name": "orders", "image": image}]
    assert (
        f"\n  - secretless-aks:services[1].image: comes from {host}: images come from the "
        "platform's registry (secretless-aks:registry) or one listed in "
        f"secretless-aks:allowedRegistries; push it there, or add {host} to allowedRegistries"
    ) in rejected(stack_config(services=services, **changes))


def test_a_protected_stack_refuses_an_image_without_a_digest() -> None:
    services = [
        {"name": "web", "image": "registry/web" + DIGEST},
        {"name": "orders", "image": "ghcr.io/contoso/orders:1.0"},
    ]
    message = rejected(stack_config("prod", services=services), stack="prod")
    assert message == (
        "invalid configuration in Pulumi.prod.yaml (1 problem):\n"
        "  - secretless-aks:services[1].image: must be pinned by digest (@sha256: and 64 hex "
        "digits) on a protected stack (protect: true): a tag can be moved to other bytes; a "
        "digest keeps every node on the reviewed ones"
    )
    pinned = [{**service, "image": "ghcr.io/contoso/orders" + DIGEST} for service in services[1:]]
    assert parsed(stack_config("prod", services=pinned), stack="prod").services[0].image


def test_secret_errors_never_show_the_value() -> None:
    message = rejected(stack_config(secrets={"Db": {"Password": "hunter2-plaintext"}}))
    assert "hunter2" not in message


def test_secrets_from_outside_the_stack_file_must_be_marked_secret() -> None:
    # Values from a Pulumi ESC environment are not in the stack file; Pulumi's own secret
    # marking is then what says they were encrypted.
    values, _ = config_values(
        with_ci_stand_ins(PROJECT_FILE, stack_config(secrets={"Db": {"Password": "x"}}))
    )
    with pytest.raises(ConfigError, match=r"secrets\.Db\.Password: stored in plaintext"):
        parse_stack_config("dev", values, source="Pulumi.dev.yaml", stack_file=None)
    parsed_config = parse_stack_config(
        "dev",
        values,
        source="Pulumi.dev.yaml",
        secret_keys=frozenset({"secretless-aks:secrets"}),
        stack_file=None,
    )
    (secret,) = parsed_config.secrets
    assert (secret.path, secret.name, repr(secret.value)) == (
        "Db:Password",
        "Db--Password",
        "SecretText([secret])",
    )


def test_service_defaults_follow_the_name() -> None:
    (service,) = parsed(stack_config(services=[{"name": "orders"}])).services
    assert (service.namespace, service.service_account) == ("orders", "orders")
    assert (service.binding, service.key_vault_role) == ("workloadIdentity", "secretsUser")
    assert service.secret_scope is None


def test_purge_protection_follows_protect_unless_set() -> None:
    assert parsed(stack_config()).purge_protection is False
    assert parsed(stack_config("prod")).purge_protection is True
    assert parsed(stack_config(keyVault={"purgeProtection": True})).purge_protection is True


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        *(
            pytest.param(
                stack_config(services=[{"name": "orders", "namespace": namespace}]),
                f"secretless-aks:services[0].namespace: belongs to {owner}; choose a namespace "
                f"of your own, found {namespace!r}",
                id=f"reserved-namespace-{namespace}",
            )
            for namespace, owner in (
                ("kube-system", "Kubernetes"),
                ("kube-public", "Kubernetes"),
                ("kube-node-lease", "Kubernetes"),
                ("default", "Kubernetes"),
                ("kube-flannel", "Kubernetes (kube- names)"),
                ("gatekeeper-system", "Azure Policy for AKS (Gatekeeper)"),
                ("tigera-operator", "Calico's operator"),
                ("calico-system", "Calico"),
                ("aks-command", "AKS (az aks command invoke)"),
                ("app-routing-system", "AKS's application routing add-on"),
            )
        ),
        pytest.param(
            stack_config(
                services=[
                    {
                        "name": "orders",
                        "additionalServiceAccounts": [
                            {"namespace": "kube-system", "serviceAccount": "jobs"}
                        ],
                    }
                ]
            ),
            "secretless-aks:services[0].additionalServiceAccounts[0].namespace: belongs to "
            "Kubernetes; choose a namespace of your own, found 'kube-system'",
            id="reserved-namespace-in-additional-account",
        ),
        pytest.param(
            stack_config(services=[{"name": "orders", "serviceAccount": "default"}]),
            "secretless-aks:services[0].serviceAccount: every pod in the namespace without a "
            "ServiceAccount of its own runs as 'default'; give the service a ServiceAccount of "
            "its own, found 'default'",
            id="default-service-account",
        ),
        pytest.param(
            stack_config(services=[{"name": "1orders"}]),
            "secretless-aks:services[0].name: expected a valid service name: 1-63 lowercase "
            "letters, digits and '-', starting with a letter and ending with a letter or digit, "
            "found '1orders'",
            id="service-name-not-an-rfc-1035-label",
        ),
        pytest.param(
            stack_config(
                services=[
                    {
                        "name": "orders",
                        "additionalServiceAccounts": [
                            {"namespace": "billing", "serviceAccount": "billing"}
                        ],
                    },
                    {"name": "billing"},
                ]
            ),
            "secretless-aks:services[0].additionalServiceAccounts[0]: billing/billing already "
            "belongs to service 'billing'; one ServiceAccount can be federated to one identity "
            "only",
            id="additional-account-is-another-services-own",
        ),
        pytest.param(
            stack_config(
                services=[
                    {
                        "name": name,
                        "additionalServiceAccounts": [
                            {"namespace": "jobs", "serviceAccount": "migrator"}
                        ],
                    }
                    for name in ("orders", "billing")
                ]
            ),
            "secretless-aks:services[1].additionalServiceAccounts[0]: jobs/migrator already "
            "belongs to service 'orders'; one ServiceAccount can be federated to one identity "
            "only",
            id="additional-account-on-two-services",
        ),
        pytest.param(
            stack_config(location="west-europe"),
            "azure-native:location: expected a valid Azure region: 2-64 lowercase letters and "
            "digits, such as westeurope (not a display name), found 'west-europe'",
            id="region-with-a-hyphen",
        ),
        pytest.param(
            stack_config(secrets={"Identity": {}}),
            "secretless-aks:secrets.Identity: an empty object seeds no secret; remove it or set "
            "a value",
            id="empty-secret-object",
        ),
        pytest.param(
            stack_config(secrets={}),
            "secretless-aks:secrets: an empty object seeds no secret; remove the key",
            id="empty-secrets",
        ),
        pytest.param(
            stack_config(
                secrets={"Identity": {"Secret": SECRET}},
                generatedSecrets=None,
                keyVault={"publicNetworkAccess": "Disabled"},
            ),
            "secretless-aks:keyVault.publicNetworkAccess: Disabled cannot go with seeded secrets "
            "(secretless-aks:secrets or generatedSecrets): Pulumi deletes a secret through the "
            "vault's data plane, "
            "which then refuses the deployer. Seed the secrets another way, or keep access "
            "Enabled and close it with allowedIpRanges (listing the deployer's egress)",
            id="seeded-secrets-behind-a-closed-vault",
        ),
        pytest.param(
            stack_config(
                secrets={"Identity": {"Secret": SECRET}},
                generatedSecrets=None,
                keyVault={
                    "existing": {
                        "name": "kv-shared",
                        "resourceGroup": "rg-shared",
                        "subscriptionId": "7d2c4a9e-5b1f-4e8a-9c3d-6f0e1a2b3c4d",
                    }
                },
            ),
            "secretless-aks:keyVault.existing.subscriptionId: cannot go with seeded secrets "
            "(secretless-aks:secrets or generatedSecrets), which are written in this deployment's "
            "subscription: seed "
            "them from a stack in the vault's subscription, or leave subscriptionId out when the "
            "vault is in this one",
            id="seeded-secrets-into-a-vault-in-another-subscription",
        ),
        pytest.param(
            stack_config(
                generatedSecrets=[{"path": "Identity:Secret", "length": 32}],
                keyVault={"publicNetworkAccess": "Disabled"},
            ),
            "secretless-aks:keyVault.publicNetworkAccess: Disabled cannot go with seeded secrets "
            "(secretless-aks:secrets or generatedSecrets): Pulumi deletes a secret through the "
            "vault's data plane, which then refuses the deployer. Seed the secrets another way, "
            "or keep access Enabled and close it with allowedIpRanges (listing the deployer's "
            "egress)",
            id="generated-secrets-behind-a-closed-vault",
        ),
        pytest.param(
            stack_config(generatedSecrets=[{"path": "Identity:Secret", "length": 15}]),
            "secretless-aks:generatedSecrets[0].length: expected at least 16, found 15",
            id="generated-secret-too-short",
        ),
        pytest.param(
            stack_config(generatedSecrets=[{"path": "Identity:Secret"}]),
            "secretless-aks:generatedSecrets[0].length: required key is missing",
            id="generated-secret-without-length",
        ),
        pytest.param(
            stack_config(generatedSecrets=[{"path": "Identity::Secret", "length": 32}]),
            "secretless-aks:generatedSecrets[0].path: config path 'Identity::Secret' has an "
            "empty segment, found 'Identity::Secret'",
            id="generated-secret-path-with-an-empty-segment",
        ),
        pytest.param(
            stack_config(
                secrets={"Identity": {"Secret": SECRET}},
                generatedSecrets=[{"path": "identity:secret", "length": 32}],
            ),
            "secretless-aks:generatedSecrets[0].path: 'identity:secret' maps to the secret name "
            "'identity--secret', as secrets path 'Identity:Secret' does (Key Vault names are "
            "case-insensitive); keep one of them",
            id="generated-secret-twin-of-a-config-secret",
        ),
        pytest.param(
            stack_config(
                generatedSecrets=[
                    {"path": "Api:Key", "length": 32},
                    {"path": "API:KEY", "length": 64},
                ]
            ),
            "secretless-aks:generatedSecrets[1].path: 'API:KEY' maps to the secret name "
            "'API--KEY', as generatedSecrets path 'Api:Key' does (Key Vault names are "
            "case-insensitive); keep one of them",
            id="generated-secrets-twins",
        ),
    ],
)
def test_names_kubernetes_and_azure_reserve_and_unusable_combinations_are_rejected(
    config: dict[str, Any], problem: str
) -> None:
    message = rejected(config)
    assert message == f"invalid configuration in Pulumi.dev.yaml (1 problem):\n  - {problem}"


PAYMENTS_GROUP = "2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40"
SEARCH_GROUP = "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51"


def team(**changes: Any) -> dict[str, Any]:
    """An appTeams entry; None removes a key."""
    entry = {"name": "payments", "groupObjectId": PAYMENTS_GROUP, "namespaces": ["payments"]}
    return {key: value for key, value in {**entry, **changes}.items() if value is not None}


SEARCH = team(name="search", groupObjectId=SEARCH_GROUP, namespaces=["search"])
ONE_OWNER = (
    "one namespace, one owner, since AKS RBAC Writer there lets a team run pods as any "
    "ServiceAccount in it"
)


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        pytest.param(
            stack_config(appTeams=[team(name="Payments_1")]),
            "secretless-aks:appTeams[0].name: expected a valid team name: 1-63 lowercase "
            "letters, digits and '-', starting with a letter and ending with a letter or digit, "
            "found 'Payments_1'",
            id="team-name-not-a-dns-label",
        ),
        pytest.param(
            stack_config(appTeams=[team(groupObjectId="payments-team")]),
            "secretless-aks:appTeams[0].groupObjectId: expected an Entra object id (a GUID), "
            "found 'payments-team'",
            id="group-not-a-guid",
        ),
        pytest.param(
            stack_config(appTeams=[team(groupObjectId=None)]),
            "secretless-aks:appTeams[0].groupObjectId: required key is missing",
            id="group-missing",
        ),
        pytest.param(
            stack_config(appTeams=[team(platformVaultSecret=["Payments--ApiKey"])]),
            "secretless-aks:appTeams[0].platformVaultSecret: unknown key (did you mean "
            "'platformVaultSecrets'?)",
            id="typo-in-team-key",
        ),
        pytest.param(
            stack_config(appTeams=[team(namespaces=["payments", "Payments_Jobs"])]),
            "secretless-aks:appTeams[0].namespaces[1]: expected a valid namespace: 1-63 "
            "lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "found 'Payments_Jobs'",
            id="invalid-team-namespace",
        ),
        *(
            pytest.param(
                stack_config(appTeams=[team(namespaces=[namespace])]),
                f"secretless-aks:appTeams[0].namespaces[0]: belongs to {owner}; choose a "
                f"namespace of your own, found {namespace!r}",
                id=f"reserved-team-namespace-{namespace}",
            )
            for namespace, owner in (
                ("kube-system", "Kubernetes"),
                ("default", "Kubernetes"),
                ("gatekeeper-system", "Azure Policy for AKS (Gatekeeper)"),
                ("app-routing-system", "AKS's application routing add-on"),
            )
        ),
        pytest.param(
            stack_config(
                appTeams=[
                    team(name="p", namespaces=["q-namespace-r"]),
                    team(name="p-namespace-q", groupObjectId=SEARCH_GROUP, namespaces=["r"]),
                ]
            ),
            "secretless-aks:appTeams: teams 'p' and 'p-namespace-q' would both name a resource "
            "team-p-namespace-q-namespace-r: team and namespace names join with '-'; rename one",
            id="team-and-namespace-names-meet",
        ),
        pytest.param(
            stack_config(appTeams=[team(namespaces=[f"ns-{i}" for i in range(101)])]),
            "secretless-aks:appTeams[0].namespaces: at most 100 entries, found 101",
            id="too-many-team-namespaces",
        ),
        pytest.param(
            stack_config(appTeams=[team(namespaces=[])]),
            "secretless-aks:appTeams[0].namespaces: list at least one namespace: the team's "
            "group may write in these only",
            id="no-team-namespace",
        ),
        pytest.param(
            stack_config(appTeams=[team(namespaces=["payments", "payments"])]),
            "secretless-aks:appTeams[0].namespaces: each namespace must appear once",
            id="team-namespace-twice",
        ),
        pytest.param(
            stack_config(appTeams=[team(), {**SEARCH, "namespaces": ["search", "payments"]}]),
            f"secretless-aks:appTeams[1].namespaces[1]: payments belongs to team 'payments' "
            f"already: {ONE_OWNER}",
            id="namespace-of-two-teams",
        ),
        pytest.param(
            stack_config(appTeams=[team(namespaces=["payments", "my-great-service"])]),
            "secretless-aks:appTeams[0].namespaces[1]: my-great-service belongs to service "
            f"'my-great-service' already: {ONE_OWNER}",
            id="namespace-of-a-service",
        ),
        pytest.param(
            stack_config(
                services=[
                    {
                        "name": "orders",
                        "additionalServiceAccounts": [
                            {"namespace": "jobs", "serviceAccount": "orders-migrator"}
                        ],
                    }
                ],
                appTeams=[team(namespaces=["jobs"])],
            ),
            "secretless-aks:appTeams[0].namespaces[0]: jobs belongs to service 'orders' (its "
            f"ServiceAccount orders-migrator) already: {ONE_OWNER}",
            id="namespace-federated-by-a-service",
        ),
        pytest.param(
            stack_config(appTeams=[team(), {**SEARCH, "name": "payments"}]),
            "secretless-aks:appTeams: team name 'payments' appears twice",
            id="duplicate-team",
        ),
        pytest.param(
            stack_config(appTeams=[team(), {**SEARCH, "groupObjectId": PAYMENTS_GROUP.upper()}]),
            f"secretless-aks:appTeams[1].groupObjectId: {PAYMENTS_GROUP} is the group of team "
            "'payments' already; give each team its own",
            id="group-of-two-teams",
        ),
        pytest.param(
            stack_config(appTeams=[team(platformVaultSecrets=["Payments:ApiKey"])]),
            "secretless-aks:appTeams[0].platformVaultSecrets[0]: secret name 'Payments:ApiKey' "
            "must be 1-127 letters, digits and hyphens, found 'Payments:ApiKey'",
            id="platform-vault-secret-holds-a-config-path",
        ),
        pytest.param(
            stack_config(appTeams=[team(platformVaultSecrets=[])]),
            "secretless-aks:appTeams[0].platformVaultSecrets: list at least one secret, or "
            "leave it out",
            id="no-platform-vault-secret",
        ),
        pytest.param(
            stack_config(
                appTeams=[team(platformVaultSecrets=["Payments--ApiKey", "payments--apikey"])]
            ),
            "secretless-aks:appTeams[0].platformVaultSecrets: each secret must appear once "
            "(names are case-insensitive)",
            id="platform-vault-secret-twice",
        ),
        pytest.param(
            stack_config(appTeams={"payments": ["payments"]}),
            'secretless-aks:appTeams: expected a list, found {"payments": ["payments"]}',
            id="teams-not-a-list",
        ),
    ],
)
def test_bad_app_teams_are_rejected_naming_the_key(config: dict[str, Any], problem: str) -> None:
    assert rejected(config) == (
        f"invalid configuration in Pulumi.dev.yaml (1 problem):\n  - {problem}"
    )


def test_app_teams_are_parsed_and_default_to_none() -> None:
    assert parsed(stack_config()).app_teams == ()
    (payments, search) = parsed(
        stack_config(appTeams=[team(platformVaultSecrets=["Payments--ApiKey"]), SEARCH])
    ).app_teams
    assert payments.group_object_id == uuid.UUID(PAYMENTS_GROUP)
    assert payments.namespaces == ("payments",)
    assert payments.platform_vault_secrets == ("Payments--ApiKey",)
    assert search.platform_vault_secrets is None


def test_platform_vault_secrets_are_accepted_on_an_existing_vault() -> None:
    # Per-secret roles on an existing vault work as services' secretScope does: the vault must
    # use Azure RBAC, which the KeyVault component checks when it reads it.
    config = stack_config(
        keyVault={"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}},
        appTeams=[team(platformVaultSecrets=["Payments--ApiKey"])],
    )
    assert parsed(config).app_teams[0].platform_vault_secrets == ("Payments--ApiKey",)


def test_mistakes_in_several_teams_are_reported_together() -> None:
    config = stack_config(
        appTeams=[
            team(namespaces=["payments", "Jobs"]),
            {**SEARCH, "groupObjectId": "x", "platformVaultSecrets": []},
        ]
    )
    assert rejected(config).splitlines()[1:] == [
        "  - secretless-aks:appTeams[0].namespaces[1]: expected a valid namespace: 1-63 "
        "lowercase letters, digits and '-', starting and ending with a letter or digit, "
        "found 'Jobs'",
        "  - secretless-aks:appTeams[1].groupObjectId: expected an Entra object id (a GUID), "
        "found 'x'",
        "  - secretless-aks:appTeams[1].platformVaultSecrets: list at least one secret, or "
        "leave it out",
    ]


def test_encrypted_values_are_refused_outside_secrets_and_never_shown() -> None:
    plaintext = "Standard D4s hunter2"  # an invalid VM size, stored encrypted by mistake
    config = stack_config(cluster={"nodeVmSize": {"secure": "v1:vm-size"}})
    with pytest.raises(ProgramFailedError) as failure:
        run_program("dev", config=config, decrypt=lambda _: plaintext)
    assert failure.value.graph.resources == []
    message = str(failure.value.error)
    assert message == (
        "invalid configuration in Pulumi.dev.yaml (2 problems):\n"
        "  - secretless-aks:cluster: holds an encrypted value, but only secretless-aks:secrets "
        "is kept secret by this program; anything else would reach state and logs in clear. "
        "Store it in plaintext, or seed it into Key Vault under secrets\n"
        "  - secretless-aks:cluster.nodeVmSize: expected an Azure VM size such as "
        "Standard_D4s_v5"
    )
    assert "hunter2" not in message and "v1:vm-size" not in message


def test_invalid_values_under_a_secret_key_are_reported_by_key_path_only() -> None:
    config = stack_config(cluster={"nodeCount": 0, "tier": "hunter2-tier"})
    values, _ = config_values(with_ci_stand_ins(PROJECT_FILE, config))
    with pytest.raises(ConfigError) as error:
        parse_stack_config(
            "dev",
            values,
            source="Pulumi.dev.yaml",
            secret_keys=frozenset({"secretless-aks:cluster"}),
        )
    message = str(error.value)
    assert message.splitlines()[2:] == [
        "  - secretless-aks:cluster.nodeCount: expected at least 1",
        "  - secretless-aks:cluster.tier: expected 'Free' or 'Standard'",
    ]
    assert "hunter2" not in message and "found" not in message


def test_mistakes_in_every_area_are_reported_in_one_round() -> None:
    # Each rule across keys runs when its own inputs are valid, whatever else is wrong: before,
    # four runs were needed to see all of these.
    config = stack_config(
        protect="yes",
        cluster={"tier": "Gold", "nodeCount": 10},
        network={"nodeSubnetPrefix": "10.40.0.0/24", "dnsServiceIp": "172.16.0.1"},
        keyVault={"publicNetworkAccess": "Disabled", "allowedIpRanges": ["203.0.113.0/24"]},
        services=[
            {"name": "orders", "replicas": 2},
            {"name": "orders", "binding": "pod"},
            {"name": "billing", "secretScope": []},
        ],
        generatedSecrets=None,
    )
    assert rejected(config) == (
        "invalid configuration in Pulumi.dev.yaml (9 problems):\n"
        "  - secretless-aks:cluster.tier: expected 'Free' or 'Standard', found 'Gold'\n"
        "  - secretless-aks:keyVault.allowedIpRanges: has no effect with publicNetworkAccess "
        "Disabled; remove one\n"
        "  - secretless-aks:network.dnsServiceIp: 172.16.0.1 must be an address inside "
        "serviceCidr 172.16.0.0/16 other than its first two and its last\n"
        "  - secretless-aks:network.nodeSubnetPrefix: 10.40.0.0/24 has 251 usable addresses, "
        "but 10 nodes (+1 during upgrades) with maxPods 30 need 341; use a /23 or larger\n"
        "  - secretless-aks:protect: expected true or false (unquoted), found 'yes'\n"
        "  - secretless-aks:services: service name 'orders' appears twice\n"
        "  - secretless-aks:services[0].replicas: needs an image: only a service with an image "
        "runs here\n"
        "  - secretless-aks:services[1].binding: expected 'workloadIdentity', 'podIdentity' or "
        "'both', found 'pod'\n"
        "  - secretless-aks:services[2].secretScope: list at least one secret, or leave it out"
    )


def test_the_program_refuses_a_stack_file_it_cannot_read_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under the CLI the program reads its stack file to tell encrypted values from plaintext.
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  secretless-aks:protect: [true\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "dev")
    with pytest.raises(ConfigError) as error:
        load_stack_config()
    message = str(error.value)
    # libyaml's words ("did not find expected ',' or ']'"), or PyYAML's own where it was built
    # without libyaml ("expected ',' or ']', but got '<stream end>'").
    assert message.startswith("Pulumi.dev.yaml (line 3) is not a valid stack file: ")
    assert "expected ',' or ']'" in message


class TeamConfig(ConfigModel):
    """Another project's config (an application's), built from the same parts."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    stack: StackName
    app: ServiceConfig
    secrets: tuple[ConfigSecret, ...] = ()


def _not_named_x(config: TeamConfig) -> None:
    if config.app.name == "x":
        raise KeyRuleError("app.name", "is x")


def test_another_project_gets_the_same_validation_in_its_own_namespace() -> None:
    values = {
        "team:app": json.dumps({"name": "x", "imgae": "ghcr.io/contoso/x:1"}),
        "team:extra": "1",
        "team:secrets": json.dumps({"Db": {"Password": "s3cret"}}),
        # The provider's region, which this project does not configure: left to the provider.
        "azure-native:location": "westeurope",
    }
    secret = frozenset({"team:secrets"})
    with pytest.raises(ConfigError) as error:
        parse_config(
            TeamConfig,
            "dev",
            values,
            project="team",
            source="Pulumi.dev.yaml",
            secret_keys=secret,
            extra_rules={TeamConfig: (_not_named_x,)},
        )
    assert str(error.value) == (
        "invalid configuration in Pulumi.dev.yaml (3 problems):\n"
        "  - team:app.imgae: unknown key (did you mean 'image'?)\n"
        "  - team:app.name: is x\n"
        "  - team:extra: unknown key; known keys: app, secrets"
    )
    values = {"team:app": json.dumps({"name": "y"}), "team:secrets": values["team:secrets"]}
    config = parse_config(
        TeamConfig, "dev", values, project="team", source="Pulumi.dev.yaml", secret_keys=secret
    )
    assert [(s.path, s.name) for s in config.secrets] == [("Db:Password", "Db--Password")]
    assert "s3cret" not in repr(config)


def test_vault_wide_said_explicitly_grants_on_the_vault_and_is_not_warned_of() -> None:
    explicit = stack_config(services=[{"name": "orders", "secretScope": ["*"]}])
    (service,) = parsed(explicit).services
    assert service.vault_wide and service.named_secrets == ()
    graph = run_program("dev", config=explicit)
    vault = graph.named("keyvault-vault").outputs["id"]
    (grant,) = [
        a
        for a in graph.by_type("azure-native:authorization:RoleAssignment")
        if a.name.startswith("svc-orders-")
    ]
    assert grant.inputs["scope"] == vault
    assert not [w for w in plan_warnings(explicit) if "secretScope" in w]
    implicit = stack_config(services=[{"name": "orders"}])
    assert [w for w in plan_warnings(implicit) if "secretScope" in w] == [
        "secretless-aks:services[0] (orders) sets no secretScope, so its identity reads every "
        'secret in the vault; name the secrets it reads, or write secretScope: ["*"] to say '
        "vault-wide on purpose"
    ]
