"""Violations as a plan prints them: under a `Policies:` heading, as `pulumi preview` does."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Stack, Violation

PACK = "secretless-aks"


def render(violations: Sequence[Violation], stack: Stack, rules_run: int) -> list[str]:
    """One entry per violation: level, rule, resource, then what to change."""
    mandatory = sum(violation.mandatory for violation in violations)
    verdict = (
        f"{mandatory} mandatory, {len(violations) - mandatory} advisory"
        if violations
        else f"all {rules_run} rules pass"
    )
    lines = ["Policies:", f"    {PACK} (offline): {verdict}"]
    for violation in violations:
        resource = stack.by_urn(violation.urn)
        where = f"{resource.type}: {resource.name}" if resource else violation.urn
        lines += [
            f"        - [{violation.level.value}]  {violation.rule}  ({where})",
            f"          {violation.message}",
        ]
    return lines
