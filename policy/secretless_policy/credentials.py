"""No resource that makes a client secret, certificate credential or password for an app
registration or a service principal: identities here are managed, and federated."""

from __future__ import annotations

from collections.abc import Iterable

from .cluster import CLUSTER
from .model import Resource, Rule, Settings
from .role_assignments import AZURE_IDENTITY

# Entra ID resources (the azuread provider) that exist to hold a credential.
CREDENTIAL_TYPES = {
    "azuread:index/applicationPassword:ApplicationPassword": "an application password",
    "azuread:index/applicationCertificate:ApplicationCertificate": "an application certificate",
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword": (
        "a service principal password"
    ),
    "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate": (
        "a service principal certificate"
    ),
}
APPLICATION = "azuread:index/application:Application"
# AzureIdentity types: 0 a user-assigned managed identity; 1 and 2 a service principal with a
# client secret or a certificate (https://azure.github.io/aad-pod-identity/docs/concepts/azureidentity/).
MANAGED_IDENTITY_TYPE = 0


def _credentials(resource: Resource, _: Settings) -> Iterable[str]:
    instead = "use a managed identity with a federated credential instead"
    if resource.type in CREDENTIAL_TYPES:
        yield f"remove {CREDENTIAL_TYPES[resource.type]}: {instead}"
    elif resource.type == APPLICATION:
        for key in ("passwords", "password", "certificates", "keyCredentials"):
            if resource.get(key):
                yield f"remove the application's {key}: {instead}"
    elif resource.type == CLUSTER:
        if resource.get("servicePrincipalProfile", "secret") is not None:
            yield f"remove servicePrincipalProfile.secret: {instead} (identity.type UserAssigned)"
    elif resource.type == AZURE_IDENTITY:
        kind = resource.get("spec", "type")
        if kind not in (None, MANAGED_IDENTITY_TYPE) or resource.get("spec", "clientPassword"):
            yield (
                f"make this AzureIdentity a managed identity (spec.type {MANAGED_IDENTITY_TYPE}, "
                f"no clientPassword): {instead}"
            )


RULES = (
    Rule(
        "no-application-credentials",
        "No client secret, certificate credential or password for an app registration or "
        "service principal.",
        "long-lived credentials that can leak, expire and be replayed from anywhere",
        check_resource=_credentials,
    ),
)
