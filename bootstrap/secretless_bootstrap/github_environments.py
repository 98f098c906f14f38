"""The repository's GitHub environments as bootstrap resources (bootstrap:github.manage)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_github as github_provider

from secretless_bootstrap import github


@dataclass(frozen=True)
class GitHubEnvironmentsArgs:
    repository: github.Repository
    rules: Mapping[str, github.EnvironmentRules]
    # Per environment, each of github.VARIABLES.
    variables: Mapping[str, Mapping[str, pulumi.Input[str]]]
    pr_previews: Sequence[Mapping[str, str]]
    # The repository's own: github.BUILD_VARIABLES.
    build: Mapping[str, pulumi.Input[str]]


class GitHubEnvironments(pulumi.ComponentResource):
    """Each environment with its reviewers, branch policy and variables, and the repository's
    list of pull-request previews, through pulumi-github.

    The provider takes its token from the person's environment (GITHUB_TOKEN, for instance from
    `gh auth token`), never from config: it needs administration rights on the repository.
    """

    def __init__(
        self, name: str, args: GitHubEnvironmentsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("secretless-aks:bootstrap:GitHubEnvironments", name, None, opts)
        provider = github_provider.Provider(
            f"{name}-provider",
            owner=args.repository.owner,
            opts=pulumi.ResourceOptions(parent=self),
        )
        within = pulumi.ResourceOptions(parent=self, provider=provider)
        repository = args.repository.name
        for environment, rules in args.rules.items():
            settings = github_provider.RepositoryEnvironment(
                f"{name}-{environment}",
                repository=repository,
                environment=environment,
                reviewers=[
                    github_provider.RepositoryEnvironmentReviewerArgs(
                        users=[id_ for kind, id_ in rules.reviewers if kind == "User"],
                        teams=[id_ for kind, id_ in rules.reviewers if kind == "Team"],
                    )
                ]
                if rules.reviewers
                else None,
                # Whoever pushed a change may not approve its deploy.
                prevent_self_review=bool(rules.reviewers),
                deployment_branch_policy=github_provider.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                    protected_branches=False, custom_branch_policies=True
                )
                if rules.branch
                else None,
                opts=within,
            )
            if rules.branch:
                github_provider.RepositoryEnvironmentDeploymentPolicy(
                    f"{name}-{environment}-{rules.branch}",
                    repository=repository,
                    environment=settings.environment,
                    branch_pattern=rules.branch,
                    opts=within,
                )
            for variable in github.VARIABLES:
                github_provider.ActionsEnvironmentVariable(
                    f"{name}-{environment}-{variable}",
                    repository=repository,
                    environment=settings.environment,
                    variable_name=variable,
                    value=args.variables[environment][variable],
                    opts=within,
                )
        repository_variables: dict[str, pulumi.Input[str]] = {
            github.PR_PREVIEWS_VARIABLE: json.dumps(list(args.pr_previews)),
            **{variable: args.build[variable] for variable in github.BUILD_VARIABLES},
        }
        for variable, value in repository_variables.items():
            github_provider.ActionsVariable(
                f"{name}-{variable}",
                repository=repository,
                variable_name=variable,
                value=value,
                opts=within,
            )
        self.register_outputs({})
