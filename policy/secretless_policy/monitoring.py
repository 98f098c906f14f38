"""Audit logs: a protected stack keeps the vault's and the cluster's, which say who read what."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .cluster import CLUSTER
from .key_vault import VAULT
from .model import Resource, Rule, Settings, Stack
from .sources import MONITORING_WORDS

DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
# What each kind of resource must send, by its diagnostic log categories.
REQUIRED_LOGS = {VAULT: ("AuditEvent",), CLUSTER: ("kube-audit-admin", "guard")}


def _audit_logs_kept(stack: Stack, settings: Settings) -> Iterator[tuple[Resource, str]]:
    if not settings.protect:
        return
    sent = {
        str(log.get("category"))
        for setting in stack.of_type(DIAGNOSTIC_SETTING)
        for log in setting.get("logs") or ()
        if isinstance(log, Mapping) and log.get("enabled") is True
    }
    for kind, categories in REQUIRED_LOGS.items():
        missing = [category for category in categories if category not in sent]
        for resource in stack.of_type(kind) if missing else ():
            yield (
                resource,
                f"send {', '.join(missing)} to a Log Analytics workspace with a diagnostic "
                f"setting (secretless-aks:monitoring): {MONITORING_WORDS}",
            )


RULES = (
    Rule(
        "audit-logs-kept",
        "A protected stack sends the vault's AuditEvent and the cluster's kube-audit-admin and "
        "guard logs to a workspace.",
        "secret reads and cluster changes nobody can attribute after the fact",
        check_stack=_audit_logs_kept,
    ),
)
