"""The secretless-aks policy pack's rules, with no dependency on the Pulumi policy SDK.

`RULES` is every rule in the order docs/policy.md's table lists them; `evaluate` runs them over a
`Stack`. The pack (`policy/__main__.py`) hands them to CrossGuard; the offline plan and
`python -m policy.check` run them over a recorded or saved plan.
"""

from __future__ import annotations

from . import (
    cluster,
    credentials,
    data_access,
    federation,
    key_vault,
    kubernetes,
    monitoring,
    registry,
    role_assignments,
)
from .model import Level, Resource, Rule, Settings, Stack, Violation, evaluate

RULES: tuple[Rule, ...] = (
    *key_vault.RULES,
    *cluster.RULES,
    *role_assignments.RULES,
    *data_access.RULES,
    *federation.RULES,
    *kubernetes.RULES,
    *credentials.RULES,
    *registry.RULES,
    *monitoring.RULES,
)

__all__ = ["RULES", "Level", "Resource", "Rule", "Settings", "Stack", "Violation", "evaluate"]
