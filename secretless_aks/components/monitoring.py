"""Who read what, kept: the vault's audit log (AuditEvent, every secret read with its caller)
and the cluster's (kube-audit-admin, guard: the API server's writes and Entra ID sign-ins) go
to a Log Analytics workspace, into resource-specific tables (AZKVAuditLogs, ...), which
docs/audit/secret-reads.kql reads. Each service has an identity of its own, so each read is
attributed to one service.

The workspace is the stack's own (`log-secretless-<stack>`, protected with the stack) or an
existing one. A diagnostic setting needs a right on its destination too: an existing workspace
in another subscription is out of the deploy identity's reach, and the plan says what an Owner
grants there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor, operationalinsights

from secretless_aks.components.config.models import CreateWorkspaceConfig
from secretless_aks.components.naming import EnvironmentNames
from secretless_aks.components.roles import subscription_of

# What each resource sends (its diagnostic log categories).
VAULT_LOGS = ("AuditEvent",)
CLUSTER_LOGS = ("kube-audit-admin", "guard")
SETTING_NAME = "audit-to-log-analytics"
# Resource-specific tables (AZKVAuditLogs, AKSAuditAdmin, ...) rather than AzureDiagnostics.
DEDICATED = "Dedicated"


@dataclass(frozen=True)
class MonitoringArgs:
    # A workspace to create, or an existing one's id.
    target: CreateWorkspaceConfig | str
    names: EnvironmentNames
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    vault_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    protect: bool = False


class Monitoring(pulumi.ComponentResource):
    workspace_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:monitoring:Monitoring", name, None, opts)
        if isinstance(args.target, CreateWorkspaceConfig):
            workspace = operationalinsights.Workspace(
                f"{name}-workspace",
                workspace_name=f"log-secretless-{args.names.stack}",
                resource_group_name=args.resource_group_name,
                location=args.location,
                sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
                retention_in_days=args.target.retention_days,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            self.workspace_id = workspace.id
        else:
            existing = args.target
            pulumi.Output.from_input(args.subscription_id).apply(
                lambda subscription: _warn_elsewhere(existing, subscription)
            )
            self.workspace_id = pulumi.Output.from_input(existing)
        for source, resource_uri, categories in (
            ("vault", args.vault_id, VAULT_LOGS),
            ("cluster", args.cluster_id, CLUSTER_LOGS),
        ):
            monitor.DiagnosticSetting(
                f"{name}-{source}",
                name=SETTING_NAME,
                resource_uri=resource_uri,
                workspace_id=self.workspace_id,
                log_analytics_destination_type=DEDICATED,
                logs=[
                    monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                    for category in categories
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"workspace_id": self.workspace_id})


def _warn_elsewhere(workspace_id: str, subscription: str) -> None:
    if subscription_of(workspace_id).lower() == subscription.lower():
        return
    pulumi.log.warn(
        f"secretless-aks:monitoring.workspaceId {workspace_id} is in another subscription than "
        f"the environment's ({subscription}): a diagnostic setting needs a right on its "
        "workspace, which the environment's deploy identity holds in its own subscription "
        "only. An Owner of the workspace's grants it once: az role assignment create --role "
        "'Log Analytics Contributor' --assignee-object-id <the deploy identity's "
        f"DEPLOYER_OBJECT_ID> --assignee-principal-type ServicePrincipal --scope {workspace_id}"
    )
