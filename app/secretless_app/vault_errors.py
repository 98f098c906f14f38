"""What an Azure SDK error while reading a secret means: a FatalStartupError saying what to fix.

Transient failures never reach this module as such: the client's retry policy (key_vault.py) has
already retried them, so a 429, 5xx or connection error here has outlasted the retries.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from .environment import VAULT_URL_EXAMPLE, AppEnvironment
from .failures import ExitCode, FatalStartupError

SECRET_NOT_FOUND = "SecretNotFound"  # Key Vault's error code for a secret that does not exist
FORBIDDEN_BY_FIREWALL = "ForbiddenByFirewall"  # its inner code for a 403 from network rules
# getaddrinfo's answers for a name that does not exist (as opposed to EAI_AGAIN, a DNS hiccup).
_UNKNOWN_HOST_ERRNOS = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_ROLE_DELAY_REMINDER = "a new role assignment can take a few minutes to apply"
# SecretClient's ValueError when a 401 challenge names a resource the vault's host is not under
# (azure/keyvault/secrets/_shared/challenge_auth_policy.py, _validate_challenge_resource).
_CHALLENGE_MISMATCH = "does not match the requested domain"


def is_secret_not_found(error: ResourceNotFoundError) -> bool:
    """A 404 for the secret, not for the vault: Key Vault names the code in its error body."""
    return error.error is not None and error.error.code == SECRET_NOT_FOUND


def is_unknown_host(error: BaseException) -> bool:
    """Whether DNS said the host does not exist, anywhere in the exception's chain."""
    return any(
        isinstance(cause, socket.gaierror) and cause.errno in _UNKNOWN_HOST_ERRNOS
        for cause in _causes(error)
    )


def explain(error: Exception, secret_name: str, environment: AppEnvironment) -> FatalStartupError:
    """The failure to report for `error`, raised while reading `secret_name`."""
    vault = environment.key_vault_url
    fields = {"secret_name": secret_name, "vault_url": vault, "cause": _one_line(str(error))}
    if isinstance(error, ClientAuthenticationError):
        return _authentication_failure(error, environment, fields)
    if isinstance(error, ValueError) and _CHALLENGE_MISMATCH in str(error):
        # The SDK's own text suggests turning the check off; this app never does.
        return FatalStartupError(
            ExitCode.VAULT_NOT_FOUND,
            f"Key Vault {vault} not found: the host's authentication challenge names a resource "
            f"its domain does not belong to; check that KEY_VAULT_URL is the vault's URI, "
            f"{VAULT_URL_EXAMPLE}",
            {"secret_name": secret_name, "vault_url": vault},
        )
    if isinstance(error, ResourceNotFoundError):
        return FatalStartupError(
            ExitCode.VAULT_NOT_FOUND,
            f"Key Vault {vault} not found: it answered 404 for the vault itself, not "
            f"{SECRET_NOT_FOUND}; check that KEY_VAULT_URL is the vault's URI, {VAULT_URL_EXAMPLE}",
            fields,
        )
    if isinstance(error, HttpResponseError) and error.status_code == 403:
        if _inner_error_code(error) == FORBIDDEN_BY_FIREWALL:
            # Not a role problem: granting roles would not help, opening the network would.
            return FatalStartupError(
                ExitCode.FORBIDDEN,
                f"Key Vault {vault}'s firewall refuses this pod's address (403 "
                f"{FORBIDDEN_BY_FIREWALL}): allow the cluster's subnet or use a private endpoint",
                fields,
            )
        return FatalStartupError(
            ExitCode.FORBIDDEN,
            f"{environment.identity_name} may not read secret {secret_name} in Key Vault {vault} "
            f"(403 {_error_code(error)}): give it Key Vault Secrets User on that secret or the "
            f"vault; {_ROLE_DELAY_REMINDER}",
            fields,
            until_granted=True,
        )
    if isinstance(error, HttpResponseError) and error.status_code in _TRANSIENT_STATUSES:
        return FatalStartupError(
            ExitCode.VAULT_UNAVAILABLE,
            f"Key Vault {vault} still answered {error.status_code} for secret {secret_name} "
            "after retrying with backoff",
            fields,
        )
    if isinstance(error, ServiceRequestError) and is_unknown_host(error):
        return FatalStartupError(
            ExitCode.VAULT_NOT_FOUND,
            f"Key Vault {vault} not found: its host name {urlsplit(vault).hostname} does not "
            f"resolve; check that KEY_VAULT_URL is the vault's URI, {VAULT_URL_EXAMPLE}",
            fields,
        )
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return FatalStartupError(
            ExitCode.VAULT_UNAVAILABLE,
            f"Key Vault {vault} could not be reached for secret {secret_name} after retrying "
            f"with backoff ({type(error).__name__})",
            fields,
        )
    return FatalStartupError(
        ExitCode.UNEXPECTED,
        f"unexpected {type(error).__name__} reading secret {secret_name} from Key Vault {vault}",
        fields,
    )


def _authentication_failure(
    error: ClientAuthenticationError, environment: AppEnvironment, fields: dict[str, str]
) -> FatalStartupError:
    vault = environment.key_vault_url
    # A 401 from the vault itself has a response; a credential chain's failure has none.
    request_url = getattr(getattr(error.response, "request", None), "url", None)
    if isinstance(request_url, str) and _same_host(request_url, vault):
        return FatalStartupError(
            ExitCode.NO_CREDENTIAL,
            f"Key Vault {vault} rejected the token of {environment.identity_name} "
            f"({error.status_code} {_error_code(error)}): is the vault in the identity's tenant?",
            fields,
        )
    if environment.signs_in_as_developer:
        return FatalStartupError(
            ExitCode.NO_CREDENTIAL,
            f"no Azure sign-in on this machine: run `az login` first, then start the app "
            f"again (AZURE_TOKEN_CREDENTIALS={environment.token_credentials} reads Key Vault "
            f"{vault} as you)",
            fields,
        )
    return FatalStartupError(
        ExitCode.NO_CREDENTIAL,
        f"no credential could get a token for Key Vault {vault}: workload identity needs "
        "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE from the webhook (pod "
        "label azure.workload.identity/use and the ServiceAccount's client-id annotation); pod "
        "identity needs NMI to answer the instance-metadata endpoint for this pod (label "
        "aadpodidbinding); the cause field lists what each credential said",
        fields,
    )


def _error_code(error: HttpResponseError) -> str:
    return (error.error.code if error.error is not None else None) or "no error code"


def _inner_error_code(error: HttpResponseError) -> str | None:
    if error.error is None:
        return None
    code = error.error.innererror.get("code")
    return code if isinstance(code, str) else None


def _same_host(url: str, other: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(other).netloc.lower()


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: azure-core, requests and urllib3 each wrap differently."""
    pending: list[object] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend((current.__cause__, current.__context__, *current.args))
        pending.extend(getattr(current, name, None) for name in ("inner_exception", "reason"))
