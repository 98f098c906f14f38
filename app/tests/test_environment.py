"""KEY_VAULT_URL and PORT, checked once, every problem in one message."""

from __future__ import annotations

import pytest

from secretless_app.environment import (
    DEFAULT_PORT,
    POD_MANAGED_IDENTITY,
    AppEnvironment,
    read_environment,
)
from secretless_app.failures import ExitCode, FatalStartupError

VAULT = "https://orders-dev.vault.azure.net/"


def _failure(environ: dict[str, str]) -> FatalStartupError:
    with pytest.raises(FatalStartupError) as caught:
        read_environment(environ)
    assert caught.value.exit_code is ExitCode.CONFIGURATION
    return caught.value


def test_vault_url_alone_is_enough_and_port_defaults_to_8080() -> None:
    assert read_environment({"KEY_VAULT_URL": VAULT}) == AppEnvironment(
        key_vault_url=VAULT, port=DEFAULT_PORT, client_id=None
    )


def test_port_and_client_id_are_read() -> None:
    environment = read_environment({"KEY_VAULT_URL": VAULT, "PORT": "9000", "AZURE_CLIENT_ID": "c"})
    assert (environment.port, environment.client_id) == (9000, "c")


def test_the_startup_grace_defaults_to_azures_ten_minutes_and_is_read() -> None:
    assert read_environment({"KEY_VAULT_URL": VAULT}).forbidden_grace_seconds == 600
    grace = {"KEY_VAULT_URL": VAULT, "STARTUP_FORBIDDEN_GRACE_SECONDS": "0"}
    assert read_environment(grace).forbidden_grace_seconds == 0


@pytest.mark.parametrize("raw", ["-1", "1.5", "ten", "3601", "\u0663"])
def test_a_startup_grace_that_is_no_whole_number_of_seconds_is_refused(raw: str) -> None:
    failure = _failure({"KEY_VAULT_URL": VAULT, "STARTUP_FORBIDDEN_GRACE_SECONDS": raw})
    assert failure.message == (
        f"STARTUP_FORBIDDEN_GRACE_SECONDS must be a whole number of seconds from 0 to 3600, "
        f"got {raw!r}"
    )


def test_identity_is_named_by_client_id_under_workload_identity() -> None:
    environment = AppEnvironment(VAULT, DEFAULT_PORT, client_id="5e3a")
    assert environment.identity_name == "client id 5e3a (AZURE_CLIENT_ID)"


def test_identity_is_the_pods_managed_identity_without_client_id() -> None:
    environment = AppEnvironment(VAULT, DEFAULT_PORT, client_id=None)
    assert environment.identity_name == POD_MANAGED_IDENTITY == "the pod's managed identity"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "",
            "KEY_VAULT_URL is not set: set it to the vault's URI, https://<vault-name>.vault.azure.net/",
        ),
        (
            "http://orders-dev.vault.azure.net/",
            "KEY_VAULT_URL must be an https URL like https://<vault-name>.vault.azure.net/, "
            "got 'http://orders-dev.vault.azure.net/'",
        ),
        (
            "orders-dev.vault.azure.net",
            "KEY_VAULT_URL must be an https URL like https://<vault-name>.vault.azure.net/, "
            "got 'orders-dev.vault.azure.net'",
        ),
        (
            "https://orders-dev.vault.azure.net/secrets/Identity--Secret",
            "KEY_VAULT_URL must be the vault's URI alone, like "
            "https://<vault-name>.vault.azure.net/, "
            "got 'https://orders-dev.vault.azure.net/secrets/Identity--Secret'",
        ),
        (
            "https://orders-dev.vault.azure.net:https/",
            "KEY_VAULT_URL has an invalid port: 'https://orders-dev.vault.azure.net:https/'",
        ),
    ],
)
def test_vault_url_must_be_the_https_uri_of_a_vault(url: str, message: str) -> None:
    assert _failure({"KEY_VAULT_URL": url}).message == message


@pytest.mark.parametrize("port", ["0", "65536", "eighty", "-1"])
def test_port_must_be_a_tcp_port(port: str) -> None:
    assert _failure({"KEY_VAULT_URL": VAULT, "PORT": port}).message == (
        f"PORT must be a TCP port number from 1 to 65535, got {port!r}"
    )


def test_every_problem_is_reported_together() -> None:
    assert _failure({"PORT": "x"}).message == (
        "KEY_VAULT_URL is not set: set it to the vault's URI, "
        "https://<vault-name>.vault.azure.net/; "
        "PORT must be a TCP port number from 1 to 65535, got 'x'"
    )


def test_the_granted_names_are_read_case_insensitively_and_absent_means_the_whole_vault() -> None:
    whole_vault = read_environment({"KEY_VAULT_URL": VAULT})
    assert whole_vault.secret_scope is None and whole_vault.may_read("Anything--At-All")
    scoped = read_environment(
        {"KEY_VAULT_URL": VAULT, "KEY_VAULT_GRANTED_NAMES": "Identity--Secret, Orders--Db"}
    )
    assert scoped.secret_scope == frozenset({"identity--secret", "orders--db"})
    assert scoped.may_read("IDENTITY--SECRET") and scoped.may_read("Orders--Db")
    assert not scoped.may_read("Greeting--Message")


def test_a_granted_name_that_no_setting_could_have_is_refused() -> None:
    failure = _failure({"KEY_VAULT_URL": VAULT, "KEY_VAULT_GRANTED_NAMES": "Identity--Secret,a_b"})
    assert failure.message == (
        "KEY_VAULT_GRANTED_NAMES: secret name 'a_b' must be 1-127 letters, digits and hyphens"
    )
