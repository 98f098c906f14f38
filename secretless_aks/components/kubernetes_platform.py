"""The cluster's Kubernetes side: a provider with no static credential, and what services share."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import authorization, containerservice

from secretless_aks.components import fast_yaml, manifests, roles
from secretless_aks.components.config import DeployerConfig, ServiceConfig

# AAD Pod Identity's last release (the project was archived in 2023); it is installed only
# while some service still uses it.
AAD_POD_IDENTITY_CHART = "aad-pod-identity"
AAD_POD_IDENTITY_CHART_VERSION = "4.1.18"
AAD_POD_IDENTITY_REPOSITORY = (
    "https://raw.githubusercontent.com/Azure/aad-pod-identity/master/charts"
)
AAD_POD_IDENTITY_NAMESPACE = "kube-system"
# How kubelogin signs in while `pulumi up` runs: with the Azure CLI login (az login locally,
# azure/login with OIDC in CI). kubelogin's AAD_LOGIN_METHOD environment variable overrides it.
KUBELOGIN_LOGIN = "azurecli"


@dataclass(frozen=True)
class KubernetesPlatformArgs:
    services: tuple[ServiceConfig, ...]
    cluster: containerservice.ManagedCluster
    resource_group_name: pulumi.Input[str]
    # Where the cluster-admin grants go: the environment's group, which exists long before the
    # cluster does, so the grants propagate to AKS while the cluster is being created.
    resource_group_id: pulumi.Input[str]
    # The deployment's, where the environment's and the node resource groups live.
    subscription_id: pulumi.Input[str]
    node_resource_group: pulumi.Input[str]
    kubelet_principal_id: pulumi.Input[str]
    # Who runs `pulumi up` (config `deployers`): the Kubernetes provider acts as them.
    deployers: tuple[DeployerConfig, ...]
    admin_group_object_ids: tuple[str, ...]


class KubernetesPlatform(pulumi.ComponentResource):
    """Provides `provider` (every Kubernetes resource uses it), `kubeconfig` (secret), one
    Namespace per service namespace, and AAD Pod Identity when a service needs it.

    Its attributes are annotated where they are set, not on the class: the SDK evaluates a
    component class's annotations each time one registers (pulumi/_types.py, resource_types),
    and the Release type would import the Helm SDK into every run, pod identity or not (0.15 s).
    """

    def __init__(
        self, name: str, args: KubernetesPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:kubernetes:KubernetesPlatform", name, None, opts)
        admin_roles = self._grant_cluster_admins(name, args)
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=args.cluster.name,
            # "exec": a kubeconfig that runs kubelogin; it holds no token and no certificate key.
            format="exec",
        )
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda configs: kubeconfig_for_kubelogin(configs[0].value)
            )
        )
        self.provider: kubernetes.Provider = kubernetes.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            # Nothing links the provider to the RBAC grants it needs to create objects. The
            # cluster is named too: its kubeconfig comes through an invoke, whose result the SDK
            # leaves without dependencies while unknown (a preview of a new cluster).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*admin_roles, args.cluster]),
        )
        k8s = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.namespaces: dict[str, kubernetes.core.v1.Namespace] = {
            namespace: restricted_namespace(f"{name}-namespace-{namespace}", namespace, k8s)
            for namespace in sorted({service.namespace for service in args.services})
        }
        self.pod_identity_release: kubernetes.helm.v3.Release | None = None
        if any(service.uses_pod_identity for service in args.services):
            self.pod_identity_release = self._install_pod_identity(name, args, k8s)
        self.register_outputs({"kubeconfig": self.kubeconfig})

    def _grant_cluster_admins(
        self, name: str, args: KubernetesPlatformArgs
    ) -> list[authorization.RoleAssignment]:
        # Azure RBAC grants take up to ~5 minutes to reach AKS
        # (https://learn.microsoft.com/azure/aks/manage-azure-rbac). At resource-group scope, with
        # no input from the cluster, they are made first and propagate while the cluster is
        # created; the provider still waits for them.
        grants = roles.assign_to_deployers(
            f"{name}-deployer",
            "aks-rbac-cluster-admin",
            role=roles.AKS_RBAC_CLUSTER_ADMIN,
            scope=args.resource_group_id,
            subscription_id=args.subscription_id,
            deployers=args.deployers,
            description="A deployer (config deployers) runs pulumi up, which creates the "
            "Kubernetes objects.",
            parent=self,
        )
        grants += [
            roles.assign_role(
                f"{name}-admin-group-{group}-aks-rbac-cluster-admin",
                role=roles.AKS_RBAC_CLUSTER_ADMIN,
                scope=args.resource_group_id,
                subscription_id=args.subscription_id,
                principal_id=group,
                principal_type=roles.GROUP,
                description="A platform admin group (adminGroupObjectIds) administers the cluster.",
                parent=self,
            )
            for group in args.admin_group_object_ids
        ]
        return grants

    def _install_pod_identity(
        self, name: str, args: KubernetesPlatformArgs, k8s: pulumi.ResourceOptions
    ) -> kubernetes.helm.v3.Release:
        # NMI assigns the service identities to the node VMs on the pods' behalf.
        roles.assign_role(
            f"{name}-kubelet-virtual-machine-contributor-on-node-resource-group",
            role=roles.VIRTUAL_MACHINE_CONTRIBUTOR,
            scope=pulumi.Output.concat(
                "/subscriptions/",
                args.subscription_id,
                "/resourceGroups/",
                args.node_resource_group,
            ),
            subscription_id=args.subscription_id,
            principal_id=args.kubelet_principal_id,
            principal_type=roles.SERVICE_PRINCIPAL,
            description=(
                "AAD Pod Identity (NMI, as the kubelet identity) assigns pod identities to node "
                "VMs; granted only while a service uses pod identity."
            ),
            parent=self,
        )
        return kubernetes.helm.v3.Release(
            f"{name}-aad-pod-identity",
            name=AAD_POD_IDENTITY_CHART,
            chart=AAD_POD_IDENTITY_CHART,
            version=AAD_POD_IDENTITY_CHART_VERSION,
            repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=AAD_POD_IDENTITY_REPOSITORY),
            namespace=AAD_POD_IDENTITY_NAMESPACE,
            values={
                # Each AzureIdentity then binds pods in its own namespace only; without it a pod
                # in any namespace could claim any identity with a matching binding
                # (https://azure.github.io/aad-pod-identity/docs/configure/match_pods_in_namespace/).
                "forceNamespaced": "true",
                # MIC and NMI lose their cluster-wide read of Secrets, which only service
                # principal identities (AzureIdentity types 1 and 2) need; this program declares
                # managed identities (type 0) only (chart values: rbac.allowAccessToSecrets).
                "rbac": {"allowAccessToSecrets": False},
            },
            opts=k8s,
        )


def restricted_namespace(
    resource_name: str, namespace: str, opts: pulumi.ResourceOptions
) -> kubernetes.core.v1.Namespace:
    """A Namespace held to the `restricted` Pod Security Standard, and its NetworkPolicy
    denying all ingress (`<resource_name>-deny-ingress`): every namespace a workload runs in,
    the platform's and an application project's alike."""
    created = kubernetes.core.v1.Namespace(
        resource_name,
        metadata=manifests.as_input(manifests.namespace(namespace)["metadata"]),
        opts=opts,
    )
    policy = manifests.deny_ingress(namespace)
    kubernetes.networking.v1.NetworkPolicy(
        f"{resource_name}-deny-ingress",
        metadata=manifests.as_input({**policy["metadata"], "namespace": created.metadata.name}),
        spec=manifests.as_input(policy["spec"]),
        opts=opts,
    )
    return created


def kubeconfig_for_kubelogin(encoded: str) -> str:
    """The AKS "exec" kubeconfig, with kubelogin told to use the Azure CLI sign-in.

    AKS hands out `--login devicecode`, which waits for a person; `pulumi up` must not.
    """
    config = fast_yaml.safe_load(base64.b64decode(encoded).decode())
    for user in config.get("users") or []:
        exec_config = (user.get("user") or {}).get("exec") or {}
        if exec_config.get("command") != "kubelogin":
            continue
        args = list(exec_config.get("args") or [])
        if "--login" in args:
            args[args.index("--login") + 1] = KUBELOGIN_LOGIN
        else:
            args += ["--login", KUBELOGIN_LOGIN]
        exec_config["args"] = args
    return fast_yaml.safe_dump(config, sort_keys=False)
