"""Loading settings through the real SecretClient, against the in-process test double."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from secretless_app.environment import AppEnvironment
from secretless_app.failures import ExitCode, FatalStartupError
from secretless_app.json_logging import MASK, SecretRedactor
from secretless_app.key_vault import create_secret_client
from secretless_app.settings import DEFAULT_GREETING, AppSettings
from secretless_app.settings_loader import LoadedSettings, SettingSource, load_settings
from tests.azure_double import AzureDouble, version_of
from tests.conftest import CLIENT_ID, DoubleToken

SECRET = "s3cret-value"


def _load(
    model: type[BaseModel],
    double: AzureDouble,
    credential: DoubleToken,
    environment: AppEnvironment,
    redactor: SecretRedactor | None = None,
) -> LoadedSettings[BaseModel]:
    with create_secret_client(double.url, credential) as client:
        return load_settings(model, client, environment, redactor or SecretRedactor())


def _failure(
    model: type[BaseModel],
    double: AzureDouble,
    credential: DoubleToken,
    environment: AppEnvironment,
) -> FatalStartupError:
    with pytest.raises(FatalStartupError) as caught:
        _load(model, double, credential, environment)
    return caught.value


def test_settings_come_from_their_secrets(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET, "Greeting--Message": "Hi"}
    loaded = _load(AppSettings, double, credential, environment)
    assert isinstance(loaded.settings, AppSettings)
    assert loaded.settings.identity.secret.get_secret_value() == SECRET
    assert loaded.settings.greeting.message == "Hi"
    assert loaded.sources == (
        SettingSource("identity.secret", "Identity--Secret", version_of(SECRET)),
        SettingSource("greeting.message", "Greeting--Message", version_of("Hi")),
    )
    assert loaded.read_at.endswith("+00:00")


def test_an_optional_setting_without_secret_keeps_its_default(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET}
    loaded = _load(AppSettings, double, credential, environment)
    assert isinstance(loaded.settings, AppSettings)
    assert loaded.settings.greeting.message == DEFAULT_GREETING
    assert SettingSource("greeting.message", "default") in loaded.sources


def test_only_declared_secrets_are_read_by_name_and_nothing_is_listed(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET, "Unrelated--Secret": "x"}
    _load(AppSettings, double, credential, environment)
    paths = {r.path.rstrip("/") for r in double.requests("keyvault")}
    assert paths == {"/secrets/Identity--Secret", "/secrets/Greeting--Message"}
    # The scope comes from the vault's challenge.
    assert credential.scopes == [(f"{double.resource}/.default",)]


def test_secret_values_are_registered_for_redaction_and_plain_settings_are_not(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET, "Greeting--Message": "Hello there"}
    redactor = SecretRedactor()
    _load(AppSettings, double, credential, environment, redactor)
    assert redactor.redact(f"{SECRET} / Hello there") == f"{MASK} / Hello there"


def test_every_missing_required_setting_is_named_in_one_failure(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    class TwoRequired(BaseModel):
        first: str = Field(alias="First")
        second: str = Field(alias="Second")

    failure = _failure(TwoRequired, double, credential, environment)
    assert failure.exit_code is ExitCode.CONFIGURATION
    assert failure.message == (
        f"required settings are missing from Key Vault {double.url}: first (secret First), "
        "second (secret Second); seed the secret through the platform's stack config"
    )


def test_an_invalid_value_is_reported_without_the_value(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET, "Greeting--Message": "x" * 201}
    failure = _failure(AppSettings, double, credential, environment)
    assert failure.exit_code is ExitCode.CONFIGURATION
    assert failure.message == (
        f"invalid settings from Key Vault {double.url}: greeting.message (secret "
        "Greeting--Message): String should have at most 200 characters"
    )
    assert "xxx" not in failure.message


def test_a_forbidden_secret_names_the_identity_and_stops_at_once(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET}
    double.script.forbidden = {"Identity--Secret"}
    failure = _failure(AppSettings, double, credential, environment)
    assert failure.exit_code is ExitCode.FORBIDDEN
    assert f"client id {CLIENT_ID} (AZURE_CLIENT_ID)" in failure.message
    assert failure.fields["secret_name"] == "Identity--Secret"
    identity_gets = [r for r in double.requests("keyvault") if "authorization" in r.headers]
    assert len(identity_gets) == 1  # not retried by the SDK: web.py waits out the startup grace
    assert failure.until_granted


def test_with_granted_names_an_optional_setting_outside_them_keeps_its_default_unread(
    double: AzureDouble, credential: DoubleToken
) -> None:
    # As the platform deploys a service whose secretScope names Identity--Secret only: Key
    # Vault would answer 403 for Greeting--Message, so it is not asked.
    double.script.secrets = {"Identity--Secret": SECRET, "Greeting--Message": "Hi"}
    double.script.granted = {"Identity--Secret"}
    scoped = AppEnvironment(
        double.url, 8080, CLIENT_ID, secret_scope=frozenset({"identity--secret"})
    )
    loaded = _load(AppSettings, double, credential, scoped)
    assert isinstance(loaded.settings, AppSettings)
    assert loaded.settings.greeting.message == DEFAULT_GREETING
    assert SettingSource("greeting.message", "default") in loaded.sources
    asked = {
        r.path.rstrip("/") for r in double.requests("keyvault") if "authorization" in r.headers
    }
    assert asked == {"/secrets/Identity--Secret"}


def test_without_granted_names_a_secret_outside_the_grant_is_a_403(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET}
    double.script.granted = {"Identity--Secret"}
    failure = _failure(AppSettings, double, credential, environment)
    assert failure.exit_code is ExitCode.FORBIDDEN
    assert failure.fields["secret_name"] == "Greeting--Message"


def test_a_required_setting_outside_the_granted_names_stops_at_once_naming_the_scope(
    double: AzureDouble, credential: DoubleToken
) -> None:
    double.script.secrets = {"Identity--Secret": SECRET}
    scoped = AppEnvironment(double.url, 8080, CLIENT_ID, secret_scope=frozenset({"other--name"}))
    failure = _failure(AppSettings, double, credential, scoped)
    assert failure.exit_code is ExitCode.CONFIGURATION
    assert not failure.until_granted
    assert failure.message == (
        "required setting is outside KEY_VAULT_GRANTED_NAMES, the secrets this identity is "
        "granted: identity.secret (secret Identity--Secret); add the secret to the service's "
        "secretScope in the platform's stack config"
    )
    assert not [r for r in double.requests("keyvault") if "authorization" in r.headers]
