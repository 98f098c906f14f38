"""The application's settings: a typed model whose every leaf names the config path it reads.

Each field's alias is its config path segment, so `identity.secret` reads `Identity:Secret`, which
Key Vault stores as the secret `Identity--Secret` (see secret_names). Add a setting by adding a
field here and seeding its secret through the platform's stack config; nothing else changes.

Settings that are secrets are `SecretStr`: their values never show in a repr, and the log
redactor masks them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_GREETING = "Hello from secretless-aks"


class _Section(BaseModel):
    # Populated by alias only: the config path is the one name a setting has in the vault.
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_alias=True)


class IdentitySettings(_Section):
    secret: SecretStr = Field(alias="Secret", min_length=1)


class GreetingSettings(_Section):
    message: str = Field(default=DEFAULT_GREETING, alias="Message", min_length=1, max_length=200)


class AppSettings(_Section):
    identity: IdentitySettings = Field(alias="Identity")
    greeting: GreetingSettings = Field(default_factory=GreetingSettings, alias="Greeting")
