"""An application team's project on a secretless-aks cluster: the template to copy.

It reads the platform stack's outputs through the typed contract reader, then gives one
application its own identity, federated with the cluster's OIDC issuer, Key Vault Secrets User
on the platform's vault (or on the secrets it names), and its ServiceAccount and Deployment on
the cluster through a Kubernetes provider built from the platform's secret kubeconfig.
"""

import pulumi
import pulumi_kubernetes as kubernetes
from pulumi_azure_native import authorization, resources
from pydantic import ValidationError

from components import manifests, roles
from components.config import ServiceConfig
from components.naming import EnvironmentNames
from components.service_identity import ServiceIdentity, ServiceIdentityArgs
from platform_contract import PlatformStack

config = pulumi.Config()
platform = PlatformStack(config.require("platformStack"))
try:
    app = ServiceConfig.model_validate(config.require_object("app"))
except ValidationError as error:
    raise pulumi.RunError(f"invalid {config.full_key('app')}: {error}") from error
if app.binding != "workloadIdentity":
    raise pulumi.RunError(f"{config.full_key('app')}.binding: only workloadIdentity is supported")

names = EnvironmentNames(pulumi.get_stack())
# The application's Azure resources live in its own resource group, beside the platform.
group = resources.ResourceGroup(
    "app", resource_group_name=f"rg-{app.name}-{pulumi.get_stack()}", location=platform.location
)
provider = kubernetes.Provider("platform-cluster", kubeconfig=platform.kubeconfig)
namespace = kubernetes.core.v1.Namespace(
    f"{app.name}-namespace",
    metadata=manifests.as_input(manifests.namespace(app.namespace)["metadata"]),
    opts=pulumi.ResourceOptions(provider=provider),
)
service = ServiceIdentity(
    f"svc-{app.name}",
    ServiceIdentityArgs(
        settings=app,
        names=names,
        resource_group_name=group.name,
        location=group.location,
        # The application's own subscription, where its identity lives.
        subscription_id=authorization.get_client_config_output().subscription_id,
        vault_id=platform.key_vault_resource_id,
        vault_uri=platform.key_vault_uri,
        # The platform's vault may live in another subscription than the application.
        vault_subscription_id=platform.key_vault_resource_id.apply(roles.subscription_of),
        secret_ids={},
        oidc_issuer_url=platform.oidc_issuer_url,
        tenant_id=platform.tenant_id,
        kubelet_principal_id=platform.kubelet_identity.object_id,
        provider=provider,
        namespace=namespace,
    ),
)

pulumi.export("clientId", service.client_id)
pulumi.export("identityResourceId", service.identity_resource_id)
pulumi.export("keyVaultUri", platform.key_vault_uri)
