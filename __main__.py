"""secretless-aks: an AKS cluster whose workloads reach Azure with managed identities only.

This file only loads the stack's configuration, builds the components and exports outputs.
"""

import pulumi
from pulumi_azure_native import authorization, resources

from secretless_aks import contract, published_contract
from secretless_aks.components import collector
from secretless_aks.components.app_teams import AppTeam, AppTeamArgs
from secretless_aks.components.cluster import Cluster, ClusterArgs
from secretless_aks.components.config import load_stack_config
from secretless_aks.components.contract_publication import ContractPublication
from secretless_aks.components.developer_access import DeveloperAccess, DeveloperAccessArgs
from secretless_aks.components.key_vault import KeyVault, KeyVaultArgs
from secretless_aks.components.kubernetes_platform import KubernetesPlatform, KubernetesPlatformArgs
from secretless_aks.components.monitoring import Monitoring, MonitoringArgs
from secretless_aks.components.naming import EnvironmentNames, TeamNames
from secretless_aks.components.network import Network, NetworkArgs
from secretless_aks.components.registry_access import RegistryAccess, RegistryAccessArgs
from secretless_aks.components.service_identity import ServiceIdentity, ServiceIdentityArgs

# No cyclic garbage collection in this short-lived process: with Python's defaults it was half
# of a 300-service evaluation (measured in components/collector.py, `make bench`).
collector.configure()

config = load_stack_config()
names = EnvironmentNames(config.stack)
# The tenant and subscription `pulumi up` runs in. Not who runs it: the deployer's grants go
# to the configured `deployers`, so a person's run and CI's declare the same graph. Each
# attribute of an Output is an Output chain of its own: taken once here, not once per service.
client = authorization.get_client_config_output()
subscription_id, tenant_id = client.subscription_id, client.tenant_id

resource_group = resources.ResourceGroup(
    "environment",
    resource_group_name=names.resource_group,
    location=config.location,
    opts=pulumi.ResourceOptions(protect=config.protect),
)

network = Network(
    "network",
    NetworkArgs(
        settings=config.network,
        names=names,
        resource_group_name=resource_group.name,
        location=resource_group.location,
        subscription_id=subscription_id,
        # Pods reach a firewalled vault from the node subnet through a service endpoint.
        key_vault_service_endpoint=bool(config.key_vault.allowed_ip_ranges),
        protect=config.protect,
    ),
)

cluster = Cluster(
    "cluster",
    ClusterArgs(
        settings=config.cluster,
        network=config.network,
        names=names,
        resource_group_name=resource_group.name,
        location=resource_group.location,
        subscription_id=subscription_id,
        node_subnet_id=network.node_subnet_id,
        node_subnet_subscription_id=network.node_subnet_subscription_id,
        protect=config.protect,
    ),
)

platform = KubernetesPlatform(
    "kubernetes",
    KubernetesPlatformArgs(
        services=config.services,
        cluster=cluster.managed_cluster,
        resource_group_name=resource_group.name,
        resource_group_id=resource_group.id,
        subscription_id=subscription_id,
        node_resource_group=cluster.node_resource_group,
        kubelet_principal_id=cluster.kubelet_identity.principal_id,
        deployers=config.deployers,
        admin_group_object_ids=tuple(str(g) for g in config.cluster.admin_group_object_ids),
    ),
)

key_vault = KeyVault(
    "keyvault",
    KeyVaultArgs(
        settings=config.key_vault,
        names=names,
        resource_group_name=resource_group.name,
        location=resource_group.location,
        tenant_id=tenant_id,
        subscription_id=subscription_id,
        node_subnet_id=network.node_subnet_id,
        purge_protection=config.purge_protection,
        secrets=config.secrets,
        generated_secrets=config.vault_generated_secrets,
        region=config.location,
        deployers=config.deployers,
        protect=config.protect,
    ),
)

# bootstrap's registry: the kubelet identity pulls from it (CI sets secretless-aks:registry).
registry = (
    RegistryAccess(
        "registry",
        RegistryAccessArgs(config.registry, cluster.kubelet_identity.principal_id, config.stack),
    )
    if config.registry is not None
    else None
)

services = {
    service.name: ServiceIdentity(
        f"svc-{service.name}",
        ServiceIdentityArgs(
            settings=config.with_registry_images(service),
            names=names,
            resource_group_name=resource_group.name,
            location=resource_group.location,
            subscription_id=subscription_id,
            vault_id=key_vault.vault_id,
            vault_uri=key_vault.vault_uri,
            vault_subscription_id=key_vault.vault_subscription_id,
            secret_ids=key_vault.secret_ids,
            oidc_issuer_url=cluster.oidc_issuer_url,
            tenant_id=tenant_id,
            kubelet_principal_id=cluster.kubelet_identity.principal_id,
            provider=platform.provider,
            namespace=platform.namespaces[service.namespace],
            pod_identity_release=platform.pod_identity_release,
            image_pull_grant=registry.grant if registry else None,
            # A retired service keeps its resources unprotected, for the deploy that removes it.
            protect=config.protect and not service.retire,
            config_key=f"secretless-aks:services[{index}]",
        ),
    )
    for index, service in enumerate(config.services)
}

# The vault's and the cluster's audit logs, kept (none on an unprotected stack by default).
monitoring_target = config.monitoring.target(config.protect)
if monitoring_target is not None:
    Monitoring(
        "monitoring",
        MonitoringArgs(
            target=monitoring_target,
            names=names,
            resource_group_name=resource_group.name,
            location=resource_group.location,
            subscription_id=subscription_id,
            vault_id=key_vault.vault_id,
            cluster_id=cluster.cluster_id,
            protect=config.protect,
        ),
    )

# On an unprotected stack, the developers group reads what the services read.
if config.developers is not None:
    DeveloperAccess(
        "developers",
        DeveloperAccessArgs(
            group_object_id=str(config.developers),
            services=config.services,
            vault_id=key_vault.vault_id,
            vault_subscription_id=key_vault.vault_subscription_id,
            secret_ids=key_vault.secret_ids,
            subscription_id=subscription_id,
        ),
    )

teams = {
    team.name: AppTeam(
        TeamNames(team.name).component,
        AppTeamArgs(
            settings=team,
            cluster_id=cluster.cluster_id,
            subscription_id=subscription_id,
            vault_id=key_vault.vault_id,
            vault_subscription_id=key_vault.vault_subscription_id,
            secret_ids=key_vault.secret_ids,
            provider=platform.provider,
        ),
    )
    for team in config.app_teams
}

outputs: dict[str, object] = {
    "contractVersion": contract.CONTRACT_VERSION,
    "contractMinorVersion": contract.CONTRACT_MINOR_VERSION,
    "resourceGroupName": resource_group.name,
    "location": resource_group.location,
    "tenantId": tenant_id,
    "subscriptionId": subscription_id,
    "clusterName": cluster.cluster_name,
    "clusterResourceId": cluster.cluster_id,
    "nodeResourceGroup": cluster.node_resource_group,
    "oidcIssuerUrl": cluster.oidc_issuer_url,
    "kubeletIdentity": {
        "clientId": cluster.kubelet_identity.client_id,
        "objectId": cluster.kubelet_identity.principal_id,
        "resourceId": cluster.kubelet_identity.id,
    },
    "keyVaultName": key_vault.vault_name,
    "keyVaultUri": key_vault.vault_uri,
    "keyVaultResourceId": key_vault.vault_id,
    "services": {
        service.name: {
            "clientId": services[service.name].client_id,
            "principalId": services[service.name].principal_id,
            "identityResourceId": services[service.name].identity_resource_id,
            "namespace": service.namespace,
            "serviceAccount": service.service_account,
            "binding": service.binding,
        }
        for service in config.services
    },
    "appTeams": {name: team.namespaces for name, team in teams.items()},
    "serviceGrants": {name: service.grants for name, service in services.items()},
    "kubeconfig": platform.kubeconfig,
    "registryLoginServer": config.registry.login_server if config.registry else "",
}
contract.export(outputs)

# What the environment's application teams read instead of this stack's state: written once
# the cluster and the vault exist, and the teams' namespaces and grants there, so that a team
# never reads of a namespace it cannot yet write in.
if config.publish_contract_to:
    published = published_contract.document(outputs)
    # The kubeconfig signs in through kubelogin and Entra ID: it holds the cluster's address
    # and CA certificate, and no token, password or key, so the document needs no secrecy.
    published["kubeconfig"] = pulumi.Output.unsecret(platform.kubeconfig)
    ContractPublication(
        "contract",
        url=config.publish_contract_to,
        document=pulumi.Output.json_dumps(published, indent=2, sort_keys=True),
        opts=pulumi.ResourceOptions(depends_on=list(teams.values())),
    )
