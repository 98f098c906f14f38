"""Stack configuration: read once, validated completely, frozen.

Components never call `pulumi.Config`; `__main__` loads a `StackConfig` here and hands each
component the part it needs. Every rule is checked before a resource is declared, and all
problems are reported together, in one round, each naming its key as it is written in the
stack file: field rules (`models.py`) and rules across keys (`rules.py`) alike, the latter
run on every key that is valid on its own even when others are wrong.

Another project (an application on the platform) gets the same with `load_config` and a
`ConfigModel` of its own: its `stack` field takes the stack name, its `secrets` field (if it
has one) the encrypted values under `<project>:secrets`, and `extra_rules` adds its own rules
across keys.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pulumi
import pulumi.runtime.config
import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from secretless_aks.components import fast_yaml
from secretless_aks.components.config import rules
from secretless_aks.components.config.models import (
    CANARY,
    DEFAULT_PUBLIC_NETWORK_ACCESS,
    DEFAULT_REPLICAS,
    DEFAULT_SOFT_DELETE_RETENTION_DAYS,
    INTERNAL_FIELDS,
    LOCATION_KEY,
    NETWORK_PLUGIN,
    NODE_POOL_MAX_SURGE,
    PROJECT,
    STACK_NAME_LENGTH,
    STACK_NAME_PATTERN,
    AppTeamConfig,
    AzureAccessConfig,
    Binding,
    ClusterConfig,
    ConfigModel,
    ContractBlobUrl,
    DeployerConfig,
    GeneratedSecretConfig,
    KeyVaultConfig,
    KeyVaultRole,
    MaintenanceWindow,
    NetworkConfig,
    ProbesConfig,
    ServiceConfig,
    StackConfig,
    StackName,
    UserPoolConfig,
    in_registry,
    pinned_by_digest,
)
from secretless_aks.components.config.problems import (
    ConfigError,
    Key,
    describe,
    key_path,
    misspelled_namespace,
    model_in,
    suggestion,
)
from secretless_aks.components.config.rules import ExtraRules, KeyRuleError
from secretless_aks.components.config_secrets import ConfigSecret, parse_config_secrets

# How deep a config value may nest; deeper is a mistake, and would exhaust Python's stack.
MAX_NESTING = 32

Model = TypeVar("Model", bound=ConfigModel)


def load_stack_config() -> StackConfig:
    """Read and validate this stack's configuration from the Pulumi runtime."""
    return load_config(StackConfig, project=PROJECT)


def load_config(
    model: type[Model], *, project: str, extra_rules: ExtraRules | None = None
) -> Model:
    """Read this stack's `<project>:<key>` configuration from the Pulumi runtime into `model`.

    The stack file itself (the CLI runs the program in the project directory) tells which
    values were stored encrypted: the runtime only sees them decrypted. Raises ConfigError
    naming the stack file and every wrong key.
    """
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    return parse_config(
        model,
        stack,
        _runtime_config(),
        project=project,
        source=source,
        secret_keys=_runtime_secret_keys(),
        stack_file=_written_config(Path(source)),
        extra_rules=extra_rules,
    )


def parse_stack_config(
    stack: str,
    values: Mapping[str, str],
    *,
    source: str,
    secret_keys: frozenset[str] = frozenset(),
    stack_file: Mapping[str, Any] | None = None,
) -> StackConfig:
    """Validate raw config values (Pulumi's `namespace:key` -> string map) into a StackConfig."""
    return parse_config(
        StackConfig,
        stack,
        values,
        project=PROJECT,
        source=source,
        secret_keys=secret_keys,
        stack_file=stack_file,
    )


def parse_config(
    model: type[Model],
    stack: str,
    values: Mapping[str, str],
    *,
    project: str,
    source: str,
    secret_keys: frozenset[str] = frozenset(),
    stack_file: Mapping[str, Any] | None = None,
    extra_rules: ExtraRules | None = None,
) -> Model:
    """Validate raw config values (Pulumi's `namespace:key` -> string map) into `model`.

    `secret_keys` are the keys Pulumi marks secret; `stack_file` is the stack file's `config:`
    block as written, when there is one. Raises ConfigError naming `source` and every wrong key.
    """
    secrets_key = f"{project}:secrets"
    problems: list[tuple[Key, str]] = []
    document: dict[str, Any] = {"stack": stack}
    # Keys holding encrypted values other than `secrets`: rejected, and never shown.
    hidden: set[str] = set()
    for full_key, text in sorted(values.items()):
        meant = misspelled_namespace(full_key, project)
        if meant is not None:
            problems.append(
                ((full_key,), f"{full_key}: unknown namespace (did you mean {meant!r}?)")
            )
            continue
        field = _field_of(full_key, project, model)
        if field is None:
            continue
        if field in INTERNAL_FIELDS and full_key != LOCATION_KEY:
            problems.append(((field,), f"{full_key}: unknown key{suggestion((field,), model)}"))
            continue
        if full_key in secret_keys and full_key != secrets_key:
            hidden.add(field)
            problems.append(
                (
                    (field,),
                    f"{full_key}: holds an encrypted value, but only {secrets_key} is kept "
                    "secret by this program; anything else would reach state and logs in clear. "
                    "Store it in plaintext, or seed it into Key Vault under secrets",
                )
            )
        value = _decode(text)
        if _depth(value) > MAX_NESTING:
            problems.append(((field,), f"{full_key}: nested more than {MAX_NESTING} levels deep"))
            continue
        if full_key == secrets_key:
            document["secrets"], secret_problems = parse_config_secrets(
                value,
                key=secrets_key,
                stack_file_value=(stack_file or {}).get(secrets_key),
                is_secret_key=full_key in secret_keys,
                source=source,
            )
            problems.extend((("secrets",), problem) for problem in secret_problems)
        else:
            document[field] = value
    config: Model | None = None
    try:
        config = model.model_validate(document)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = tuple(detail["loc"])
            problems.append(
                (loc, describe(detail, secret=loc[0] in hidden, model=model, project=project))
            )
    if config is not None and not hidden:
        checked: BaseModel = config
    else:
        # Rules still run on every key that is valid on its own (hidden ones are not).
        visible = {key: value for key, value in document.items() if key not in hidden}
        checked = _partial(model, visible)
    problems += [
        (key, f"{key_path(key, project)}: {message}")
        for key, message in rules.check(
            checked, partial=checked is not config, extra=extra_rules or {}
        )
    ]
    if not problems:
        assert config is not None
        return config
    lines = [text for _, text in sorted(problems, key=lambda problem: _sort_key(problem[0]))]
    count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
    raise ConfigError(
        f"invalid configuration in {source} ({count}):\n"
        + "\n".join(f"  - {line}" for line in lines)
    )


def _field_of(full_key: str, project: str, model: type[ConfigModel]) -> str | None:
    """The field of `model` a config key sets, or None for keys of other namespaces (and for
    the provider's location, when the project takes its region from elsewhere)."""
    if full_key == LOCATION_KEY:
        return "location" if "location" in model.model_fields else None
    prefix = f"{project}:"
    return full_key[len(prefix) :] if full_key.startswith(prefix) else None


def _decode(text: str) -> Any:
    # Objects, lists, numbers and booleans arrive as JSON; anything else is a plain string.
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text


def _depth(value: Any) -> int:
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(item) for item in items if isinstance(item, dict | list)), default=0)
    return 0


def _sort_key(key: Key) -> tuple[tuple[int, Any], ...]:
    # List positions sort as numbers, keys as text, and never against each other.
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in key)


_INVALID = object()


@functools.cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    field = model.model_fields[name]
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return TypeAdapter(annotation)
    typed: Any = Annotated[(annotation, *field.metadata)] if field.metadata else annotation
    return TypeAdapter(typed, config=ConfigDict(arbitrary_types_allowed=True))


def _partial(model: type[ConfigModel], data: Any) -> ConfigModel:
    """`model` built from the keys of `data` that are valid on their own; the others are left
    unset (reading one raises AttributeError), and models inside are built the same way."""
    if not isinstance(data, dict):
        return model.model_construct()
    data = model.with_defaults(data)
    values: dict[str, Any] = {}
    invalid: list[str] = []
    for name, field in model.model_fields.items():
        alias = field.alias or name
        if alias in data:
            value = _valid_field(model, name, data[alias])
            if value is _INVALID:
                invalid.append(name)
            else:
                values[name] = value
    built = model.model_construct(**values)
    for name in invalid:
        vars(built).pop(name, None)  # model_construct filled in a default; it was not that
    return built


def _valid_field(model: type[ConfigModel], name: str, raw: Any) -> Any:
    try:
        return _field_adapter(model, name).validate_python(raw)
    except ValidationError:
        inner = model_in(model.model_fields[name].annotation)
        if inner is None or not issubclass(inner, ConfigModel):
            return _INVALID
        if isinstance(raw, list):
            return tuple(_partial(inner, item) for item in raw)
        return _partial(inner, raw) if isinstance(raw, dict) else _INVALID


def _written_config(path: Path) -> Mapping[str, Any] | None:
    """The stack file's `config:` block as written, or None when there is none to read."""
    if not path.exists():
        return None
    try:
        document = fast_yaml.safe_load(path.read_text())
    except (yaml.YAMLError, RecursionError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ConfigError(f"{path.name}{where} is not a valid stack file: {problem}") from None
    config = document.get("config") if isinstance(document, dict) else None
    return config if isinstance(config, dict) else None


def _runtime_config() -> dict[str, str]:
    # pulumi.Config cannot list its keys, and unknown keys must be reported, so read the map
    # the language host fills (PULUMI_CONFIG) and anything set in-process (tests, the plan).
    return {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}


def _runtime_secret_keys() -> frozenset[str]:
    # The language host passes PULUMI_CONFIG_SECRET_KEYS to set_all_config, as the tests
    # and the plan do; is_config_secret reads that one set.
    return frozenset(
        key for key in _runtime_config() if pulumi.runtime.config.is_config_secret(key)
    )


__all__ = [
    "CANARY",
    "DEFAULT_PUBLIC_NETWORK_ACCESS",
    "DEFAULT_REPLICAS",
    "DEFAULT_SOFT_DELETE_RETENTION_DAYS",
    "INTERNAL_FIELDS",
    "NETWORK_PLUGIN",
    "NODE_POOL_MAX_SURGE",
    "STACK_NAME_LENGTH",
    "STACK_NAME_PATTERN",
    "AppTeamConfig",
    "AzureAccessConfig",
    "Binding",
    "ClusterConfig",
    "ConfigError",
    "ConfigModel",
    "ConfigSecret",
    "ContractBlobUrl",
    "DeployerConfig",
    "ExtraRules",
    "GeneratedSecretConfig",
    "KeyRuleError",
    "KeyVaultConfig",
    "KeyVaultRole",
    "MaintenanceWindow",
    "NetworkConfig",
    "ProbesConfig",
    "ServiceConfig",
    "StackConfig",
    "StackName",
    "UserPoolConfig",
    "in_registry",
    "load_config",
    "load_stack_config",
    "parse_config",
    "parse_stack_config",
    "pinned_by_digest",
]
