"""Credential and authentication failures, through the real SecretClient and the test double."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from azure.core.exceptions import ClientAuthenticationError

from secretless_app.environment import AppEnvironment
from secretless_app.failures import ExitCode, FatalStartupError
from secretless_app.json_logging import SecretRedactor
from secretless_app.key_vault import create_secret_client
from secretless_app.settings import AppSettings
from secretless_app.settings_loader import load_settings
from tests.azure_double import AzureDouble
from tests.conftest import CLIENT_ID, DoubleToken


class FailingCredential:
    def __init__(self, error: Exception) -> None:
        self._error = error

    def get_token(self, *_scopes: str, **_: Any) -> NoReturn:
        raise self._error

    def get_token_info(self, *_scopes: str, **_: Any) -> NoReturn:
        raise self._error


def _failure(
    double: AzureDouble, credential: Any, environment: AppEnvironment
) -> FatalStartupError:
    double.script.secrets = {"Identity--Secret": "s"}
    with (
        create_secret_client(double.url, credential) as client,
        pytest.raises(FatalStartupError) as caught,
    ):
        load_settings(AppSettings, client, environment, SecretRedactor())
    return caught.value


def test_a_credential_chain_that_gets_no_token_is_no_credential(
    double: AzureDouble, environment: AppEnvironment
) -> None:
    chain_error = ClientAuthenticationError(
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tWorkloadIdentityCredential: unavailable"
    )
    failure = _failure(double, FailingCredential(chain_error), environment)
    assert failure.exit_code is ExitCode.NO_CREDENTIAL
    assert failure.message.startswith(f"no credential could get a token for Key Vault {double.url}")
    # The SDK's multi-line explanation, folded into the one line.
    assert failure.fields["cause"] == (
        "DefaultAzureCredential failed to retrieve a token from the included credentials. "
        "Attempted credentials: WorkloadIdentityCredential: unavailable"
    )


def test_a_token_the_vault_rejects_is_reported_as_rejected(
    double: AzureDouble, environment: AppEnvironment
) -> None:
    failure = _failure(double, DoubleToken("a-token-the-double-never-issued"), environment)
    assert failure.exit_code is ExitCode.NO_CREDENTIAL
    assert failure.message == (
        f"Key Vault {double.url} rejected the token of client id {CLIENT_ID} (AZURE_CLIENT_ID) "
        "(401 Unauthorized): is the vault in the identity's tenant?"
    )


def test_an_error_the_app_does_not_know_is_unexpected(
    double: AzureDouble, environment: AppEnvironment
) -> None:
    failure = _failure(double, FailingCredential(RuntimeError("boom")), environment)
    assert failure.exit_code is ExitCode.UNEXPECTED
    assert failure.message == (
        f"unexpected RuntimeError reading secret Identity--Secret from Key Vault {double.url}"
    )
    assert failure.fields["cause"] == "boom"


def test_a_challenge_for_another_domain_is_refused_before_any_token_is_asked(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    """The SDK checks the challenge's resource against the vault's host; the app keeps it on."""
    double.script.challenge_resource = "https://vault.azure.net"
    failure = _failure(double, credential, environment)
    assert failure.exit_code is ExitCode.VAULT_NOT_FOUND
    assert failure.message == (
        f"Key Vault {double.url} not found: the host's authentication challenge names a resource "
        "its domain does not belong to; check that KEY_VAULT_URL is the vault's URI, "
        "https://<vault-name>.vault.azure.net/"
    )
    assert "verify_challenge_resource" not in str(failure.fields)
    assert credential.scopes == []


def test_a_403_from_the_vaults_firewall_points_at_the_network_not_the_roles(
    double: AzureDouble, credential: DoubleToken, environment: AppEnvironment
) -> None:
    double.script.firewalled = True
    failure = _failure(double, credential, environment)
    assert failure.exit_code is ExitCode.FORBIDDEN
    assert failure.message == (
        f"Key Vault {double.url}'s firewall refuses this pod's address (403 ForbiddenByFirewall): "
        "allow the cluster's subnet or use a private endpoint"
    )
    # No role assignment taking effect would open the network: the app does not wait for it.
    assert not failure.until_granted
