"""`python -m secretless_app verify`: a one-shot check, run by the platform's verifier as a
Kubernetes Job under a service's own ServiceAccount, that the service's identity can do exactly
what it should, on Azure itself:

1. `token ok`: its binding gives it a token for Key Vault;
2. `allowed read ok`: it reads one secret it is granted (VERIFY_ALLOWED_SECRET), by name;
3. `denied read 403`: Key Vault refuses it the canary (VERIFY_CANARY_SECRET), a secret no
   service is granted.

A step is `skipped (<reason>)` when there is nothing to prove: for the allowed read, the reason
VERIFY_ALLOWED_SKIP gives (keyVaultRole none), or no secret named; for the canary, the reason
VERIFY_CANARY_SKIP gives (a service with vault-wide access may read it), or no canary named.
New grants can take minutes to reach Key Vault, so each step is retried for
VERIFY_BUDGET_SECONDS (default 900) before it fails; the process then exits 7, naming the step.
Every step is one JSON line on stdout; a secret's value is never printed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

VERIFY_FAILED = 7
# What the platform's verifier Job sets (secretless_aks/components/manifests.py verifier_job).
VERIFY_VARIABLES = (
    "VERIFY_ALLOWED_SECRET",
    "VERIFY_ALLOWED_SKIP",
    "VERIFY_CANARY_SECRET",
    "VERIFY_CANARY_SKIP",
    "VERIFY_BUDGET_SECONDS",
)
DEFAULT_BUDGET_SECONDS = 900
RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class VerifySettings:
    allowed_secret: str | None  # VERIFY_ALLOWED_SECRET
    allowed_skip: str | None  # VERIFY_ALLOWED_SKIP: why there is no allowed read to prove
    canary_secret: str | None  # VERIFY_CANARY_SECRET
    canary_skip: str | None  # VERIFY_CANARY_SKIP: why the denied read proves nothing here
    budget_seconds: float  # VERIFY_BUDGET_SECONDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> VerifySettings:
        allowed, allowed_skip, canary, canary_skip, budget = (
            environ.get(name, "").strip() or None for name in VERIFY_VARIABLES
        )
        return cls(
            allowed_secret=allowed,
            allowed_skip=allowed_skip,
            canary_secret=canary,
            canary_skip=canary_skip,
            budget_seconds=float(budget) if budget and budget.isdigit() else DEFAULT_BUDGET_SECONDS,
        )


class StepFailedError(Exception):
    """A step that did not come out as it should, within the budget."""


def key_vault_scope(vault_url: str) -> str:
    """Key Vault's audience for a vault, as its challenge names it: the vault's domain
    (https://vault.azure.net for <name>.vault.azure.net, in each cloud its own)."""
    host = urlsplit(vault_url).netloc
    return f"https://{host.split('.', 1)[1]}/.default"


def verify(
    credential: TokenCredential,
    client: SecretClient,
    settings: VerifySettings,
    *,
    emit: Callable[[dict[str, str]], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the steps, emitting one record each; 0, or VERIFY_FAILED naming the failed step."""
    deadline = clock() + settings.budget_seconds

    def until(step: str, attempt: Callable[[], str | None], result: str) -> bool:
        """Retry `attempt` (None: done; else why not yet) until the deadline."""
        while True:
            why = attempt()
            if why is None:
                emit({"step": step, "result": result})
                return True
            if clock() >= deadline:
                emit({"step": step, "result": f"failed: {why}"})
                return False
            sleep(min(RETRY_SECONDS, max(deadline - clock(), 0)))

    def token() -> str | None:
        try:
            credential.get_token(key_vault_scope(client.vault_url))
        except Exception as error:  # noqa: BLE001 - the step's outcome, reported
            return _first_line(error)
        return None

    def allowed() -> str | None:
        assert settings.allowed_secret is not None
        try:
            client.get_secret(settings.allowed_secret)
        except HttpResponseError as error:
            return f"{settings.allowed_secret}: {error.status_code} {_code(error)}"
        return None

    def denied() -> str | None:
        assert settings.canary_secret is not None
        try:
            client.get_secret(settings.canary_secret)
        except ResourceNotFoundError:
            return f"{settings.canary_secret} does not exist, so a 403 proves nothing"
        except HttpResponseError as error:
            if error.status_code == 403:
                return None
            return f"{settings.canary_secret}: {error.status_code} {_code(error)}"
        return f"{settings.canary_secret} was read: the identity holds more than it should"

    if not until("token", token, "token ok"):
        return VERIFY_FAILED
    ok = True
    if settings.allowed_skip is not None:
        emit({"step": "allowed read", "result": f"skipped ({settings.allowed_skip})"})
    elif settings.allowed_secret is None:
        emit({"step": "allowed read", "result": "skipped (no secret to read)"})
    else:
        ok = until("allowed read", allowed, "allowed read ok") and ok
    if settings.canary_skip is not None:
        emit({"step": "denied read", "result": f"skipped ({settings.canary_skip})"})
    elif settings.canary_secret is None:
        emit({"step": "denied read", "result": "skipped (no canary named)"})
    else:
        ok = until("denied read", denied, "denied read 403") and ok
    return 0 if ok else VERIFY_FAILED


def _code(error: HttpResponseError) -> str:
    return (error.error.code if error.error is not None else None) or "no error code"


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def main() -> int:
    from .key_vault import create_credential, create_secret_client

    vault_url = os.environ.get("KEY_VAULT_URL", "").strip()
    if not vault_url:
        print(json.dumps({"step": "setup", "result": "failed: KEY_VAULT_URL is not set"}))
        return VERIFY_FAILED
    settings = VerifySettings.from_environment(os.environ)
    with (
        create_credential() as credential,
        create_secret_client(vault_url, credential) as client,
    ):
        return verify(
            credential,
            client,
            settings,
            emit=lambda record: print(json.dumps(record), flush=True),
        )


if __name__ == "__main__":
    sys.exit(main())
