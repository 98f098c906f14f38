"""Read the settings a model declares from Key Vault, each secret by name, and validate them.

Only `get_secret` is called, never a list: the identity may hold Key Vault Secrets User on its
own secrets alone, and a list call would get 403. An optional setting whose secret does not exist
keeps its default; every missing required setting is reported in one failure.

Where the platform says which secrets the identity is granted (KEY_VAULT_GRANTED_NAMES), a
secret outside them is not read at all: Key Vault would answer 403 whether or not it exists,
which at startup looks exactly like a grant still taking effect. An optional setting there
keeps its default; a required one is reported with the scope to widen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from pydantic import BaseModel, ValidationError

from .app_configuration import AppConfiguration, KeyValue
from .declared_settings import DeclaredSetting, declared_settings
from .environment import AppEnvironment
from .failures import ExitCode, FatalStartupError
from .json_logging import SecretRedactor
from .secret_names import CONFIG_DELIMITER
from .vault_errors import explain, is_secret_not_found

DEFAULT_SOURCE = "default"  # the source /config reports for a default kept because no secret exists

Settings = TypeVar("Settings", bound=BaseModel)


@dataclass(frozen=True)
class SettingSource:
    key: str
    source: str  # the secret name it was read from, App Configuration's key, or DEFAULT_SOURCE
    # The secret's version id (App Configuration: the key-value's etag); None for a default.
    version: str | None = None


@dataclass(frozen=True)
class LoadedSettings(Generic[Settings]):
    settings: Settings
    sources: tuple[SettingSource, ...]
    # When they were read (UTC, ISO 8601): /config shows it beside each version.
    read_at: str = ""


def load_settings(
    model: type[Settings],
    client: SecretClient,
    environment: AppEnvironment,
    redactor: SecretRedactor,
    app_configuration: AppConfiguration | None = None,
) -> LoadedSettings[Settings]:
    """With `app_configuration`, a non-secret setting the store has comes from there (a Key
    Vault reference in it from the app's own vault); everything else from Key Vault."""
    declared = declared_settings(model)
    values: dict[str, str] = {}
    sources: list[SettingSource] = []
    missing: list[DeclaredSetting] = []
    ungranted: list[DeclaredSetting] = []
    for setting in declared:
        configured = (
            app_configuration.get(setting.config_path)
            if app_configuration is not None and not setting.is_secret
            else None
        )
        if app_configuration is not None and configured is not None:
            value, source, version = _configured_value(
                configured, setting, client, environment, app_configuration
            )
            values[setting.config_path] = value
            sources.append(SettingSource(setting.key, source, version))
            continue
        if not environment.may_read(setting.secret_name):
            if setting.required:
                ungranted.append(setting)
            else:
                sources.append(SettingSource(setting.key, DEFAULT_SOURCE))
            continue
        read = _read_secret(client, setting.secret_name, environment)
        if read is None:
            if setting.required:
                missing.append(setting)
            else:
                sources.append(SettingSource(setting.key, DEFAULT_SOURCE))
            continue
        value, version = read
        if setting.is_secret:
            redactor.register(value)
        values[setting.config_path] = value
        sources.append(SettingSource(setting.key, setting.secret_name, version))
    if ungranted:
        raise _required_settings_failure(ungranted, environment, granted=False)
    if missing:
        raise _required_settings_failure(missing, environment, granted=True)
    try:
        settings = model.model_validate(_nest(values))
    except ValidationError as error:
        raise _invalid_settings(error, declared, environment) from None
    read_at = datetime.now(UTC).isoformat(timespec="seconds")
    return LoadedSettings(settings, tuple(sources), read_at)


def _read_secret(
    client: SecretClient, name: str, environment: AppEnvironment
) -> tuple[str, str | None] | None:
    """The secret's value and version id, or None when Key Vault has no secret of that name."""
    try:
        secret = client.get_secret(name)
        return secret.value or "", secret.properties.version
    except ResourceNotFoundError as error:
        if is_secret_not_found(error):
            return None
        raise explain(error, name, environment) from error
    except Exception as error:  # every other SDK error becomes a failure that says what to fix
        raise explain(error, name, environment) from error


def _configured_value(
    configured: KeyValue,
    setting: DeclaredSetting,
    client: SecretClient,
    environment: AppEnvironment,
    app_configuration: AppConfiguration,
) -> tuple[str, str, str | None]:
    """A setting's value from App Configuration, its source and its version; a Key Vault
    reference is read from the app's own vault, by name, within KEY_VAULT_GRANTED_NAMES."""
    if configured.key_vault_reference is None:
        return configured.value, app_configuration.source(setting.config_path), configured.etag
    reference = configured.key_vault_reference
    parts = urlsplit(reference)
    segments = [segment for segment in parts.path.split("/") if segment]
    vault = urlsplit(environment.key_vault_url)
    fields = {"setting_key": setting.key, "reference": reference}
    if (
        parts.scheme != "https"
        or parts.netloc.lower() != vault.netloc.lower()
        or len(segments) not in (2, 3)
        or segments[0] != "secrets"
    ):
        raise FatalStartupError(
            ExitCode.CONFIGURATION,
            f"{setting.key} in App Configuration {app_configuration.endpoint} is a Key Vault "
            f"reference to {reference}, not to a secret of this app's vault "
            f"{environment.key_vault_url}: point it at one there",
            fields,
        )
    name = segments[1]
    if not environment.may_read(name):
        raise FatalStartupError(
            ExitCode.CONFIGURATION,
            f"{setting.key} in App Configuration {app_configuration.endpoint} refers to secret "
            f"{name}, outside KEY_VAULT_GRANTED_NAMES: add it to the service's secretScope",
            fields,
        )
    read = _read_secret(client, name, environment)
    if read is None:
        raise FatalStartupError(
            ExitCode.CONFIGURATION,
            f"{setting.key} in App Configuration {app_configuration.endpoint} refers to secret "
            f"{name}, which Key Vault {environment.key_vault_url} does not have",
            fields,
        )
    return read[0], f"Key Vault reference {name}", read[1]


def _nest(values: dict[str, str]) -> dict[str, Any]:
    """{"Identity:Secret": v} -> {"Identity": {"Secret": v}}, the shape the aliases describe."""
    nested: dict[str, Any] = {}
    for path, value in values.items():
        *sections, leaf = path.split(CONFIG_DELIMITER)
        level = nested
        for section in sections:
            level = level.setdefault(section, {})
        level[leaf] = value
    return nested


def _required_settings_failure(
    settings: Sequence[DeclaredSetting], environment: AppEnvironment, *, granted: bool
) -> FatalStartupError:
    """Required settings the vault does not have (`granted`), or that the identity may not
    read there (outside KEY_VAULT_GRANTED_NAMES)."""
    listed = ", ".join(f"{setting.key} (secret {setting.secret_name})" for setting in settings)
    noun = "setting is" if len(settings) == 1 else "settings are"
    if granted:
        message = (
            f"required {noun} missing from Key Vault {environment.key_vault_url}: {listed}; "
            "seed the secret through the platform's stack config"
        )
    else:
        message = (
            f"required {noun} outside KEY_VAULT_GRANTED_NAMES, the secrets this identity is "
            f"granted: {listed}; add the secret to the service's secretScope in the platform's "
            "stack config"
        )
    return FatalStartupError(
        ExitCode.CONFIGURATION,
        message,
        {
            "settings": ", ".join(setting.key for setting in settings),
            "secret_names": ", ".join(setting.secret_name for setting in settings),
            "vault_url": environment.key_vault_url,
        },
    )


def _invalid_settings(
    error: ValidationError, declared: Sequence[DeclaredSetting], environment: AppEnvironment
) -> FatalStartupError:
    by_path = {setting.config_path: setting for setting in declared}
    problems: list[str] = []
    for detail in error.errors(include_input=False, include_url=False):
        path = CONFIG_DELIMITER.join(str(part) for part in detail["loc"])
        setting = by_path.get(path)
        where = f"{setting.key} (secret {setting.secret_name})" if setting else path
        # Only pydantic's message: the input is the secret's value and must not be logged.
        problems.append(f"{where}: {detail['msg']}")
    return FatalStartupError(
        ExitCode.CONFIGURATION,
        f"invalid settings from Key Vault {environment.key_vault_url}: " + "; ".join(problems),
        {"vault_url": environment.key_vault_url},
    )
