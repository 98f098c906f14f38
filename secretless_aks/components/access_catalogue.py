"""The access catalogue: which Azure services a service's identity may reach beyond Key Vault,
with which data role on which kind of resource, and what is refused and why.

A service asks for `azureAccess: [{resource, role}]`: an Azure resource id, and a role as
Microsoft names it. The grant is made on exactly that resource, a child resource id (a blob
container, a queue, a topic, an event hub) scoping it to that child. Every ARM role here is a
data role a workload needs, never an Owner-class one (which can also change who may do what,
or everything the resource holds). Cosmos DB for NoSQL authorises data with role assignments of
its own inside the account (`sqlRoleAssignments`), with its built-in definitions.

The table itself is roles.DATA_ROLES, beside the roles it names, so that bootstrap's ABAC
conditions (roles.DEPLOY_IDENTITY_GRANTS, TEAM_DEPLOY_DELEGATION) are built from it too; the
policy pack's copy (policy/secretless_policy/access_catalogue.py) is generated from it by
`policy_module()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from secretless_aks.components import roles

CATALOGUE = roles.DATA_ROLES
BY_NAME: Mapping[str, roles.DataRole] = {entry.role.name: entry for entry in CATALOGUE}
ARM_DATA_ROLES = roles.ARM_DATA_ROLES
# The grants a Deployment names the resource of (manifests.granted_endpoints), one each.
APP_CONFIGURATION_READERS = (roles.APP_CONFIGURATION_DATA_READER.name,)
BLOB_READERS = (roles.STORAGE_BLOB_DATA_READER.name, roles.STORAGE_BLOB_DATA_CONTRIBUTOR.name)

# Owner-class data roles, named so that asking for one says why not: each can also change who
# may read (Storage ACLs, Service Bus and Event Hubs management) or delete what it guards.
OWNER_CLASS = (
    "Storage Blob Data Owner",
    "Azure Service Bus Data Owner",
    "Azure Event Hubs Data Owner",
    "App Configuration Data Owner",
)

# Services whose data ARM cannot grant: the secretless path, said instead.
REFUSED: Mapping[str, str] = {
    "microsoft.sql/servers": (
        "Azure SQL authorises data with a user inside the database, which ARM cannot create: "
        "an Entra admin of the server runs, in the database, CREATE USER [<identity name>] FROM "
        "EXTERNAL PROVIDER and grants it a role (ALTER ROLE db_datareader ADD MEMBER "
        "[<identity name>]); the app connects with Authentication=Active Directory Default"
    ),
    "microsoft.dbforpostgresql/flexibleservers": (
        "Azure Database for PostgreSQL authorises data with a role inside the server, which "
        "ARM cannot create: an Entra admin runs SELECT * FROM "
        "pgaadauth_create_principal('<identity name>', false, false); and GRANTs it what it "
        "needs; the app signs in with a token for https://ossrdbms-aad.database.windows.net"
    ),
    "microsoft.cache/redis": (
        "Azure Cache for Redis is being retired, and its data access policies with it: grant "
        "access on its successor outside this stack, or reach the cache another way"
    ),
}
REFUSED["microsoft.dbforpostgresql/servers"] = REFUSED["microsoft.dbforpostgresql/flexibleservers"]

_GUID = r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
_RESOURCE_ID = re.compile(
    rf"/subscriptions/(?P<subscription>{_GUID})/resourceGroups/(?P<group>[-\w.()]{{1,90}})"
    r"/providers/(?P<namespace>[A-Za-z][\w.]*)/(?P<rest>[^/?#]+/[^/?#]+(?:/[^/?#]+/[^/?#]+)*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ResourceId:
    """An Azure resource id, taken apart: `/subscriptions/<s>/resourceGroups/<g>/providers/
    <Namespace>/<type>/<name>[/<child type>/<child name>...]`."""

    text: str
    subscription_id: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def kind(self) -> str:
        """Its resource type, lower-cased: `microsoft.storage/storageaccounts/...`."""
        return "/".join((self.namespace, *self.types)).lower()

    @property
    def top_kind(self) -> str:
        return f"{self.namespace}/{self.types[0]}".lower()


def parse_resource_id(text: str) -> ResourceId:
    """`text` taken apart, or ValueError saying what an id looks like."""
    found = _RESOURCE_ID.fullmatch(text)
    if found is None:
        raise ValueError(
            "expected an Azure resource id, /subscriptions/<subscription id>/resourceGroups/"
            "<group>/providers/<Namespace>/<type>/<name>[/<child type>/<child name>]"
        )
    parts = found["rest"].split("/")
    return ResourceId(
        text=text,
        subscription_id=found["subscription"].lower(),
        resource_group=found["group"],
        namespace=found["namespace"],
        types=tuple(parts[0::2]),
        names=tuple(parts[1::2]),
    )


def refusal(resource: ResourceId, role: str) -> str | None:
    """Why `role` on `resource` is not granted, or None for a grant the catalogue allows."""
    refused = REFUSED.get(resource.top_kind)
    if refused is not None:
        return refused
    fitting = [entry.role.name for entry in CATALOGUE if resource.kind in entry.on]
    if role in OWNER_CLASS:
        return (
            f"{role} is an Owner-class data role: it can also change who may read, or delete "
            f"everything the resource holds; grant the narrowest role the service needs: "
            f"{', '.join(fitting) or 'none of the catalogue fits this resource'}"
        )
    entry = BY_NAME.get(role)
    if entry is None:
        known = ", ".join(fitting) if fitting else ", ".join(BY_NAME)
        return f"{role!r} is not in the access catalogue; for this resource: {known}"
    if resource.kind not in entry.on:
        if not fitting:
            return (
                f"{resource.kind} is not a resource the access catalogue grants on; it grants "
                f"{role} on {', '.join(entry.on)}"
            )
        return (
            f"{role} is not granted on a {resource.kind}; for this resource: {', '.join(fitting)}"
        )
    return None


def owner_command(
    resource: ResourceId, role: roles.Role, principal: str, principal_type: str
) -> str:
    """What an Owner of the resource's subscription runs to make the grant by hand."""
    if isinstance(role, roles.CosmosDataRole):
        return (
            f"az cosmosdb sql role assignment create --account-name {resource.names[0]} "
            f"--resource-group {resource.resource_group} --subscription "
            f"{resource.subscription_id} --scope / --principal-id {principal} "
            f"--role-definition-id {role.guid}"
        )
    return (
        f"az role assignment create --assignee-object-id {principal} --assignee-principal-type "
        f"{principal_type} --role {role.guid} --scope {resource.text}"
    )


def policy_module() -> str:
    """The policy pack's copy of the catalogue (policy/secretless_policy/access_catalogue.py):
    the pack runs in its own environment, without this package."""
    arm = "".join(
        f'    "{entry.role.guid}": (  # {entry.role.name}\n'
        + "".join(f'        "{kind}",\n' for kind in entry.on)
        + "    ),\n"
        for entry in CATALOGUE
        if not entry.is_cosmos
    )
    cosmos = "".join(
        f'        "{entry.role.guid}",  # {entry.role.name}\n'
        for entry in CATALOGUE
        if entry.is_cosmos
    )
    return (
        '"""The access catalogue\'s data roles, as the policy pack checks them. Generated from\n'
        "secretless_aks/components/access_catalogue.py (`policy_module()`); a test keeps the two\n"
        'equal: edit the catalogue, then regenerate this file."""\n\n'
        "# ARM data roles by GUID: the resource types (lower-cased) each may be granted on.\n"
        f"ARM_DATA_ROLES: dict[str, tuple[str, ...]] = {{\n{arm}}}\n"
        "# Cosmos DB for NoSQL's built-in data role definitions (sqlRoleDefinitions/<guid>).\n"
        f"COSMOS_DATA_ROLES = frozenset(\n    {{\n{cosmos}    }}\n)\n"
    )
