"""What a rule sees and says: resources with their inputs, the stack's settings, violations.

Rules run in two places: `pulumi preview`/`up` (the CrossGuard pack, `policy/__main__.py`) and
offline over a recorded or saved plan (`secretless_aks/offline/plan.py`, `python -m
policy.check`). Both hand them the same `Resource`: the type token, the inputs with camelCase
keys as the engine passes them, and two markers no input of the program has, as in a plan
document:

    {"$plan": "unknown"}    a value only Azure knows yet (an id during preview)
    {"$plan": "secret"}     a secret; rules never see its value, so no message can show it

A rule that needs an unknown value passes: it runs again, with the value, at `pulumi up`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

MARKER = "$plan"
PROJECT = "secretless-aks"


class Level(Enum):
    """CrossGuard's enforcement levels: a mandatory violation stops the update."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


def is_unknown(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(MARKER) == "unknown"


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(MARKER) == "secret"


def known(value: Any) -> bool:
    """Present and not waiting on Azure."""
    return value is not None and not is_unknown(value)


def differs(value: Any, expected: bool | str) -> bool:
    """Known (or missing) and not `expected`: an unknown value is judged at `pulumi up`."""
    if is_unknown(value):
        return False
    return value is not expected if isinstance(expected, bool) else value != expected


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    # Input name -> URNs of the resources whose outputs it was built from.
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()

    def get(self, *path: str | int) -> Any:
        """The input at `path`; None when missing, the unknown marker when not known yet."""
        value: Any = self.props
        for step in path:
            if is_unknown(value):
                return value
            if isinstance(step, int):
                if not isinstance(value, Sequence) or isinstance(value, str):
                    return None
                value = value[step] if -len(value) <= step < len(value) else None
            elif isinstance(value, Mapping) and not is_secret(value):
                value = value.get(step)
            else:
                return None
        return value

    def built_from(self, prop: str) -> tuple[str, ...]:
        return self.property_dependencies.get(prop, ())


# How a plan names the deployer the offline harness stands in for a stack that leaves
# `deployers` to CI (secretless_aks/offline/plan_values.py; a test keeps the two equal).
CI_DEPLOYER_IN_PLANS = "<set by CI from DEPLOYER_OBJECT_ID>"
# And the registry's login server CI sets from REGISTRY_LOGIN_SERVER.
CI_REGISTRY_IN_PLANS = "<set by CI from REGISTRY_LOGIN_SERVER>"


@dataclass(frozen=True)
class Settings:
    """What the stack configured that the rules hold the program to.

    Read from the stack's config (`secretless-aks:*`), which Pulumi hands a policy pack in
    PULUMI_CONFIG and the offline plan reads from Pulumi.<stack>.yaml.
    """

    protect: bool = False
    key_vault_public_network_access: str | None = None
    key_vault_allowed_ip_ranges: tuple[str, ...] = ()
    # The application teams' Entra groups and CI deploy identities (appTeams groupObjectId and
    # deployerObjectId), lower-cased: principals the stack names.
    app_team_groups: frozenset[str] = frozenset()
    # The developers group (developers), lower-cased, on an unprotected stack.
    developers: frozenset[str] = frozenset()
    # The services whose secretScope is ["*"]: vault-wide on purpose.
    vault_wide_services: frozenset[str] = frozenset()
    # The principals that run `pulumi up` (deployers), lower-cased; left to CI, the one a plan
    # stands in for it.
    deployers: frozenset[str] = frozenset({CI_DEPLOYER_IN_PLANS.lower()})
    # The platform registry's login server (registry.loginServer): left to CI, the one a plan
    # stands in for it; None when the stack has none.
    registry_login_server: str | None = CI_REGISTRY_IN_PLANS
    # The other registries images may come from (allowedRegistries).
    allowed_registries: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """From config values by full key; a value is JSON text (as in PULUMI_CONFIG) or
        already parsed (as in a stack file). Secure values and other projects' keys are
        ignored; keys the stack leaves out take the program's defaults."""

        def value(key: str) -> Any:
            raw = config.get(f"{PROJECT}:{key}")
            if isinstance(raw, str):
                try:
                    return json.loads(raw)
                except ValueError:
                    return raw
            return raw

        vault = value("keyVault")
        vault = vault if isinstance(vault, Mapping) else {}
        access = vault.get("publicNetworkAccess")
        ranges = vault.get("allowedIpRanges")
        teams = value("appTeams")
        deployers = value("deployers")
        services = value("services")
        registry = value("registry")
        login_server = registry.get("loginServer") if isinstance(registry, Mapping) else None
        if registry is None:  # left to CI
            login_server = CI_REGISTRY_IN_PLANS
        allowed = value("allowedRegistries")
        return cls(
            protect=value("protect") is True,
            key_vault_public_network_access=access if isinstance(access, str) else None,
            key_vault_allowed_ip_ranges=tuple(str(r) for r in ranges)
            if isinstance(ranges, list)
            else (),
            app_team_groups=frozenset(
                team[key].lower()
                for team in (teams if isinstance(teams, list) else ())
                for key in ("groupObjectId", "deployerObjectId")
                if isinstance(team, Mapping) and isinstance(team.get(key), str)
            ),
            developers=frozenset({developers.lower()})
            if isinstance(developers := value("developers"), str) and developers
            else frozenset(),
            vault_wide_services=frozenset(
                str(service.get("name"))
                for service in (services if isinstance(services, list) else ())
                if isinstance(service, Mapping) and service.get("secretScope") == ["*"]
            ),
            deployers=frozenset({CI_DEPLOYER_IN_PLANS.lower()})
            if deployers is None
            else frozenset(
                deployer["objectId"].lower()
                for deployer in (deployers if isinstance(deployers, list) else ())
                if isinstance(deployer, Mapping) and isinstance(deployer.get("objectId"), str)
            ),
            registry_login_server=login_server if isinstance(login_server, str) else None,
            allowed_registries=frozenset(
                str(host) for host in (allowed if isinstance(allowed, list) else ())
            ),
        )


class Stack:
    """Every resource of a stack, with look-ups by URN and type."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.resources = tuple(resources)
        self._by_urn = {resource.urn: resource for resource in self.resources}

    @classmethod
    def from_plan(cls, document: Mapping[str, Any]) -> Stack:
        """From a plan document (`make plan ARGS="--format json"`): the invented values of
        the signed-in account (`{"$plan": "mocked", ...}`) read as the text that names them."""
        return cls(
            Resource(
                urn=entry["urn"],
                type=entry["type"],
                name=entry["name"],
                props=_unmocked(entry.get("inputs", {})),
                protect=bool(entry.get("protect")),
                property_dependencies={
                    key: tuple(urns) for key, urns in entry.get("propertyDependencies", {}).items()
                },
                dependencies=tuple(entry.get("dependencies", ())),
            )
            for entry in document["resources"]
        )

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (resource for resource in self.resources if resource.type in types)

    def by_urn(self, urn: str) -> Resource | None:
        return self._by_urn.get(urn)

    def sources(self, resource: Resource, prop: str, *types: str) -> list[Resource]:
        """The resources of `types` that `resource`'s input `prop` was built from."""
        found = (self._by_urn.get(urn) for urn in resource.built_from(prop))
        return [source for source in found if source is not None and source.type in types]


def _unmocked(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get(MARKER) == "mocked":
            return value["value"]
        return {key: _unmocked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unmocked(item) for item in value]
    return value


ResourceCheck = Callable[[Resource, Settings], Iterable[str]]
StackCheck = Callable[[Stack, Settings], Iterable[tuple[Resource, str]]]


@dataclass(frozen=True)
class Rule:
    """One policy: `check_resource` runs on each resource, `check_stack` once on them all;
    each yields messages that say what to change."""

    name: str
    description: str
    protects_against: str
    level: Level = Level.MANDATORY
    check_resource: ResourceCheck | None = None
    check_stack: StackCheck | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    level: Level
    urn: str
    message: str

    @property
    def mandatory(self) -> bool:
        return self.level is Level.MANDATORY


def evaluate(rules: Iterable[Rule], stack: Stack, settings: Settings) -> list[Violation]:
    """Every rule over every resource, then over the stack: the violations in rule order."""
    violations: list[Violation] = []
    for rule in rules:
        if rule.check_resource is not None:
            for resource in stack.resources:
                violations += (
                    Violation(rule.name, rule.level, resource.urn, message)
                    for message in rule.check_resource(resource, settings)
                )
        if rule.check_stack is not None:
            violations += (
                Violation(rule.name, rule.level, resource.urn, message)
                for resource, message in rule.check_stack(stack, settings)
            )
    return violations


def applies_to(*types: str) -> Callable[[ResourceCheck], ResourceCheck]:
    """A resource check that only runs on resources of `types`."""

    def wrap(check: ResourceCheck) -> ResourceCheck:
        def checked(resource: Resource, settings: Settings) -> Iterable[str]:
            return check(resource, settings) if resource.type in types else ()

        return checked

    return wrap
