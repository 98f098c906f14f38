"""What GitHub Actions sends and reads: the OIDC token's issuer and subject, the environments
the workflows run in with their protection rules and variables, and the `gh` commands that
set them up where bootstrap does not manage them itself.

Subjects (https://docs.github.com/actions/reference/security/oidc, with GitHub's default
subject template): a job that names an environment gets `...:environment:<name>` whatever
triggered it; `...:pull_request` is sent "only if the job doesn't reference an environment".
Every job here names one (deploy.yml: dev and production; pr-plan.yml's previews:
preview-<environment>), so every credential trusts one environment, whose protection rules
(required reviewers, deployment branches) then guard the identity too.

Repositories created, renamed or transferred on or after 2026-07-15 send the immutable form,
`repo:<owner>@<ownerId>/<repo>@<repoId>:environment:<name>`; older ones keep the name form
`repo:<owner>/<repo>:environment:<name>` until an admin opts in (GitHub's OIDC reference,
"Immutable subject claims"; Microsoft Learn, "Migrate GitHub Actions federated credentials to
immutable subjects"). A credential trusting one form never matches the other.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secretless_bootstrap.naming import preview_environment

ISSUER = "https://token.actions.githubusercontent.com"

# The variables each GitHub environment needs, in the order `gh` commands set them: the
# identity azure/login signs in as, where it is, where Pulumi keeps the stack's state and its
# key, the deploy identity the platform names as its deployer (secretless-aks:deployers), the
# registry, the application teams' CI identities ({team: object id}, which the platform
# names as appTeams[].deployerObjectId), and where the stack publishes its contract
# (secretless-aks:publishContractTo).
VARIABLES = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "PULUMI_BACKEND_URL",
    "PULUMI_SECRETS_PROVIDER",
    "DEPLOYER_OBJECT_ID",
    "REGISTRY_ID",
    "REGISTRY_LOGIN_SERVER",
    "TEAM_DEPLOYERS",
    "PLATFORM_CONTRACT_URL",
)
# The repository's own variables, for the image build (build.yml), which runs in no
# environment: the build identity, where it signs in, and the registry it builds into.
BUILD_VARIABLES = (
    "BUILD_CLIENT_ID",
    "BUILD_TENANT_ID",
    "BUILD_SUBSCRIPTION_ID",
    "REGISTRY_LOGIN_SERVER",
)
# The repository variable pr-plan.yml's preview matrix reads: a JSON list of
# {stack, environment} for the stacks a pull request previews with Azure.
PR_PREVIEWS_VARIABLE = "PR_PREVIEWS"
# Deploys run from main only.
DEPLOY_BRANCH = "main"


@dataclass(frozen=True)
class Repository:
    """A repository as its tokens name it."""

    owner: str
    name: str
    owner_id: int
    repository_id: int
    subject_format: str  # "immutable" or "name"

    @classmethod
    def parse(
        cls, full_name: str, owner_id: int, repository_id: int, subject_format: str
    ) -> Repository:
        owner, _, name = full_name.partition("/")
        return cls(owner, name, owner_id, repository_id, subject_format)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def subject(self, claim: str) -> str:
        """The `sub` claim of a job: `environment:<name>` for one in an environment, `ref:<ref>`
        for one without (compared case-sensitively by Entra)."""
        if self.subject_format == "immutable":
            repository = f"{self.owner}@{self.owner_id}/{self.name}@{self.repository_id}"
        else:
            repository = self.full_name
        return f"repo:{repository}:{claim}"


@dataclass(frozen=True)
class EnvironmentRules:
    """A GitHub environment's protection: who must approve a job, and which branches may run
    one (None: every branch and pull request)."""

    reviewers: tuple[tuple[str, int], ...] = ()  # (User | Team, id)
    branch: str | None = None

    def api_body(self) -> dict[str, Any]:
        """The body of GitHub's "Create or update an environment"."""
        return {
            "reviewers": [{"type": kind, "id": id_} for kind, id_ in self.reviewers] or None,
            "deployment_branch_policy": (
                {"protected_branches": False, "custom_branch_policies": True}
                if self.branch
                else None
            ),
        }


def environment_rules(
    environment: str, *, protected: bool, reviewers: Sequence[tuple[str, int]]
) -> dict[str, EnvironmentRules]:
    """The deploy environment's rules and its preview environment's.

    Deploys run from main only, approved by the reviewers where the environment is protected.
    Previews of an unprotected environment run for any branch: its identity reads that
    environment's state and secrets only. A protected environment's previews wait for a
    reviewer, or, with none configured, run only on main: a pull request's job runs with
    GITHUB_REF refs/pull/<n>/merge, which a `main` branch policy refuses (GitHub docs,
    "Deployment branches and tags"), so pull requests get the offline plan instead.
    """
    approvers = tuple(reviewers) if protected else ()
    preview = (
        EnvironmentRules()
        if not protected
        else EnvironmentRules(reviewers=approvers)
        if approvers
        else EnvironmentRules(branch=DEPLOY_BRANCH)
    )
    return {
        environment: EnvironmentRules(reviewers=approvers, branch=DEPLOY_BRANCH),
        preview_environment(environment): preview,
    }


def previews_pull_requests(rules: EnvironmentRules) -> bool:
    """Whether a pull request's job may run in an environment with these rules."""
    return rules.branch is None


def gh_commands(
    repository: str,
    rules: Mapping[str, EnvironmentRules],
    variables: Mapping[str, Mapping[str, str]],
    pr_previews: Sequence[Mapping[str, str]],
    build: Mapping[str, str],
) -> str:
    """The `gh` commands that make each environment, its branch policy and its variables,
    and the repository's preview list: ready to paste or pipe to sh."""
    quoted = shlex.quote(repository)
    lines = []
    for environment, rule in rules.items():
        path = shlex.quote(f"repos/{repository}/environments/{environment}")
        body = shlex.quote(json.dumps(rule.api_body()))
        lines.append(f"echo {body} | gh api --method PUT {path} --input -")
        if rule.branch:
            lines.append(
                f"gh api --method POST {path}/deployment-branch-policies "
                f"-f name={shlex.quote(rule.branch)} -f type=branch"
            )
        lines += [
            f"gh variable set {name} --env {shlex.quote(environment)} "
            f"--body {shlex.quote(variables[environment][name])} --repo {quoted}"
            for name in VARIABLES
        ]
    lines.append(
        f"gh variable set {PR_PREVIEWS_VARIABLE} "
        f"--body {shlex.quote(json.dumps(list(pr_previews)))} --repo {quoted}"
    )
    lines += [
        f"gh variable set {name} --body {shlex.quote(build[name])} --repo {quoted}"
        for name in BUILD_VARIABLES
    ]
    return "\n".join(lines)
