"""A small evaluator of the ABAC conditions this project writes, to judge them on concrete
requests rather than by their text: the policy pack asks it what an RBAC Administrator's
condition lets its holder assign, and the tests ask it of the deploy identities' conditions.

It reads the grammar of Azure role assignment conditions as the role catalogue writes them
(https://learn.microsoft.com/azure/role-based-access-control/conditions-format): `!`, `AND`,
`OR` (AND binds tighter), parentheses, `ActionMatches{'<action>'}`, and
`@<Request|Resource>[<attribute>] ForAnyOfAnyValues:<GuidEquals|StringEqualsIgnoreCase>
{<values>}`. Anything else is a syntax error, so a condition it cannot read fails the test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROLE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments"
_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<not>!)|(?P<op>AND|OR)\b|"
    r"ActionMatches\{'(?P<action>[^']+)'\}|"
    r"@(?P<source>Request|Resource)\[(?P<attribute>[^\]]+)\]\s+"
    r"ForAnyOfAnyValues:(?P<operator>GuidEquals|StringEqualsIgnoreCase)\s+\{(?P<values>[^}]*)\})"
)


@dataclass(frozen=True)
class Request:
    """A role assignment write (the request's attributes) or delete (the existing one's)."""

    action: str  # write | delete
    role: str  # the role definition's GUID
    principal_id: str
    principal_type: str

    def attributes(self) -> dict[str, str]:
        return {
            f"{ROLE_ASSIGNMENTS}:RoleDefinitionId": self.role,
            f"{ROLE_ASSIGNMENTS}:PrincipalId": self.principal_id,
            f"{ROLE_ASSIGNMENTS}:PrincipalType": self.principal_type,
        }


@dataclass
class _Parser:
    tokens: list[dict[str, str]]
    request: Request
    position: int = field(default=0)

    def peek(self) -> dict[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> dict[str, str]:
        token = self.peek()
        if token is None:
            raise SyntaxError("condition ends early")
        self.position += 1
        return token

    def disjunction(self) -> bool:
        value = self.conjunction()
        while (token := self.peek()) and token.get("op") == "OR":
            self.take()
            value = self.conjunction() or value
        return value

    def conjunction(self) -> bool:
        value = self.unary()
        while (token := self.peek()) and token.get("op") == "AND":
            self.take()
            value = self.unary() and value
        return value

    def unary(self) -> bool:
        token = self.take()
        if token.get("not"):
            return not self.unary()
        if token.get("paren") == "(":
            value = self.disjunction()
            if self.take().get("paren") != ")":
                raise SyntaxError("expected )")
            return value
        if token.get("action"):
            return token["action"] == f"{ROLE_ASSIGNMENTS}/{self.request.action}"
        if token.get("source"):
            expected = "Request" if self.request.action == "write" else "Resource"
            if token["source"] != expected:
                # A write has no existing assignment's attributes, a delete no request's: in
                # the conditions we write, such a term is always guarded away by its action.
                return False
            value = self.request.attributes()[token["attribute"]]
            values = [v.strip().strip("'") for v in token["values"].split(",") if v.strip()]
            return value.lower() in {v.lower() for v in values}
        raise SyntaxError(f"unexpected {token}")


def role_guids(condition: str) -> set[str]:
    """Every role GUID the condition names in a RoleDefinitionId clause, lower-cased."""
    found = re.findall(
        r"RoleDefinitionId\]\s+ForAnyOfAnyValues:GuidEquals\s+\{([^}]*)\}", condition
    )
    return {guid.strip().lower() for clause in found for guid in clause.split(",") if guid.strip()}


def allows(condition: str, request: Request) -> bool:
    tokens, position = [], 0
    while position < len(condition):
        if condition[position:].strip() == "":
            break
        match = _TOKEN.match(condition, position)
        if not match:
            raise SyntaxError(
                f"cannot read the condition at {condition[position : position + 40]!r}"
            )
        tokens.append({k: v for k, v in match.groupdict().items() if v is not None})
        position = match.end()
    parser = _Parser(tokens, request)
    value = parser.disjunction()
    if parser.peek() is not None:
        raise SyntaxError("trailing tokens")
    return value
