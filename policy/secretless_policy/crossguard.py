"""The rules as CrossGuard policies: the one module that imports the Pulumi policy SDK.

`policies(RULES)` gives CrossGuard each rule under its own name, description and enforcement
level. The SDK's arguments become the plain `Resource`s and `Stack` the rules read offline too
(dicts and lists, dependencies as URNs, `protect` from the options), and the settings come from
the stack's own config, which the engine hands the pack process in PULUMI_CONFIG. So the pack
needs no `--policy-pack-config`.

Only `policy/__main__.py` imports this module, inside the pack's own environment (policy/venv);
it is also the only one to call `keep_markers`, which changes the SDK for the whole process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
    deserialize,
    proxy,
)
from pulumi_policy import policy as sdk_policy

from .model import MARKER, Level, Resource, ResourceCheck, Rule, Settings, Stack, StackCheck

ENFORCEMENT_LEVELS = {
    Level.MANDATORY: EnforcementLevel.MANDATORY,
    Level.ADVISORY: EnforcementLevel.ADVISORY,
}
# What the engine sends for a value it does not know yet (KeepUnknowns), one per kind.
UNKNOWN_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
    }
)


def policies(rules: Iterable[Rule]) -> list[Policy]:
    """One CrossGuard policy per rule: a resource policy for `check_resource`, a stack policy
    for `check_stack`."""
    return [_policy(rule) for rule in rules]


def keep_markers() -> None:
    """Hands the rules `{"$plan": "secret"}` and `{"$plan": "unknown"}`, as a plan document
    does, for the engine's secrets and unknowns (it sends inputs with KeepSecrets, KeepUnknowns).

    Why: pulumi-policy's Analyze and AnalyzeStack deserialize inputs with proxy_secrets=False,
    which drops the secret wrapper (a rule could not tell a Pulumi secret from plain text, and
    would see its value), then wrap them so that reading an unknown sentinel raises
    UnknownValueError, which skips the whole policy for that resource with a "can't run policy"
    advisory. Both go through `pulumi_policy.policy.deserialize_properties`, a module-level name:
    this replaces it with one that marks both first, so no secret value goes further. It reaches
    into the SDK's internals, which is why policy/pyproject.toml pins pulumi-policy exactly.
    """

    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        return deserialize.deserialize_properties(_marked(props), proxy_secrets)

    sdk_policy.deserialize_properties = deserialize_properties  # pyright: ignore[reportPrivateImportUsage]


def stack_settings() -> Settings:
    """The settings of the stack being previewed or updated: the engine starts the pack with
    the stack's config in PULUMI_CONFIG (secrets decrypted; Settings reads none of them)."""
    return Settings.from_config(pulumi.runtime.get_config_env())


def _policy(rule: Rule) -> Policy:
    level = ENFORCEMENT_LEVELS[rule.level]
    if rule.check_resource is not None and rule.check_stack is None:
        return ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=_validate_resource(rule.check_resource),
            enforcement_level=level,
        )
    if rule.check_stack is not None and rule.check_resource is None:
        return StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=_validate_stack(rule.check_stack),
            enforcement_level=level,
        )
    raise ValueError(f"rule {rule.name}: give it exactly one of check_resource and check_stack")


def _validate_resource(check: ResourceCheck) -> ResourceValidation:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(
            urn=args.urn,
            type=args.resource_type,
            name=args.name,
            props=_plain(args.props),
            protect=bool(args.opts.protect),
        )
        for message in check(resource, stack_settings()):
            report_violation(message, resource.urn)

    return validate


def _validate_stack(check: StackCheck) -> StackValidation:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = Stack(_stack_resource(resource) for resource in args.resources)
        for resource, message in check(stack, stack_settings()):
            report_violation(message, resource.urn)

    return validate


def _stack_resource(resource: PolicyResource) -> Resource:
    return Resource(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        props=_plain(resource.props),
        protect=bool(resource.opts.protect),
        property_dependencies={
            prop: tuple(source.urn for source in sources)
            for prop, sources in resource.property_dependencies.items()
        },
        dependencies=tuple(dependency.urn for dependency in resource.dependencies),
    )


def _marked(value: Any) -> Any:
    """The engine's wire form with secrets and unknowns as the plan's markers."""
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return {MARKER: "unknown"}
    if isinstance(value, list):
        return [_marked(item) for item in value]
    if isinstance(value, dict):
        if value.get(deserialize.SPECIAL_SIG_KEY) == deserialize.SPECIAL_SECRET_SIG:
            return {MARKER: "secret"}
        return {key: _marked(item) for key, item in value.items()}
    return value


def _plain(value: Any) -> Any:
    """The SDK's read-only proxies as the dicts and lists the rules take."""
    if isinstance(value, Mapping):
        return {str(key): _plain(value[key]) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value
