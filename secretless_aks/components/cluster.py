"""The AKS cluster with its own control-plane and kubelet identities, and the roles they need;
its user node pool and its maintenance windows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, containerservice, managedidentity

from secretless_aks.components import azure_limits, roles
from secretless_aks.components.config import (
    NETWORK_PLUGIN,
    NODE_POOL_MAX_SURGE,
    ClusterConfig,
    MaintenanceWindow,
    NetworkConfig,
    UserPoolConfig,
)
from secretless_aks.components.naming import EnvironmentNames
from secretless_aks.components.outputs import required
from secretless_aks.components.propagation_wait import (
    CONTROL_PLANE_GRANT_WAIT_SECONDS,
    PropagationWait,
)

SYSTEM_POOL_NAME = "system"
USER_POOL_NAME_PREFIX = "user"
# Learn, "Manage system node pools in AKS" (https://learn.microsoft.com/azure/aks/use-system-pools):
# a system pool with this taint runs only AKS's critical add-ons, which tolerate it.
CRITICAL_ADDONS_ONLY_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# The maintenance window recurs every week.
MAINTENANCE_INTERVAL_WEEKS = 1


def user_pool_name(pool: UserPoolConfig) -> str:
    """`user` and six hex digits of the settings an existing pool cannot change.

    A new VM size (azure-native replaces the pool: forceNewMap, provider/pkg/gen/replacement.go),
    zones or maxPods (azurerm rotates the pool for each: kubernetes_cluster_node_pool,
    temporary_name_for_rotation) needs a new pool. The name is in the resource's Pulumi name
    too, so the engine sees a new pool and an old one, not a replacement: it creates the new
    pool first and deletes the old one at the end of the update, and workloads always have
    nodes to go to. (azure-native replaces delete-first: DeleteBeforeReplace, diff.go.)
    10 characters: within AKS's 12.
    """
    zones = ",".join(pool.availability_zones or ())
    settings = f"{pool.node_vm_size.lower()}|{zones}|{pool.max_pods}"
    return f"{USER_POOL_NAME_PREFIX}{hashlib.sha256(settings.encode()).hexdigest()[:6]}"


@dataclass(frozen=True)
class ClusterArgs:
    settings: ClusterConfig
    network: NetworkConfig
    names: EnvironmentNames
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    # The deployment's, where the cluster's identities live.
    subscription_id: pulumi.Input[str]
    node_subnet_id: pulumi.Input[str]
    # The node subnet's, which an existing subnet may have of its own (Network provides it).
    node_subnet_subscription_id: pulumi.Input[str]
    # Keep `pulumi destroy` and accidental replacements away from the cluster and its
    # identities (prod): a new kubelet identity means new client ids everywhere downstream.
    protect: bool = False


# The cluster's own pool list: the system pool, inline (AKS takes inline pools only at
# creation), then each pool declared as an AgentPool resource, which AKS lists there too.
SEPARATE_POOLS_FROM = 1


def changed_by_aks(settings: ClusterConfig) -> Iterator[str]:
    """The ManagedCluster inputs AKS changes after creation, which a refresh reads back and the
    next deploy must leave alone (ignoreChanges). Never what config sets: the system pool's
    count and size, and a version pinned under the `patch` or `none` channel, are not here."""
    if settings.upgrade_channel != "none":
        # Auto-upgrade moves every pool's version; config never sets the system pool's.
        yield "agentPoolProfiles[*].orchestratorVersion"
    if settings.upgrade_channel in ("stable", "rapid"):
        # These channels move the minor version: the cluster's version is AKS's from then on.
        yield "kubernetesVersion"
    if settings.user_pool is not None:
        # The user pool is an AgentPool of its own; the cluster's list shows it after a
        # refresh, and a deploy that sent the list without it would try to remove it.
        yield f"agentPoolProfiles[{SEPARATE_POOLS_FROM}]"


class Cluster(pulumi.ComponentResource):
    """An AKS cluster that trusts Entra ID and its OIDC issuer, and holds no static credential.

    The control-plane identity is user-assigned (not system-assigned) so its roles can be
    granted *before* the cluster exists; AKS refuses a custom kubelet identity otherwise.
    """

    control_plane_identity: managedidentity.UserAssignedIdentity
    kubelet_identity: managedidentity.UserAssignedIdentity
    managed_cluster: containerservice.ManagedCluster
    user_pool: containerservice.AgentPool | None
    maintenance_configurations: list[containerservice.MaintenanceConfiguration]
    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    node_resource_group: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=args.protect)

        self.control_plane_identity = self._identity(name, "controlplane", args, child)
        self.kubelet_identity = self._identity(name, "kubelet", args, child)
        control_plane_roles = self._grant_control_plane_roles(name, args)
        # AKS checks these rights while it creates the cluster, and does not retry a check
        # that a just-written assignment fails: the cluster waits for them to propagate.
        self.control_plane_grants_applied = PropagationWait(
            f"{name}-controlplane-grants-propagation",
            seconds=CONTROL_PLANE_GRANT_WAIT_SECONDS,
            triggers={key: grant.id for key, grant in control_plane_roles.items()},
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.managed_cluster = self._managed_cluster(
            name,
            args,
            # Data links cannot express this order: AKS checks the control-plane identity's
            # rights on the kubelet identity and subnet while it creates the cluster.
            pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.control_plane_grants_applied])
            ),
        )

        # AKS takes pools inline in the cluster only when it creates it ("Adding agent pools to
        # an existing cluster is not allowed through managed cluster operations",
        # pulumi/pulumi-azure-native#579): the user pool is a resource of its own, so that it
        # can be added to a running cluster, changed and rotated.
        self.user_pool = (
            self._user_pool(name, args, args.settings.user_pool)
            if args.settings.user_pool is not None
            else None
        )
        self.maintenance_configurations = (
            self._maintenance_windows(name, args, args.settings.maintenance_window)
            if args.settings.maintenance_window is not None
            else []
        )

        self.cluster_name = self.managed_cluster.name
        self.cluster_id = self.managed_cluster.id
        # Federated credentials must use the issuer exactly as Azure returns it (trailing
        # slash included), so it is taken from the cluster, never composed.
        self.oidc_issuer_url = self.managed_cluster.oidc_issuer_profile.apply(
            lambda profile: required(
                profile.issuer_url if profile else None,
                "oidcIssuerProfile.issuerURL for the cluster",
            )
        )
        self.node_resource_group = self.managed_cluster.node_resource_group.apply(
            lambda group: required(group, "nodeResourceGroup for the cluster")
        )
        self.register_outputs(
            {
                "control_plane_identity_id": self.control_plane_identity.id,
                "kubelet_identity_id": self.kubelet_identity.id,
                "cluster_name": self.cluster_name,
                "cluster_id": self.cluster_id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "node_resource_group": self.node_resource_group,
                "user_pool_id": self.user_pool.id if self.user_pool is not None else None,
                "maintenance_configuration_ids": [
                    configuration.id for configuration in self.maintenance_configurations
                ],
            }
        )

    def _identity(
        self, name: str, role: str, args: ClusterArgs, opts: pulumi.ResourceOptions
    ) -> managedidentity.UserAssignedIdentity:
        return managedidentity.UserAssignedIdentity(
            f"{name}-{role}-identity",
            resource_name_=args.names.identity(role),
            resource_group_name=args.resource_group_name,
            location=args.location,
            opts=opts,
        )

    def _grant_control_plane_roles(
        self, name: str, args: ClusterArgs
    ) -> dict[str, authorization.RoleAssignment]:
        """The control plane's grants, by `<role>-on-<target>`."""
        principal = self.control_plane_identity.principal_id
        grants = [
            (
                roles.MANAGED_IDENTITY_OPERATOR,
                self.kubelet_identity.id,
                args.subscription_id,
                "kubelet-identity",
                "AKS control plane assigns the kubelet identity to the node pools.",
            ),
            (
                roles.NETWORK_CONTRIBUTOR,
                args.node_subnet_id,
                args.node_subnet_subscription_id,
                "node-subnet",
                "AKS control plane joins nodes and load balancers to the node subnet.",
            ),
        ]
        return {
            f"{role.slug}-on-{target}": roles.assign_role(
                f"{name}-controlplane-{role.slug}-on-{target}",
                role=role,
                scope=scope,
                subscription_id=subscription,
                principal_id=principal,
                principal_type=roles.SERVICE_PRINCIPAL,
                description=description,
                parent=self,
            )
            for role, scope, subscription, target, description in grants
        }

    def _managed_cluster(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions
    ) -> containerservice.ManagedCluster:
        settings = args.settings
        kubelet = self.kubelet_identity
        authorized_ranges = [str(cidr) for cidr in settings.api_server_authorized_ip_ranges or ()]
        return containerservice.ManagedCluster(
            f"{name}-aks",
            resource_name_=args.names.cluster,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=args.names.cluster,
            kubernetes_version=settings.kubernetes_version,
            sku=containerservice.ManagedClusterSKUArgs(
                name=containerservice.ManagedClusterSKUName.BASE,
                tier=containerservice.ManagedClusterSKUTier(settings.tier),
            ),
            identity=containerservice.ManagedClusterIdentityArgs(
                type=containerservice.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[self.control_plane_identity.id],
            ),
            # "kubeletidentity" is the only key AKS accepts here.
            identity_profile={
                "kubeletidentity": containerservice.UserAssignedIdentityArgs(
                    resource_id=kubelet.id,
                    client_id=kubelet.client_id,
                    object_id=kubelet.principal_id,
                )
            },
            node_resource_group=args.names.node_resource_group,
            agent_pool_profiles=[
                containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=SYSTEM_POOL_NAME,
                    mode=containerservice.AgentPoolMode.SYSTEM,
                    type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
                    os_type=containerservice.OSType.LINUX,
                    count=settings.node_count,
                    vm_size=settings.node_vm_size,
                    max_pods=settings.max_pods,
                    vnet_subnet_id=args.node_subnet_id,
                    availability_zones=list(settings.availability_zones)
                    if settings.availability_zones
                    else None,
                    # The config rules size the subnet for exactly this surge.
                    upgrade_settings=containerservice.AgentPoolUpgradeSettingsArgs(
                        max_surge=str(NODE_POOL_MAX_SURGE)
                    ),
                    # With a user pool, workloads never share nodes with system pods.
                    node_taints=[CRITICAL_ADDONS_ONLY_TAINT] if settings.user_pool else None,
                )
            ],
            # Azure CNI: pods get VNet addresses (AAD Pod Identity is unsafe on kubenet). A plain
            # dict, not ContainerServiceNetworkProfileArgs: that class fills in podCidr
            # 10.244.0.0/16, meaningless with classic Azure CNI and a diff after every refresh.
            network_profile=containerservice.ContainerServiceNetworkProfileArgsDict(
                network_plugin=containerservice.NetworkPlugin(NETWORK_PLUGIN),
                # Enforces the Kubernetes NetworkPolicy objects the services declare.
                network_policy=containerservice.NetworkPolicy(settings.network_policy),
                load_balancer_sku=containerservice.LoadBalancerSku.STANDARD,
                outbound_type=containerservice.OutboundType.LOAD_BALANCER,
                service_cidr=str(args.network.service_cidr),
                dns_service_ip=str(args.network.dns_service_ip),
            ),
            # The OIDC issuer and the webhook are what workload identity federation needs.
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                    enabled=True
                )
            ),
            # Entra ID sign-in and Azure RBAC for Kubernetes authorization; with local
            # accounts off there is no static admin kubeconfig to leak.
            enable_rbac=True,
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                admin_group_object_ids=[str(group) for group in settings.admin_group_object_ids],
            ),
            disable_local_accounts=settings.disable_local_accounts,
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=containerservice.UpgradeChannel(settings.upgrade_channel),
                node_os_upgrade_channel=containerservice.NodeOSUpgradeChannel(
                    settings.node_os_upgrade_channel
                ),
            ),
            # Only these ranges reach the API server: `pulumi up` (its Kubernetes provider) and
            # kubectl from anywhere else are refused before they can sign in. Always sent, an
            # empty list when none are configured: a PUT without the list leaves AKS's as it
            # was, so removing the key would not open the API server again (an empty list is
            # how `az aks update --api-server-authorized-ip-ranges ""` clears it).
            api_server_access_profile=containerservice.ManagedClusterAPIServerAccessProfileArgs(
                authorized_ip_ranges=authorized_ranges
            ),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(ignore_changes=list(changed_by_aks(settings)))
            ),
        )

    def _user_pool(
        self, name: str, args: ClusterArgs, pool: UserPoolConfig
    ) -> containerservice.AgentPool:
        pool_name = user_pool_name(pool)
        return containerservice.AgentPool(
            f"{name}-pool-{pool_name}",
            agent_pool_name=pool_name,
            resource_group_name=args.resource_group_name,
            resource_name_=self.managed_cluster.name,
            mode=containerservice.AgentPoolMode.USER,
            type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
            os_type=containerservice.OSType.LINUX,
            count=pool.node_count,
            vm_size=pool.node_vm_size,
            max_pods=pool.max_pods,
            # The node subnet, which the control plane may join (its Network Contributor grant).
            vnet_subnet_id=args.node_subnet_id,
            availability_zones=list(pool.availability_zones) if pool.availability_zones else None,
            # Follows a pinned cluster version; unpinned, AKS gives it the control plane's.
            orchestrator_version=args.settings.kubernetes_version,
            upgrade_settings=containerservice.AgentPoolUpgradeSettingsArgs(
                max_surge=str(NODE_POOL_MAX_SURGE)
            ),
            # Unpinned, the version is AKS's to move (auto-upgrade): a refresh reads it back,
            # and the next deploy must not send it back.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["orchestratorVersion"]
                if args.settings.kubernetes_version is None
                and args.settings.upgrade_channel != "none"
                else None,
            ),
        )

    def _maintenance_windows(
        self, name: str, args: ClusterArgs, window: MaintenanceWindow
    ) -> list[containerservice.MaintenanceConfiguration]:
        # One window for both kinds of upgrade AKS makes itself; AKS reads each configuration
        # by its exact name.
        maintenance_window = containerservice.MaintenanceWindowArgs(
            schedule=containerservice.ScheduleArgs(
                weekly=containerservice.WeeklyScheduleArgs(
                    day_of_week=containerservice.WeekDay(window.day_of_week),
                    interval_weeks=MAINTENANCE_INTERVAL_WEEKS,
                )
            ),
            start_time=f"{window.start_hour:02d}:00",
            duration_hours=window.duration_hours,
            utc_offset=window.utc_offset,
        )
        return [
            containerservice.MaintenanceConfiguration(
                f"{name}-{role}-window",
                config_name=config_name,
                resource_group_name=args.resource_group_name,
                resource_name_=self.managed_cluster.name,
                maintenance_window=maintenance_window,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role, config_name in (
                ("auto-upgrade", azure_limits.AUTO_UPGRADE_SCHEDULE),
                ("node-os-upgrade", azure_limits.NODE_OS_UPGRADE_SCHEDULE),
            )
        ]
