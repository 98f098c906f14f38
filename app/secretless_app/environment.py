"""The process environment this app reads, checked once at startup.

The Azure variables (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
AZURE_AUTHORITY_HOST) belong to azure-identity, which reads them itself; this module only reads
AZURE_CLIENT_ID to name the identity in error messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .failures import ExitCode, FatalStartupError
from .secret_names import SecretNameError, config_path

DEFAULT_PORT = 8080
# How long a starting app waits for a role assignment to take effect before a 403 stops it:
# Azure says changes can take up to 10 minutes (learn.microsoft.com/azure/role-based-access-
# control/troubleshooting, "Role assignment changes are not being detected").
DEFAULT_FORBIDDEN_GRACE_SECONDS = 600
MAX_FORBIDDEN_GRACE_SECONDS = 3600
# Settings are read again this often, so a rotated secret reaches the running process; 0: never.
DEFAULT_REFRESH_SECONDS = 300
# How old the last good read may get, while refreshes fail, before /readyz says unready.
DEFAULT_MAX_STALENESS_SECONDS = 3600
MAX_REFRESH_SECONDS = 86400
VAULT_URL_EXAMPLE = "https://<vault-name>.vault.azure.net/"
# AZURE_TOKEN_CREDENTIALS values that mean a developer's own sign-in (azure-identity's `dev`
# group, or its Azure CLI credential alone).
DEVELOPER_CREDENTIALS = frozenset({"dev", "azureclicredential"})
# Under AAD Pod Identity the webhook sets nothing and NMI answers for the pod's identity.
POD_MANAGED_IDENTITY = "the pod's managed identity"


@dataclass(frozen=True)
class AppEnvironment:
    key_vault_url: str
    port: int
    client_id: str | None  # AZURE_CLIENT_ID, set by the workload-identity webhook
    forbidden_grace_seconds: int = (
        DEFAULT_FORBIDDEN_GRACE_SECONDS  # STARTUP_FORBIDDEN_GRACE_SECONDS
    )
    # KEY_VAULT_GRANTED_NAMES: the secrets the identity is granted one by one, lower-cased (Key
    # Vault names are case-insensitive); None when it may read the whole vault.
    secret_scope: frozenset[str] | None = None
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS  # SECRET_REFRESH_SECONDS
    max_staleness_seconds: int = DEFAULT_MAX_STALENESS_SECONDS  # SECRET_MAX_STALENESS_SECONDS
    # AZURE_TOKEN_CREDENTIALS, which azure-identity reads itself: `dev` on a developer's
    # machine (`make -C app run`), the binding's credential in a pod.
    token_credentials: str | None = None
    # BLOB_CONTAINER_URL: a container /readyz checks the identity can list; None for none.
    blob_container_url: str | None = None
    # APP_CONFIGURATION_ENDPOINT and _LABEL: the store non-secret settings come from first.
    app_configuration_endpoint: str | None = None
    app_configuration_label: str | None = None

    @property
    def signs_in_as_developer(self) -> bool:
        """Whether the credential is a developer's own sign-in (az login and its kin)."""
        return (self.token_credentials or "").lower() in DEVELOPER_CREDENTIALS

    def may_read(self, secret_name: str) -> bool:
        """Whether the identity is granted `secret_name`: any other read would get 403."""
        return self.secret_scope is None or secret_name.lower() in self.secret_scope

    @property
    def identity_name(self) -> str:
        """How error messages name the identity whose roles matter."""
        if self.client_id:
            return f"client id {self.client_id} (AZURE_CLIENT_ID)"
        return POD_MANAGED_IDENTITY


def read_environment(environ: Mapping[str, str]) -> AppEnvironment:
    """Every problem in one FatalStartupError, so one restart shows them all."""
    problems: list[str] = []
    key_vault_url = environ.get("KEY_VAULT_URL", "").strip()
    problems.extend(_vault_url_problems(key_vault_url))
    port = _parse_port(environ.get("PORT", ""), problems)
    grace = _parse_seconds(
        "STARTUP_FORBIDDEN_GRACE_SECONDS",
        environ,
        DEFAULT_FORBIDDEN_GRACE_SECONDS,
        MAX_FORBIDDEN_GRACE_SECONDS,
        problems,
    )
    refresh = _parse_seconds(
        "SECRET_REFRESH_SECONDS", environ, DEFAULT_REFRESH_SECONDS, MAX_REFRESH_SECONDS, problems
    )
    staleness = _parse_seconds(
        "SECRET_MAX_STALENESS_SECONDS",
        environ,
        DEFAULT_MAX_STALENESS_SECONDS,
        MAX_REFRESH_SECONDS,
        problems,
    )
    if refresh and staleness < refresh:
        problems.append(
            f"SECRET_MAX_STALENESS_SECONDS ({staleness}) must be at least SECRET_REFRESH_SECONDS "
            f"({refresh}): a value is that old before its first refresh"
        )
    scope = _parse_scope(environ.get("KEY_VAULT_GRANTED_NAMES", ""), problems)
    store = environ.get("APP_CONFIGURATION_ENDPOINT", "").strip() or None
    if store is not None:
        problems.extend(_store_endpoint_problems(store))
    container = environ.get("BLOB_CONTAINER_URL", "").strip() or None
    if container is not None:
        problems.extend(_container_url_problems(container))
    if problems:
        raise FatalStartupError(ExitCode.CONFIGURATION, "; ".join(problems))
    return AppEnvironment(
        key_vault_url=key_vault_url,
        port=port,
        client_id=environ.get("AZURE_CLIENT_ID") or None,
        forbidden_grace_seconds=grace,
        refresh_seconds=refresh,
        max_staleness_seconds=staleness,
        secret_scope=scope,
        token_credentials=environ.get("AZURE_TOKEN_CREDENTIALS", "").strip() or None,
        blob_container_url=container,
        app_configuration_endpoint=store,
        app_configuration_label=environ.get("APP_CONFIGURATION_LABEL", "").strip() or None,
    )


STORE_ENDPOINT_EXAMPLE = "https://<store>.azconfig.io"


def _store_endpoint_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.path not in {"", "/"} or parts.query:
        return [
            f"APP_CONFIGURATION_ENDPOINT must be a store's https endpoint, {STORE_ENDPOINT_EXAMPLE}"
        ]
    return []


CONTAINER_URL_EXAMPLE = "https://<account>.blob.core.windows.net/<container>"


def _container_url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    # A bearer token travels with every request: TLS only, and the container alone.
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.scheme != "https" or not parts.hostname or len(segments) != 1 or parts.query:
        return [f"BLOB_CONTAINER_URL must be a container's https URL, {CONTAINER_URL_EXAMPLE}"]
    return []


def _vault_url_problems(url: str) -> list[str]:
    if not url:
        return [f"KEY_VAULT_URL is not set: set it to the vault's URI, {VAULT_URL_EXAMPLE}"]
    parts = urlsplit(url)
    # Bearer tokens must only travel over TLS; the Key Vault SDK refuses plain http too.
    if parts.scheme != "https" or not parts.hostname:
        return [f"KEY_VAULT_URL must be an https URL like {VAULT_URL_EXAMPLE}, got {url!r}"]
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return [f"KEY_VAULT_URL has an invalid port: {url!r}"]
    has_extras = parts.username or parts.password or parts.query or parts.fragment
    if has_extras or parts.path not in {"", "/"}:
        return [
            f"KEY_VAULT_URL must be the vault's URI alone, like {VAULT_URL_EXAMPLE}, got {url!r}"
        ]
    return []


def _parse_port(raw: str, problems: list[str]) -> int:
    if not raw.strip():
        return DEFAULT_PORT
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        problems.append(f"PORT must be a TCP port number from 1 to 65535, got {raw!r}")
    return port


def _parse_seconds(
    name: str, environ: Mapping[str, str], default: int, maximum: int, problems: list[str]
) -> int:
    raw = environ.get(name, "")
    if not raw.strip():
        return default
    # ASCII digits only: int() would also take "٣" or "1_0".
    if not (raw.isascii() and raw.isdigit()) or int(raw) > maximum:
        problems.append(
            f"{name} must be a whole number of seconds from 0 to {maximum}, got {raw!r}"
        )
        return 0
    return int(raw)


def _parse_scope(raw: str, problems: list[str]) -> frozenset[str] | None:
    """Comma-separated secret names, as the platform renders a service's `secretScope`."""
    if not raw.strip():
        return None
    names = [name.strip() for name in raw.split(",")]
    for name in names:
        try:
            config_path(name)  # a name this app could declare: it round-trips
        except SecretNameError as error:
            problems.append(f"KEY_VAULT_GRANTED_NAMES: {error}")
    return frozenset(name.lower() for name in names)
