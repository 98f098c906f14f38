"""Who read what, kept (`secretless-aks:monitoring`): a protected stack sends the vault's
AuditEvent and the cluster's kube-audit-admin and guard logs to a workspace, into resource-
specific tables; an unprotected one keeps none unless asked, and the plan says so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from secretless_aks.components.config import ConfigError
from secretless_aks.offline.harness import ProgramFailedError, RecordedGraph, run_program
from secretless_aks.offline.mocks import MOCK_SUBSCRIPTION_ID
from secretless_aks.offline.warnings import plan_warnings
from tests.stack_configs import stack_config

WORKSPACE = "azure-native:operationalinsights:Workspace"
SETTING = "azure-native:monitor:DiagnosticSetting"
EXISTING = (
    f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-monitoring/providers/"
    "Microsoft.OperationalInsights/workspaces/log-central"
)


def settings(graph: RecordedGraph) -> dict[str, Mapping[str, Any]]:
    return {r.name: r.inputs for r in graph.by_type(SETTING)}


def test_prod_keeps_the_vaults_and_the_clusters_audit_logs_in_its_own_workspace(
    prod: RecordedGraph,
) -> None:
    (workspace,) = prod.by_type(WORKSPACE)
    assert workspace.inputs["workspaceName"] == "log-secretless-prod"
    assert workspace.inputs["retentionInDays"] == 90
    assert workspace.inputs["sku"] == {"name": "PerGB2018"}
    assert workspace.protect
    found = settings(prod)
    vault = prod.by_type("azure-native:keyvault:Vault")[0].outputs["id"]
    cluster = prod.named("cluster-aks").outputs["id"]
    assert found["monitoring-vault"]["resourceUri"] == vault
    assert found["monitoring-vault"]["logs"] == [{"category": "AuditEvent", "enabled": True}]
    assert found["monitoring-cluster"]["resourceUri"] == cluster
    assert found["monitoring-cluster"]["logs"] == [
        {"category": "kube-audit-admin", "enabled": True},
        {"category": "guard", "enabled": True},
    ]
    for setting in found.values():
        assert setting["workspaceId"] == workspace.outputs["id"]
        # Resource-specific tables (AZKVAuditLogs, ...), which the audit query reads.
        assert setting["logAnalyticsDestinationType"] == "Dedicated"


def test_an_existing_workspace_gets_the_logs_and_none_is_created() -> None:
    graph = run_program("prod", config=stack_config("prod", monitoring={"workspaceId": EXISTING}))
    assert graph.by_type(WORKSPACE) == []
    assert {s["workspaceId"] for s in settings(graph).values()} == {EXISTING}
    assert graph.warnings == []


def test_an_existing_workspace_elsewhere_warns_with_the_owners_grant() -> None:
    elsewhere = EXISTING.replace(MOCK_SUBSCRIPTION_ID, "22222222-3333-4444-5555-666666666666")
    graph = run_program("prod", config=stack_config("prod", monitoring={"workspaceId": elsewhere}))
    (warning,) = graph.warnings
    assert warning.startswith(f"secretless-aks:monitoring.workspaceId {elsewhere} is in another")
    assert "--role 'Log Analytics Contributor'" in warning and f"--scope {elsewhere}" in warning


def test_dev_keeps_none_and_the_plan_says_monitoring_is_off(dev: RecordedGraph) -> None:
    assert dev.by_type(WORKSPACE) == [] and dev.by_type(SETTING) == []
    assert [w for w in plan_warnings(stack_config()) if w.startswith("monitoring is off")]
    created = run_program("dev", config=stack_config(monitoring={"create": {"retentionDays": 30}}))
    assert created.by_type(WORKSPACE)[0].inputs["retentionInDays"] == 30
    assert not [w for w in plan_warnings(stack_config(monitoring={"create": {}})) if "off" in w]


@pytest.mark.parametrize(
    ("stack", "monitoring", "problem"),
    [
        (
            "prod",
            {"off": True},
            "secretless-aks:monitoring.off: must stay false: a protected stack keeps the "
            "vault's and the cluster's audit logs, which say who read what",
        ),
        (
            "dev",
            {"off": True, "create": {}},
            "secretless-aks:monitoring.create: choose one of off, workspaceId and create, not "
            "['off', 'create']",
        ),
    ],
)
def test_what_monitoring_refuses(stack: str, monitoring: dict, problem: str) -> None:
    with pytest.raises(ProgramFailedError) as failed:
        run_program(stack, config=stack_config(stack, monitoring=monitoring))
    assert isinstance(failed.value.error, ConfigError)
    assert f"  - {problem}" in str(failed.value.error).splitlines()
