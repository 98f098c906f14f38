"""The bootstrap's configuration: a handful of keys, read once, validated completely, frozen.

Like the platform's (`secretless_aks/components/config`), every problem is found before a
resource is declared and all are reported together, each naming its key as the stack file
spells it; unlike it, nothing here is secret, so an encrypted value is refused outright.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

import pulumi
import pulumi.runtime.config
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from secretless_aks.components import azure_limits
from secretless_aks.components.azure_limits import NameLimit
from secretless_aks.components.config import STACK_NAME_LENGTH, STACK_NAME_PATTERN, ConfigError
from secretless_aks.components.naming import EnvironmentNames
from secretless_bootstrap import naming

PROJECT = "bootstrap"
LOCATION_KEY = "azure-native:location"

# GitHub environment -> the platform stack its deploy job runs `pulumi up` for (deploy.yml).
DEFAULT_ENVIRONMENTS: Mapping[str, str] = {"dev": "dev", "production": "prod"}

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
# for deployment"); here it also names a federated credential (`github-<environment>`), so it
# takes that name's rule and the room Azure's 120 characters leave.
GITHUB_ENVIRONMENT = NameLimit(
    "GitHub environment name",
    1,
    azure_limits.FEDERATED_CREDENTIAL.max_length - len(naming.CREDENTIAL_PREFIX),
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


class BootstrapConfig(BaseModel):
    """Everything the bootstrap is configured with (see Pulumi.yaml for each key)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel)

    subscription_id: SubscriptionId
    location: Location
    # As GitHub spells it: the token's subject, and so the federated credential, is compared
    # case-sensitively.
    github_repository: GitHubRepository
    environments: Annotated[dict[GitHubEnvironment, StackName], Field(min_length=1)] = Field(
        default_factory=lambda: dict(DEFAULT_ENVIRONMENTS)
    )
    # Platform stacks whose resource group and cluster exist (after their first `pulumi up`):
    # the preview identity gets read access on them. Azure refuses a role assignment on a
    # scope that does not exist yet.
    deployed_stacks: tuple[StackName, ...] = ()
    # The application teams' groups (the platform stacks' appTeams that set
    # platformVaultSecrets) to which the deploy identities may assign Role Based Access Control
    # Administrator, and no other principal: an Owner approves each group here.
    app_team_group_object_ids: tuple[GroupObjectId, ...] = ()


# --- reading it -----------------------------------------------------------------------------

# The key as the stack file spells it, per field.
_KEYS = {
    name: LOCATION_KEY if name == "location" else f"{PROJECT}:{field.alias}"
    for name, field in BootstrapConfig.model_fields.items()
}
_FIELDS = {key: name for name, key in _KEYS.items()}
# What a value of the wrong type should have been.
_EXPECTED = {
    "environments": "an object mapping each GitHub environment to the platform stack it "
    "deploys (dev: dev)",
    "deployed_stacks": "a list of platform stacks",
    "app_team_group_object_ids": "a list of Entra group object ids",
}


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
        if key != LOCATION_KEY and not key.startswith(f"{PROJECT}:"):
            continue  # another package's settings (the provider's, say)
        if key not in _FIELDS:
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
    environments = valid.get("environments", DEFAULT_ENVIRONMENTS)
    problems += _environment_problems(environments) if "environments" in valid else []
    if "deployed_stacks" in valid and ("environments" in valid or "environments" not in raw):
        problems += _deployed_problems(valid["deployed_stacks"], environments)
    groups = valid.get("app_team_group_object_ids", ())
    for index, group in enumerate(groups):
        if group in groups[:index]:
            where = f"{_KEYS['app_team_group_object_ids']}[{index}]"
            problems.append((where, f"{where}: {group} is listed twice"))
    if problems:
        lines = [message for _, message in sorted(problems)]
        count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
        raise ConfigError(
            f"invalid configuration in {source} ({count}):\n"
            + "\n".join(f"  - {line}" for line in lines)
        )
    return BootstrapConfig.model_validate({_KEYS[n].partition(":")[2]: v for n, v in raw.items()})


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    field = BootstrapConfig.model_fields[name]
    typed: Any = (
        Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    )
    return TypeAdapter(typed)


def _environment_problems(environments: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    key = _KEYS["environments"]
    seen: dict[str, str] = {}
    deployed_from: dict[str, str] = {}
    for environment, stack in environments.items():
        where = f"{key}.{environment}"
        if environment.lower() == naming.PREVIEW_ENVIRONMENT:
            yield (
                where,
                f"{where}: '{naming.PREVIEW_ENVIRONMENT}' is the environment of the pull-request "
                "preview job, which gets the read-only identity; deploy from another one",
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
                where,
                f"{where}: stack {stack!r} is deployed from {deployed_from[stack]} already; "
                "each platform stack has one deploy environment",
            )
        deployed_from.setdefault(stack, environment)
        names = EnvironmentNames(stack)
        if naming.RESOURCE_GROUP in (names.resource_group, names.node_resource_group):
            yield (
                where,
                f"{where}: stack {stack!r} would share the resource group "
                f"{naming.RESOURCE_GROUP} with the bootstrap; choose another stack name",
            )


def _deployed_problems(
    deployed: tuple[str, ...], environments: Mapping[str, str]
) -> Iterator[tuple[str, str]]:
    stacks = list(environments.values())
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
    loc = [part for part in detail["loc"] if part != "[key]"]
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    kind: str = detail["type"]
    if kind == "value_error":
        return where, f"{where}: {detail['msg'].removeprefix('Value error, ')}"
    found = detail.get("input")
    shown = json.dumps(found) if isinstance(found, dict | list) else repr(found)
    if kind == "too_short":
        return where, f"{where}: expected at least one GitHub environment to deploy from"
    expected = _EXPECTED.get(name, "a string") if not loc else "a string"
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
    "DEFAULT_ENVIRONMENTS",
    "PROJECT",
    "BootstrapConfig",
    "ConfigError",
    "load_bootstrap_config",
    "parse_bootstrap_config",
]
