"""The app's non-secret settings from App Configuration (APP_CONFIGURATION_ENDPOINT, which the
platform renders from the service's App Configuration Data Reader grant), each key-value read by
its key (`Greeting:Message`, the setting's config path) and label (APP_CONFIGURATION_LABEL, the
stack's name), with the process's one credential. A Key Vault reference there is resolved
through the same credential, by the caller (settings_loader.py).

The data plane's Get Key-Value (learn.microsoft.com/azure/azure-app-configuration/rest-api-key-
value), called through azure-core's pipeline (signed_client.py): one GET per setting, never a
list, as with Key Vault.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from .failures import ExitCode, FatalStartupError
from .signed_client import signed_client

# The audience of App Configuration in Azure's public cloud.
APP_CONFIGURATION_SCOPE = "https://azconfig.io/.default"
API_VERSION = "2023-11-01"
KEY_VAULT_REFERENCE = "application/vnd.microsoft.appconfig.keyvaultref+json"


@dataclass(frozen=True)
class KeyValue:
    value: str
    # The Key Vault secret's URI when the key-value is a Key Vault reference.
    key_vault_reference: str | None = None
    # Its etag: a new value has a new one (the setting's version in /config).
    etag: str | None = None


class AppConfiguration:
    def __init__(
        self, endpoint: str, label: str | None, credential: TokenCredential, identity: str
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.label = label
        self._identity = identity
        self._client = signed_client(
            self.endpoint,
            credential,
            APP_CONFIGURATION_SCOPE,
            {"Accept": "application/vnd.microsoft.appconfig.kv+json"},
        )

    def source(self, key: str) -> str:
        """How /config names where a setting came from."""
        return f"App Configuration {key}" + (f" (label {self.label})" if self.label else "")

    def get(self, key: str) -> KeyValue | None:
        """The key-value, or None when the store has no such key with the label."""
        params = {"api-version": API_VERSION}
        if self.label:
            params["label"] = self.label
        request = HttpRequest("GET", f"{self.endpoint}/kv/{quote(key, safe='')}", params=params)
        try:
            response = self._client.send_request(request)
        except AzureError as error:
            raise FatalStartupError(
                ExitCode.VAULT_UNAVAILABLE,
                f"cannot read {key} from App Configuration {self.endpoint}: {error}",
                {"setting_key": key, "app_configuration": self.endpoint},
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code == 403:
            raise FatalStartupError(
                ExitCode.FORBIDDEN,
                f"{self._identity} may not read {key} from App Configuration {self.endpoint} "
                "(403 Forbidden): give it App Configuration Data Reader on the store "
                "(azureAccess); a new role assignment can take a few minutes to apply",
                {"setting_key": key, "app_configuration": self.endpoint},
                until_granted=True,
            )
        if response.status_code != 200:
            raise FatalStartupError(
                ExitCode.VAULT_UNAVAILABLE,
                f"App Configuration {self.endpoint} answered {response.status_code} for {key}",
                {"setting_key": key, "app_configuration": self.endpoint},
            )
        found = response.json()
        value = str(found.get("value") or "")
        content_type = str(found.get("content_type") or "")
        etag = str(found.get("etag") or "") or None
        if content_type.split(";")[0].strip().lower() == KEY_VAULT_REFERENCE:
            reference = str(json.loads(value).get("uri", ""))
            return KeyValue(value="", key_vault_reference=reference, etag=etag)
        return KeyValue(value=value, etag=etag)
