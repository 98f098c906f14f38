"""The bootstrap's configuration: a handful of keys, read once, validated completely, frozen.

The management subscription (`subscriptionId`) holds the bootstrap's own resources; each GitHub
environment (`environments`) deploys one platform stack into a subscription of its own. What
the program accepts but a reviewer should hear about (environments sharing a subscription, a
protected environment nobody has to approve) comes back as warnings, which the program logs.

Like the platform's (`secretless_aks/components/config`), every problem is found before a
resource is declared and all are reported together, each naming its key as the stack file
spells it; unlike it, nothing here is secret, so an encrypted value is refused outright.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

import pulumi
import pulumi.runtime.config
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from secretless_aks.components import azure_limits, roles
from secretless_aks.components.azure_limits import NameLimit
from secretless_aks.components.config import STACK_NAME_LENGTH, STACK_NAME_PATTERN, ConfigError
from secretless_aks.components.config.models import TeamName
from secretless_aks.components.config.problems import misspelled_namespace
from secretless_aks.components.naming import EnvironmentNames
from secretless_bootstrap import naming

PROJECT = "bootstrap"
LOCATION_KEY = "azure-native:location"

# GitHub's rules for names (its sign-up and new-repository forms): an owner (user or
# organization) is 1-39 letters, digits and single hyphens, neither first nor last; a
# repository 1-100 letters, digits, '.', '-' and '_', but not '.' or '..'.
GITHUB_OWNER = NameLimit(
    "owner",
    1,
    39,
    r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*",
    "letters, digits and single hyphens, not starting or ending with a hyphen",
)
GITHUB_REPOSITORY = NameLimit(
    "repository name",
    1,
    100,
    r"(?!\.\.?$)[A-Za-z0-9._-]+",
    "letters, digits, '.', '-' and '_' (and not '.' or '..')",
)
# GitHub allows nearly any environment name of up to 255 characters ("Managing environments
# for deployment"); here it also names federated credentials (`github-<environment>` and
# `github-preview-<environment>`), so it takes that name's rule and the room Azure's 120
# characters leave.
GITHUB_ENVIRONMENT = NameLimit(
    "GitHub environment name",
    1,
    azure_limits.FEDERATED_CREDENTIAL.max_length
    - len(naming.federated_credential(naming.preview_environment(""))),
    r"[A-Za-z0-9][A-Za-z0-9_-]*",
    "letters, digits, '-' and '_', starting with a letter or digit",
)
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _guid(what: str, look_up: str) -> Callable[[str], str]:
    """A check that a value is a GUID, `what` (found with the command `look_up`), lower-cased."""

    def check(value: str) -> str:
        if not _GUID.fullmatch(value):
            raise ValueError(f"expected {what}, a GUID ({look_up}), found {value!r}")
        return value.lower()

    return check


def _location(value: str) -> str:
    limit = azure_limits.LOCATION
    if limit.check(value) is not None:
        raise ValueError(
            f"expected an Azure region: {limit.min_length}-{limit.max_length} {limit.rule}, "
            f"found {value!r}"
        )
    return value


def _github_repository(value: str) -> str:
    owner, slash, name = value.partition("/")
    if not slash or "/" in name:
        raise ValueError(
            "expected <owner>/<repository> exactly as GitHub spells it (e.g. "
            f"contoso/secretless-aks), found {value!r}"
        )
    for limit, part in ((GITHUB_OWNER, owner), (GITHUB_REPOSITORY, name)):
        if limit.check(part) is not None:
            raise ValueError(
                f"{limit.what} {part!r} must be {limit.min_length}-{limit.max_length} {limit.rule}"
            )
    return value


def _github_environment(value: str) -> str:
    limit = GITHUB_ENVIRONMENT
    if limit.check(value) is not None:
        raise ValueError(
            f"expected a {limit.what} of {limit.min_length}-{limit.max_length} {limit.rule}, "
            f"found {value!r}"
        )
    return value


def _stack(value: str) -> str:
    shortest, longest = STACK_NAME_LENGTH
    if not (shortest <= len(value) <= longest and re.fullmatch(STACK_NAME_PATTERN, value)):
        raise ValueError(
            f"stack name {value!r} cannot name Azure resources: use {shortest}-{longest} "
            "lowercase letters, digits and hyphens, starting with a letter and not ending "
            "with a hyphen"
        )
    return value


# Numbers as numbers: no "123", no true, no 1.0.
GitHubId = Annotated[StrictInt, Field(gt=0)]
SubscriptionId = Annotated[
    str, AfterValidator(_guid("a subscription id", "az account show --query id -o tsv"))
]
Location = Annotated[str, AfterValidator(_location)]
GitHubRepository = Annotated[str, AfterValidator(_github_repository)]
GitHubEnvironment = Annotated[str, AfterValidator(_github_environment)]
StackName = Annotated[str, AfterValidator(_stack)]
GroupObjectId = Annotated[
    str,
    AfterValidator(
        _guid("an Entra group's object id", "az ad group show -g <group> --query id -o tsv")
    ),
]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel)


class EnvironmentConfig(_Settings):
    """One GitHub environment: the platform stack its deploy job runs, and where."""

    stack: StackName
    # The environment's own subscription: its deploy identity holds Contributor and RBAC
    # Administrator here and nowhere else. Never the management subscription.
    subscription_id: SubscriptionId
    # The platform stack's cluster.adminGroupObjectIds: the deploy identity may make them AKS
    # RBAC Cluster Admin (its condition names them).
    admin_group_object_ids: tuple[GroupObjectId, ...] = ()
    # A protected environment's previews need a reviewer, or run only on main
    # (github.requiredReviewers), and its deploys need one.
    protected: StrictBool = False
    # The platform stack's `developers` group, which the deploy identity may give data roles
    # (unprotected environments only).
    developers_group_object_id: GroupObjectId | None = None


class AppTeamSettings(_Settings):
    """One application team: its Entra group, the repository its CI runs in, and the
    environments it deploys to. Its name is the platform stacks' appTeams name for it."""

    name: TeamName
    # The group the platform makes AKS RBAC Writer in the team's namespaces.
    group_object_id: GroupObjectId
    # The team's repository, in the forms its tokens' subjects take (as for the platform's).
    github_repository: GitHubRepository
    github_owner_id: GitHubId
    github_repository_id: GitHubId
    github_subject_format: Literal["immutable", "name"]
    # GitHub environments of bootstrap:environments: per each, a deploy identity federated with
    # the team repository's environment of that name, a resource group, a state container and
    # a key.
    environments: Annotated[tuple[GitHubEnvironment, ...], Field(min_length=1)]


class Reviewer(_Settings):
    """A required reviewer as GitHub's environments API names one: a user's or team's id."""

    type: Literal["User", "Team"]
    id: GitHubId


class GitHubSettings(_Settings):
    # True: the environments, their branch policies, reviewers and variables are this stack's
    # resources (pulumi-github, token from GITHUB_TOKEN). False: `ghCommands` prints them.
    manage: StrictBool = False
    # Who approves a protected environment's deploys and its previews. Empty: nobody has to,
    # and a protected environment's previews run only on main.
    required_reviewers: tuple[Reviewer, ...] = ()


class BootstrapConfig(_Settings):
    """Everything the bootstrap is configured with (see Pulumi.yaml for each key)."""

    # The management subscription: the bootstrap's own resources, and no environment's.
    subscription_id: SubscriptionId
    location: Location
    # As GitHub spells it: the token's subject, and so the federated credential, is compared
    # case-sensitively.
    github_repository: GitHubRepository
    # The numeric ids an immutable subject carries (gh api repos/<owner>/<repo>).
    github_owner_id: GitHubId
    github_repository_id: GitHubId
    # Which subject the repository's tokens carry: `immutable` (repo:<owner>@<id>/<repo>@<id>,
    # the default for repositories created, renamed or transferred since 2026-07-15) or `name`.
    github_subject_format: Literal["immutable", "name"]
    environments: Annotated[dict[GitHubEnvironment, EnvironmentConfig], Field(min_length=1)]
    github: GitHubSettings = GitHubSettings()
    # Platform stacks whose resource group and cluster exist (after their first `pulumi up`):
    # the preview identity gets read access on them. Azure refuses a role assignment on a
    # scope that does not exist yet.
    deployed_stacks: tuple[StackName, ...] = ()
    # The application teams (the platform stacks' appTeams, by name): each gets its own CI
    # identity, resource group, state container and key per environment it deploys to, and
    # the platform's deploy identities may make its group (and no other) AKS RBAC Writer, and
    # RBAC Administrator for platformVaultSecrets. An Owner approves each team here.
    app_teams: tuple[AppTeamSettings, ...] = ()
    # Keep the single `pulumi-state` container and `pulumi-stacks` key of the shared layout
    # while stacks move to their environment's own (docs/ci-and-bootstrap.md, Migration).
    retain_shared_state: StrictBool = False

    def condition_principals(self, environment: str) -> dict[str, tuple[str, ...]]:
        """The groups the environment's deploy identity may grant to, by recipient kind (its
        own id, roles.DEPLOYER, is Azure's to give)."""
        settings = self.environments[environment]
        developers = settings.developers_group_object_id
        return {
            roles.ADMIN_GROUPS: settings.admin_group_object_ids,
            roles.TEAM_GROUPS: tuple(team.group_object_id for team in self.teams_in(environment)),
            roles.DEVELOPERS: (developers,) if developers else (),
        }

    def teams_in(self, environment: str) -> tuple[AppTeamSettings, ...]:
        """The teams that deploy to `environment`."""
        return tuple(team for team in self.app_teams if environment in team.environments)


def _longest_condition(groups: int) -> str:
    """The deploy condition with `groups` groups, every recipient kind present: the longest
    it gets for that many (each further group adds its id to one clause, twice)."""
    guids = [f"00000000-0000-0000-0000-{index:012d}" for index in range(groups + 1)]
    return roles.deploy_identity_condition(
        {
            roles.DEPLOYER: guids[:1],
            roles.DEVELOPERS: guids[1:2],
            roles.TEAM_GROUPS: guids[2:3],
            roles.ADMIN_GROUPS: guids[3:],
        }
    )


def _max_groups() -> int:
    groups = 3
    while len(_longest_condition(groups + 1)) <= roles.CONDITION_MAX_LENGTH:
        groups += 1
    return groups


# How many groups (admin, team and developers) one environment's deploy condition can name
# before it outgrows Azure's 8 KB.
MAX_CONDITION_GROUPS = _max_groups()


# --- reading it -----------------------------------------------------------------------------

# The key as the stack file spells it, per field.
_KEYS = {
    name: LOCATION_KEY if name == "location" else f"{PROJECT}:{field.alias}"
    for name, field in BootstrapConfig.model_fields.items()
}
_FIELDS = {key: name for name, key in _KEYS.items()}
# What a value of the wrong type should have been, by its key below `bootstrap:` with list
# indexes and environment names left out (`environments.*.adminGroupObjectIds`).
_EXPECTED = {
    "environments": "an object mapping each GitHub environment to the platform stack it "
    "deploys ({dev: {stack: dev, subscriptionId: ...}})",
    "environments.*": "an object with stack, subscriptionId and optionally "
    "adminGroupObjectIds, protected and developersGroupObjectId",
    "environments.*.adminGroupObjectIds": "a list of Entra group object ids",
    "environments.*.subscriptionId": "a subscription id, a GUID (az account show --query id "
    "-o tsv)",
    "environments.*.protected": "true or false",
    "github": "an object with manage and requiredReviewers",
    "github.manage": "true or false",
    "github.requiredReviewers": "a list of reviewers ({type: User, id: 123})",
    "github.requiredReviewers.*": "a reviewer ({type: User, id: 123} or {type: Team, id: 456})",
    "githubOwnerId": "the owner's numeric id (gh api repos/<owner>/<repo> --jq .owner.id)",
    "githubRepositoryId": "the repository's numeric id (gh api repos/<owner>/<repo> --jq .id)",
    "githubSubjectFormat": "immutable or name",
    "deployedStacks": "a list of platform stacks",
    "appTeams": "a list of teams ({name, groupObjectId, githubRepository, githubOwnerId, "
    "githubRepositoryId, githubSubjectFormat, environments})",
    "appTeams.*": "a team ({name, groupObjectId, githubRepository, githubOwnerId, "
    "githubRepositoryId, githubSubjectFormat, environments})",
    "appTeams.*.groupObjectId": "an Entra group's object id, a GUID",
    "appTeams.*.githubRepository": "owner/repository",
    "appTeams.*.githubOwnerId": "the owner's numeric id (gh api repos/<owner>/<repo> --jq "
    ".owner.id)",
    "appTeams.*.githubRepositoryId": "the repository's numeric id (gh api repos/<owner>/<repo> "
    "--jq .id)",
    "appTeams.*.environments": "a list of GitHub environments of bootstrap:environments",
    "retainSharedState": "true or false",
}
# Keys of earlier releases, and what took their place.
REPLACED_KEYS = {
    f"{PROJECT}:appTeamGroupObjectIds": f"replaced by {PROJECT}:appTeams, which lists each "
    "team with its name, groupObjectId, GitHub repository and environments "
    "(docs/ci-and-bootstrap.md, Application teams)",
}
# GitHub takes at most six required reviewers per environment (REST API, "Create or update
# an environment": reviewers).
MAX_REVIEWERS = 6
PREVIEW_PREFIX = naming.preview_environment("")


def load_bootstrap_config() -> BootstrapConfig:
    """This stack's configuration, from the Pulumi runtime; ConfigError names every problem."""
    values = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    secret = frozenset(key for key in values if pulumi.runtime.config.is_config_secret(key))
    return parse_bootstrap_config(
        values, source=f"Pulumi.{pulumi.get_stack()}.yaml", secret_keys=secret
    )


def parse_bootstrap_config(
    values: Mapping[str, str], *, source: str, secret_keys: frozenset[str] = frozenset()
) -> BootstrapConfig:
    """Validate raw config values (Pulumi's `namespace:key` -> string map)."""
    problems: list[tuple[str, str]] = []
    raw: dict[str, Any] = {}
    refused: set[str] = set()  # fields with an encrypted value: reported, not missing
    for key, text in sorted(values.items()):
        meant = misspelled_namespace(key, PROJECT)
        if meant is not None:
            problems.append((key, f"{key}: unknown namespace (did you mean {meant!r}?)"))
            continue
        if key != LOCATION_KEY and not key.startswith(f"{PROJECT}:"):
            continue  # another package's settings (the provider's, say)
        if key in REPLACED_KEYS:
            problems.append((key, f"{key}: {REPLACED_KEYS[key]}"))
        elif key not in _FIELDS:
            problems.append((key, f"{key}: unknown key{_suggestion(key)}"))
        elif key in secret_keys:
            refused.add(_FIELDS[key])
            problems.append(
                (
                    key,
                    f"{key}: holds an encrypted value, but nothing the bootstrap is configured "
                    "with is secret; store it in plaintext",
                )
            )
        else:
            raw[_FIELDS[key]] = _decode(text)
    valid: dict[str, Any] = {}
    for name, field in BootstrapConfig.model_fields.items():
        if name not in raw:
            if field.is_required() and name not in refused:
                problems.append((_KEYS[name], f"{_KEYS[name]}: required key is missing"))
            continue
        try:
            valid[name] = _adapter(name).validate_python(raw[name])
        except ValidationError as error:
            problems += [_describe(name, detail) for detail in error.errors(include_url=False)]
    if problems:
        _refuse(source, problems)
    config = BootstrapConfig.model_validate({_KEYS[n].partition(":")[2]: v for n, v in raw.items()})
    problems += _environment_problems(config)
    problems += _deployed_problems(config)
    problems += _team_problems(config)
    reviewers = [(r.type, r.id) for r in config.github.required_reviewers]
    problems += _listed_twice(f"{_KEYS['github']}.requiredReviewers", reviewers)
    if len(reviewers) > MAX_REVIEWERS:
        where = f"{_KEYS['github']}.requiredReviewers"
        problems.append(
            (
                where,
                f"{where}: GitHub takes at most {MAX_REVIEWERS} required reviewers; "
                f"found {len(reviewers)} (name a team instead)",
            )
        )
    if problems:
        _refuse(source, problems)
    return config


def _refuse(source: str, problems: list[tuple[str, str]]) -> None:
    lines = [message for _, message in sorted(problems)]
    count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
    raise ConfigError(
        f"invalid configuration in {source} ({count}):\n"
        + "\n".join(f"  - {line}" for line in lines)
    )


def config_warnings(config: BootstrapConfig) -> list[str]:
    """What the program accepts but a reviewer should hear about (the program logs each)."""
    warnings = []
    sharing: dict[str, list[str]] = {}
    for environment, settings in config.environments.items():
        sharing.setdefault(settings.subscription_id, []).append(environment)
    for subscription, environments in sharing.items():
        if len(environments) > 1:
            warnings.append(
                f"{' and '.join(environments)} share subscription {subscription}: each one's "
                "deploy identity holds Contributor and RBAC Administrator there, so it reaches "
                "the others' resources and role assignments (docs/ci-and-bootstrap.md, "
                "Environments that share a subscription)"
            )
    if not config.github.required_reviewers:
        for environment, settings in config.environments.items():
            if settings.protected:
                warnings.append(
                    f"{environment} is protected but {_KEYS['github']}.requiredReviewers is "
                    "empty: its deploys wait for no one, and its previews run only on main"
                )
    return warnings


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    field = BootstrapConfig.model_fields[name]
    typed: Any = (
        Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    )
    return TypeAdapter(typed)


def _listed_twice(where: str, values: Sequence[Any]) -> Iterator[tuple[str, str]]:
    for index, value in enumerate(values):
        if value in values[:index]:
            shown = value if isinstance(value, str) else json.dumps(value)
            yield (f"{where}[{index}]", f"{where}[{index}]: {shown} is listed twice")


def _environment_problems(config: BootstrapConfig) -> Iterator[tuple[str, str]]:
    key = _KEYS["environments"]
    seen: dict[str, str] = {}
    deployed_from: dict[str, str] = {}
    for environment, settings in config.environments.items():
        where = f"{key}.{environment}"
        stack = settings.stack
        if (
            environment.lower() == naming.LEGACY_PREVIEW_ENVIRONMENT
            or environment.lower().startswith(PREVIEW_PREFIX)
        ):
            yield (
                where,
                f"{where}: '{PREVIEW_PREFIX}<environment>' is where an environment's "
                "pull-request previews run, with its read-only identity; deploy from another "
                "one",
            )
        if environment.lower() in seen:
            yield (
                where,
                f"{where}: GitHub environment names are not case-sensitive, so this is "
                f"{seen[environment.lower()]} again",
            )
        seen.setdefault(environment.lower(), environment)
        if stack in deployed_from:
            yield (
                f"{where}.stack",
                f"{where}.stack: stack {stack!r} is deployed from {deployed_from[stack]} "
                "already; each platform stack has one deploy environment",
            )
        deployed_from.setdefault(stack, environment)
        if stack.startswith(naming.TEAM_PREFIX):
            yield (
                f"{where}.stack",
                f"{where}.stack: {stack!r} starts with {naming.TEAM_PREFIX!r}, which names "
                "application teams' state containers and keys; choose another stack name",
            )
        names = EnvironmentNames(stack)
        if naming.RESOURCE_GROUP in (names.resource_group, names.node_resource_group):
            yield (
                f"{where}.stack",
                f"{where}.stack: stack {stack!r} would share the resource group "
                f"{naming.RESOURCE_GROUP} with the bootstrap; choose another stack name",
            )
        if settings.subscription_id == config.subscription_id:
            yield (
                f"{where}.subscriptionId",
                f"{where}.subscriptionId: is the management subscription "
                f"({_KEYS['subscription_id']}), which holds the bootstrap's state, keys and CI "
                "identities; an environment's deploy identity must not reach them, so give "
                "the environment a subscription of its own",
            )
        if settings.protected and settings.developers_group_object_id:
            yield (
                f"{where}.developersGroupObjectId",
                f"{where}.developersGroupObjectId: a protected environment gives developers "
                "no data access; set it on an unprotected one only",
            )
        groups = f"{where}.adminGroupObjectIds"
        yield from _listed_twice(groups, settings.admin_group_object_ids)
        # A team counts twice: its group, and its CI identity.
        count = len(settings.admin_group_object_ids) + 2 * len(config.teams_in(environment))
        count += 1 if settings.developers_group_object_id else 0
        if count > MAX_CONDITION_GROUPS:
            yield (
                groups,
                f"{groups}: with {_KEYS['app_teams']} (a group and a CI identity each) and "
                f"developersGroupObjectId this environment names {count} principals; the deploy "
                f"identity's condition fits at most {MAX_CONDITION_GROUPS} in Azure's "
                f"{roles.CONDITION_MAX_LENGTH // 1024} KB (nest groups in fewer)",
            )


def _team_problems(config: BootstrapConfig) -> Iterator[tuple[str, str]]:
    key = _KEYS["app_teams"]
    names = [team.name for team in config.app_teams]
    groups = [team.group_object_id.lower() for team in config.app_teams]
    for index, team in enumerate(config.app_teams):
        where = f"{key}[{index}]"
        if team.name in names[:index]:
            yield (f"{where}.name", f"{where}.name: team {team.name!r} is listed twice")
        if team.group_object_id.lower() in groups[:index]:
            yield (
                f"{where}.groupObjectId",
                f"{where}.groupObjectId: {team.group_object_id} is another team's group; "
                "each team has a group of its own",
            )
        for slot, environment in enumerate(team.environments):
            if environment not in config.environments:
                yield (
                    f"{where}.environments[{slot}]",
                    f"{where}.environments[{slot}]: {environment!r} is not a GitHub "
                    f"environment of {_KEYS['environments']} "
                    f"({', '.join(config.environments)})",
                )
                continue
            stack = config.environments[environment].stack
            container = naming.state_container(naming.team_stack(team.name, stack))
            if len(container) > naming.MAX_CONTAINER_NAME_LENGTH:
                yield (
                    f"{where}.name",
                    f"{where}.name: {team.name!r} makes the state container {container!r} "
                    f"for stack {stack}, {len(container)} characters; Azure allows "
                    f"{naming.MAX_CONTAINER_NAME_LENGTH}: shorten the team's name",
                )
        yield from _listed_twice(f"{where}.environments", team.environments)


def _deployed_problems(config: BootstrapConfig) -> Iterator[tuple[str, str]]:
    stacks = [settings.stack for settings in config.environments.values()]
    deployed = config.deployed_stacks
    for index, stack in enumerate(deployed):
        where = f"{_KEYS['deployed_stacks']}[{index}]"
        if stack not in stacks:
            yield (
                where,
                f"{where}: {stack!r} is not a stack of {_KEYS['environments']} "
                f"({', '.join(stacks)})",
            )
        elif stack in deployed[:index]:
            yield (where, f"{where}: {stack!r} is listed twice")


def _describe(name: str, detail: Any) -> tuple[str, str]:
    """A pydantic error as (key, line): the key down to the offending entry, and what is wrong."""
    where = _KEYS[name]
    pattern = _KEYS[name].partition(":")[2]
    loc = [part for part in detail["loc"] if part != "[key]"]
    for index, part in enumerate(loc):
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
        # An environment's name is the first part below `environments`; list indexes too.
        wildcard = isinstance(part, int) or (name == "environments" and index == 0)
        pattern += ".*" if wildcard else f".{part}"
    kind: str = detail["type"]
    if kind == "value_error":
        return where, f"{where}: {detail['msg'].removeprefix('Value error, ')}"
    if kind == "extra_forbidden":
        return where, f"{where}: unknown key"
    if kind == "missing":
        return where, f"{where}: required key is missing"
    found = detail.get("input")
    shown = json.dumps(found) if isinstance(found, dict | list) else repr(found)
    if kind == "too_short":
        return where, f"{where}: expected at least one GitHub environment to deploy from"
    if kind == "literal_error":
        return where, f"{where}: expected {detail['ctx']['expected']}, found {shown}"
    if kind == "greater_than":
        return where, f"{where}: expected a positive number, found {shown}"
    expected = _EXPECTED.get(pattern, "a string")
    return where, f"{where}: expected {expected}, found {shown}"


def _suggestion(key: str) -> str:
    known = sorted(field.alias or name for name, field in BootstrapConfig.model_fields.items())
    known.remove("location")  # set as azure-native:location
    close = difflib.get_close_matches(key.partition(":")[2], known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(known)}"


def _decode(text: str) -> Any:
    # Objects, lists, numbers and booleans arrive as JSON; anything else is a plain string.
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text


__all__ = [
    "PROJECT",
    "BootstrapConfig",
    "ConfigError",
    "load_bootstrap_config",
    "parse_bootstrap_config",
]
