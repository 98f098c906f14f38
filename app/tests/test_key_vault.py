"""The client's retries: bounded exponential backoff for what may pass, none for what cannot.

azure-core's transport sleeps between attempts; the tests record those sleeps instead of
waiting them out, so the whole schedule is checked in milliseconds.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from azure.core.pipeline.transport import RequestsTransport

from secretless_app.environment import AppEnvironment
from secretless_app.failures import ExitCode, FatalStartupError
from secretless_app.json_logging import SecretRedactor
from secretless_app.key_vault import RETRY_TOTAL, create_secret_client
from secretless_app.settings import AppSettings
from secretless_app.settings_loader import load_settings
from tests.azure_double import AzureDouble, free_port
from tests.conftest import DoubleToken

UNKNOWN_VAULT = "https://no-such-vault.vault.azure.net"
# 0, 1, 2, 4 and 8 s: the first retry is immediate, so the transport sleeps four times.
EXPECTED_SLEEPS = [1.0, 2.0, 4.0, 8.0]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda _self, seconds: recorded.append(seconds))
    return recorded


def _load_failure(vault_url: str, credential: Any) -> FatalStartupError:
    environment = AppEnvironment(key_vault_url=vault_url, port=8080, client_id=None)
    with (
        create_secret_client(vault_url, credential) as client,
        pytest.raises(FatalStartupError) as caught,
    ):
        load_settings(AppSettings, client, environment, SecretRedactor())
    return caught.value


def _dns_answering(monkeypatch: pytest.MonkeyPatch, errno: int) -> list[str]:
    """getaddrinfo fails with `errno` for the unknown vault; nothing leaves the machine."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-vault.vault.azure.net":
            asked.append(host)
            raise socket.gaierror(errno, "test double of a DNS answer")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def test_throttling_and_5xx_are_retried_five_times_with_doubling_backoff(
    double: AzureDouble, credential: DoubleToken, sleeps: list[float]
) -> None:
    double.script.secrets = {"Identity--Secret": "s"}
    double.script.transient_failures = {"Identity--Secret": [503] * 10}
    failure = _load_failure(double.url, credential)
    assert failure.exit_code is ExitCode.VAULT_UNAVAILABLE
    assert failure.message == (
        f"Key Vault {double.url} still answered 503 for secret Identity--Secret after retrying "
        "with backoff"
    )
    authorized = [r for r in double.requests("keyvault") if "authorization" in r.headers]
    assert len(authorized) == 1 + RETRY_TOTAL
    assert sleeps == EXPECTED_SLEEPS


def test_a_429_then_success_is_retried(
    double: AzureDouble, credential: DoubleToken, sleeps: list[float]
) -> None:
    double.script.secrets = {"Identity--Secret": "s"}
    double.script.transient_failures = {"Identity--Secret": [429]}
    environment = AppEnvironment(key_vault_url=double.url, port=8080, client_id=None)
    with create_secret_client(double.url, credential) as client:
        loaded = load_settings(AppSettings, client, environment, SecretRedactor())
    assert loaded.sources[0].source == "Identity--Secret"
    assert sleeps == []  # the first retry is immediate


def test_a_refused_connection_is_retried_then_reported_unavailable(sleeps: list[float]) -> None:
    vault_url = f"https://127.0.0.1:{free_port()}"
    failure = _load_failure(vault_url, DoubleToken("unused"))
    assert failure.exit_code is ExitCode.VAULT_UNAVAILABLE
    assert failure.message == (
        f"Key Vault {vault_url} could not be reached for secret Identity--Secret after retrying "
        "with backoff (ServiceRequestError)"
    )
    assert sleeps == EXPECTED_SLEEPS


def test_a_vault_name_dns_does_not_know_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    asked = _dns_answering(monkeypatch, socket.EAI_NONAME)
    credential = DoubleToken("unused")
    failure = _load_failure(UNKNOWN_VAULT, credential)
    assert failure.exit_code is ExitCode.VAULT_NOT_FOUND
    assert failure.message == (
        f"Key Vault {UNKNOWN_VAULT} not found: its host name no-such-vault.vault.azure.net does "
        "not resolve; check that KEY_VAULT_URL is the vault's URI, "
        "https://<vault-name>.vault.azure.net/"
    )
    assert (len(asked), sleeps, credential.scopes) == (1, [], [])


def test_a_temporary_dns_failure_is_retried(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    asked = _dns_answering(monkeypatch, socket.EAI_AGAIN)
    failure = _load_failure(UNKNOWN_VAULT, DoubleToken("unused"))
    assert failure.exit_code is ExitCode.VAULT_UNAVAILABLE
    assert len(asked) == 1 + RETRY_TOTAL
    assert sleeps == EXPECTED_SLEEPS
