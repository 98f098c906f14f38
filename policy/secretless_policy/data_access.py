"""Data roles on the Azure services a service reaches beyond Key Vault: each held to the one
resource it is for, and Cosmos DB's own role assignments (which no ABAC condition sees, since
they are not ARM role assignments) held to its built-in data roles inside one account."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .access_catalogue import ARM_DATA_ROLES, COSMOS_DATA_ROLES
from .model import Resource, Rule, Settings, applies_to, known
from .role_assignments import ROLE_ASSIGNMENT, role_guid

COSMOS_ASSIGNMENT = "azure-native:cosmosdb:SqlResourceSqlRoleAssignment"
_RESOURCE = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/(?P<namespace>[^/]+)/(?P<rest>.+)",
    re.IGNORECASE,
)


def resource_kind(scope: str) -> str | None:
    """A resource id's type, lower-cased (`microsoft.storage/storageaccounts/...`); None for a
    scope that is no resource (a resource group, a subscription)."""
    found = _RESOURCE.fullmatch(scope.rstrip("/"))
    if found is None:
        return None
    parts = found["rest"].split("/")
    if len(parts) % 2:
        return None
    return "/".join((found["namespace"], *parts[0::2])).lower()


@applies_to(ROLE_ASSIGNMENT)
def _data_role_on_its_resource(assignment: Resource, _: Settings) -> Iterable[str]:
    kinds = ARM_DATA_ROLES.get(role_guid(assignment) or "")
    scope = assignment.get("scope")
    if kinds is None or not (known(scope) and isinstance(scope, str)):
        return
    if resource_kind(scope) not in kinds:
        yield (
            f"grant this data role on the one resource it is for ({', '.join(kinds)}), not "
            f"{scope}: on a resource group or subscription it reaches the data of every such "
            "resource there"
        )


@applies_to(COSMOS_ASSIGNMENT)
def _cosmos_built_in_data_role(assignment: Resource, _: Settings) -> Iterable[str]:
    definition, scope = assignment.get("roleDefinitionId"), assignment.get("scope")
    if not (known(definition) and isinstance(definition, str)):
        return
    account, _separator, guid = definition.partition("/sqlRoleDefinitions/")
    if guid.lower() not in COSMOS_DATA_ROLES:
        yield (
            "use Cosmos DB Built-in Data Reader or Contributor (sqlRoleDefinitions/"
            "00000000-0000-0000-0000-000000000001 or ...002): a custom definition can allow "
            "anything in the account, and no ABAC condition sees it"
        )
    if known(scope) and isinstance(scope, str):
        inside = scope.lower().rstrip("/")
        if inside != account.lower() and not inside.startswith(f"{account.lower()}/dbs/"):
            yield (
                f"scope the assignment to its account ({account}) or a database in it, not {scope}"
            )


RULES = (
    Rule(
        "data-role-on-its-resource",
        "A data role from the access catalogue is granted on one resource of a kind the "
        "catalogue lists for it.",
        "an identity reading or writing the data of every storage account, namespace or store "
        "in a resource group",
        check_resource=_data_role_on_its_resource,
    ),
    Rule(
        "cosmos-built-in-data-role",
        "Cosmos DB role assignments use the built-in Data Reader or Contributor, inside their "
        "account.",
        "a custom Cosmos DB role, which no ABAC condition and no Azure RBAC review sees",
        check_resource=_cosmos_built_in_data_role,
    ),
)
