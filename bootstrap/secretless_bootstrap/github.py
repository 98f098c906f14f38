"""What GitHub Actions sends and reads: the OIDC token's issuer and subject, the repository
variables the workflows use, and the `gh` commands that set them.

Subjects (https://docs.github.com/actions/reference/security/oidc, with GitHub's default
subject template): a job that names an environment gets `repo:<owner>/<repo>:environment:<name>`
whatever triggered it; `repo:<owner>/<repo>:pull_request` is sent "only if the job doesn't
reference an environment". Every job here names one (deploy.yml: dev and production;
pr-plan.yml's preview job: preview), so every credential trusts one environment: the
environment's protection rules (required reviewers, deployment branches) then guard the
identity too. An organization or repository that customizes its subject template (e.g. to add
`repository_id`) needs the subjects changed to match.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

ISSUER = "https://token.actions.githubusercontent.com"

# The variables each GitHub environment needs, in the order `gh` commands set them: the
# identity azure/login signs in as, where it is, and where Pulumi keeps state and its key.
VARIABLES = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "PULUMI_BACKEND_URL",
    "PULUMI_SECRETS_PROVIDER",
)


def subject(repository: str, environment: str) -> str:
    """The `sub` claim of a job in `environment` of `repository` (case-sensitive in Entra)."""
    return f"repo:{repository}:environment:{environment}"


def gh_commands(repository: str, variables: Mapping[str, Mapping[str, str]]) -> str:
    """One `gh variable set` line per environment and variable, ready to paste or pipe to sh."""
    return "\n".join(
        f"gh variable set {name} --env {shlex.quote(environment)} "
        f"--body {shlex.quote(values[name])} --repo {shlex.quote(repository)}"
        for environment, values in variables.items()
        for name in VARIABLES
    )
