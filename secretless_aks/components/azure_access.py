"""Grants on the Azure services a service reaches beyond Key Vault (`azureAccess`): an ARM
role assignment per catalogue role, or a Cosmos DB role assignment inside the account, each on
exactly the resource given, to the service's identity alone (or, on an unprotected stack, to
the developers group too: developer_access.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization, cosmosdb

from secretless_aks.components import access_catalogue, roles
from secretless_aks.components.config import AzureAccessConfig, ConfigError


def grant_target(resource: access_catalogue.ResourceId) -> str:
    """The resource as a resource-name fragment: its own name, and a digest of its whole id
    (two containers of one name in two accounts are two grants)."""
    digest = hashlib.sha256(resource.text.lower().encode()).hexdigest()[:8]
    return f"{resource.names[-1].lower()}-{digest}"


def _in_environment(
    resource: access_catalogue.ResourceId,
    role: roles.Role,
    key: str,
    environment_subscription: str,
    principal_type: authorization.PrincipalType,
) -> str:
    """The resource's id, once it is known to be in the environment's subscription, where the
    deploy identity may grant; otherwise a ConfigError with the command an Owner runs."""
    if resource.subscription_id == environment_subscription.lower():
        return resource.text
    principal = (
        "<the service's principalId>"
        if principal_type == roles.SERVICE_PRINCIPAL
        else "<the group's object id>"
    )
    command = access_catalogue.owner_command(resource, role, principal, principal_type.value)
    raise ConfigError(
        f"{key}: {resource.text} is in subscription {resource.subscription_id}, not the "
        f"environment's ({environment_subscription}), where alone its deploy identity may "
        f"grant. Leave it out here; an Owner of that subscription grants it once: {command}"
    )


def grant_azure_access(
    name: str,
    accesses: Sequence[AzureAccessConfig],
    *,
    who: str,
    config_key: str,
    principal_id: pulumi.Input[str],
    principal_type: authorization.PrincipalType,
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> list[dict[str, pulumi.Input[str]]]:
    """`accesses` (an azureAccess list), granted to `principal_id`, whom the grants'
    descriptions call `who` (`config_key`: where the list is in config, for errors that name
    the key); each grant as {resource, role}."""
    principal_id = pulumi.Output.from_input(principal_id)
    environment = pulumi.Output.from_input(subscription_id)
    grants: list[dict[str, pulumi.Input[str]]] = []
    for position, access in enumerate(accesses):
        resource = access_catalogue.parse_resource_id(access.resource)
        role = access_catalogue.BY_NAME[access.role].role
        key = f"{config_key}[{position}].resource"
        scope = environment.apply(
            lambda env, resource=resource, role=role, key=key: _in_environment(
                resource, role, key, env, principal_type
            )
        )
        grant_name = f"{name}-{role.slug}-on-{grant_target(resource)}"
        grants.append({"resource": resource.text, "role": role.name})
        if isinstance(role, roles.CosmosDataRole):
            cosmosdb.SqlResourceSqlRoleAssignment(
                grant_name,
                account_name=resource.names[0],
                resource_group_name=resource.resource_group,
                # Named like an ARM assignment: a re-run never duplicates it.
                role_assignment_id=principal_id.apply(
                    lambda principal, resource=resource, role=role: roles.assignment_name(
                        resource.text, role, principal
                    )
                ),
                role_definition_id=f"{resource.text}/sqlRoleDefinitions/{role.guid}",
                scope=scope,
                principal_id=principal_id,
                opts=pulumi.ResourceOptions(parent=parent),
            )
            continue
        roles.assign_role(
            grant_name,
            role=role,
            scope=scope,
            subscription_id=resource.subscription_id,
            principal_id=principal_id,
            principal_type=principal_type,
            description=f"{who} uses {resource.names[-1]} ({role.name}).",
            parent=parent,
        )
    return grants
