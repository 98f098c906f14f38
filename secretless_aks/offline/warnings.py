"""What a reviewer should know about a stack file that the program accepts: the plan prints
these as warnings (and the pull-request comment carries them). What the planned graph itself
breaks, the policy pack reports (policy/).

Read from the stack file as written, not through the components (see harness.py): `--against`
and the comment run this module on other revisions' stack files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from secretless_aks.components.config.models import MonitoringConfig
from secretless_aks.components.config_secrets import config_leaves
from secretless_aks.components.secret_names import CONFIG_DELIMITER, VAULT_DELIMITER
from secretless_aks.offline.harness import OFFLINE_STAND_IN, offline_stand_ins

SERVICES_KEY = "secretless-aks:services"
SECRETS_KEY = "secretless-aks:secrets"
GENERATED_SECRETS_KEY = "secretless-aks:generatedSecrets"
APP_TEAMS_KEY = "secretless-aks:appTeams"
POD_IDENTITY_BINDINGS = ("podIdentity", "both")


NO_IMAGE_YET = "@sha256:" + "0" * 64


def plan_warnings(stack_config: Mapping[str, Any]) -> list[str]:
    return [
        *_stand_ins(stack_config),
        *_service_warnings(stack_config),
        *_team_warnings(stack_config),
        *_monitoring_warnings(stack_config),
    ]


def _monitoring_warnings(stack_config: Mapping[str, Any]) -> list[str]:
    """Monitoring off (the default on an unprotected stack): no record of who read what."""
    if not any(key.startswith("secretless-aks:") for key in stack_config):
        return []  # another project's stack (bootstrap's)
    try:
        monitoring = MonitoringConfig.model_validate(
            stack_config.get("secretless-aks:monitoring") or {}
        )
    except ValidationError:
        return []  # the run reports it, naming the key
    if monitoring.target(stack_config.get("secretless-aks:protect") is True) is None:
        return [
            "monitoring is off: the vault's and the cluster's audit logs are kept nowhere, so no "
            "one can tell which service read which secret (secretless-aks:monitoring; "
            "docs/audit/secret-reads.kql)"
        ]
    return []


def _stand_ins(stack_config: Mapping[str, Any]) -> list[str]:
    return [
        f"{path} holds {OFFLINE_STAND_IN}, a stand-in for the offline plan that `pulumi up` "
        "cannot decrypt; this stack file is never deployable until you run "
        f"`pulumi config set --secret --path '{path}' <value>`"
        for path in offline_stand_ins(stack_config)
    ]


def _service_warnings(stack_config: Mapping[str, Any]) -> list[str]:
    services = stack_config.get(SERVICES_KEY)
    if not isinstance(services, list):
        return []
    # Images pinned by tag are the policy pack's advisory image-pinned-by-digest.
    warnings = [
        f"{SERVICES_KEY}[{index}] ({service.get('name')}) uses AAD Pod Identity: archived since "
        "2023 with no release, its NMI runs with host networking on every node; move it to "
        "workloadIdentity (docs/security.md: moving a service from pod identity)"
        for index, service in enumerate(services)
        if isinstance(service, dict) and service.get("binding") in POD_IDENTITY_BINDINGS
    ]
    # Left out, secretScope means every secret in the vault: say so where nobody wrote it.
    warnings += [
        f"{SERVICES_KEY}[{index}] ({service.get('name')}) sets no secretScope, so its identity "
        "reads every secret in the vault; name the secrets it reads, or write "
        'secretScope: ["*"] to say vault-wide on purpose'
        for index, service in enumerate(services)
        if isinstance(service, dict)
        and "secretScope" not in service
        and service.get("keyVaultRole", "secretsUser") != "none"
    ]
    # The committed dev file's digest until the first build's pull request: no such image.
    warnings += [
        f"{SERVICES_KEY}[{index}] ({service.get('name')}) names no image yet (its digest is all "
        "zeros): run the build workflow and merge the pull request it opens before this stack "
        "deploys, or its pods stay in ImagePullBackOff (docs/ci-and-bootstrap.md, Images)"
        for index, service in enumerate(services)
        if isinstance(service, dict) and str(service.get("image", "")).endswith(NO_IMAGE_YET)
    ]
    seeded = _seeded_names(stack_config)
    warnings += [
        f"{SERVICES_KEY}[{index}] ({service.get('name')}) secretScope names {name}, which this "
        "stack does not seed: it must already be in the vault (Azure refuses a role on a "
        "secret that does not exist), put there some other way, or the grant fails and the "
        "app gets 403"
        for index, service in enumerate(services)
        if isinstance(service, dict) and isinstance(service.get("secretScope"), list)
        for name in service["secretScope"]
        if name != "*" and str(name).lower() not in seeded
    ]
    return warnings


def _seeded_names(stack_config: Mapping[str, Any]) -> set[str]:
    """The secret names (lower-cased) this stack seeds: `secrets` paths (a key may hold `:`
    itself) and generated ones."""
    paths = [
        str(g.get("path"))
        for g in stack_config.get(GENERATED_SECRETS_KEY) or []
        if isinstance(g, dict)
    ]
    secrets = stack_config.get(SECRETS_KEY)
    if isinstance(secrets, dict):
        paths += [CONFIG_DELIMITER.join(trail) for trail, _ in config_leaves(secrets)]
    return {VAULT_DELIMITER.join(path.split(CONFIG_DELIMITER)).lower() for path in paths}


def _team_warnings(stack_config: Mapping[str, Any]) -> list[str]:
    teams = stack_config.get(APP_TEAMS_KEY)
    if not isinstance(teams, list):
        return []
    # The platform cannot see bootstrap's config; the deploy identity's condition names the
    # groups it may make RBAC Administrators, and refuses any other in Azure.
    return [
        f"{APP_TEAMS_KEY}[{index}] ({team.get('name')}) sets platformVaultSecrets: CI's deploy "
        f"identity may make group {team.get('groupObjectId')} a Role Based Access Control "
        "Administrator only once bootstrap:appTeams lists the team, with this group, for this "
        "stack's environment (an Owner runs the bootstrap again); until then pulumi up fails "
        "with AuthorizationFailed"
        for index, team in enumerate(teams)
        if isinstance(team, dict) and team.get("platformVaultSecrets")
    ]
