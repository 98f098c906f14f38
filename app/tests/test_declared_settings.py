"""Each setting's key, config path and secret name come from the model, derived once."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from secretless_app.declared_settings import DeclaredSetting, declared_settings
from secretless_app.secret_names import SecretNameError, config_path
from secretless_app.settings import DEFAULT_GREETING, AppSettings


def test_app_settings_declare_identity_secret_required_and_greeting_optional() -> None:
    assert declared_settings(AppSettings) == (
        DeclaredSetting(
            key="identity.secret",
            config_path="Identity:Secret",
            secret_name="Identity--Secret",
            required=True,
            is_secret=True,
        ),
        DeclaredSetting(
            key="greeting.message",
            config_path="Greeting:Message",
            secret_name="Greeting--Message",
            required=False,
            is_secret=False,
        ),
    )


def test_every_secret_name_reads_back_as_its_config_path() -> None:
    for setting in declared_settings(AppSettings):
        assert config_path(setting.secret_name) == setting.config_path


def test_defaults_apply_when_optional_sections_are_absent() -> None:
    settings = AppSettings.model_validate({"Identity": {"Secret": "x"}})
    assert settings.greeting.message == DEFAULT_GREETING
    assert "x" not in repr(settings)  # SecretStr keeps the value out of reprs


def test_deeper_nesting_joins_every_alias() -> None:
    class Pool(BaseModel):
        size: int = Field(default=5, alias="Size")

    class Database(BaseModel):
        pool: Pool = Field(default_factory=Pool, alias="Pool")
        password: SecretStr = Field(alias="Password")

    class Root(BaseModel):
        database: Database = Field(alias="Database")

    assert [(s.key, s.secret_name, s.required) for s in declared_settings(Root)] == [
        ("database.pool.size", "Database--Pool--Size", False),
        ("database.password", "Database--Password", True),
    ]


def test_a_field_without_alias_is_refused() -> None:
    class Unnamed(BaseModel):
        model_config = ConfigDict(frozen=True)
        secret: str

    with pytest.raises(TypeError) as caught:
        declared_settings(Unnamed)
    assert str(caught.value) == (
        "Unnamed.secret has no alias: every setting must declare its config path segment as "
        "its alias"
    )


def test_an_alias_that_cannot_be_a_secret_name_is_refused() -> None:
    class Badly(BaseModel):
        value: str = Field(alias="snake_case")

    with pytest.raises(SecretNameError):
        declared_settings(Badly)
