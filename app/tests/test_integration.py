"""The real app process against a loopback HTTPS test double of Entra ID, IMDS and Key Vault.

The double (tests/azure_double.py) imitates Azure's APIs on 127.0.0.1; it is not Azure. Each
test starts `python -m secretless_app` with the environment a pod would have under one binding,
then checks what the app sent, what it answers, what it logged and how it exited.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.app_process import (
    FEDERATED_TOKEN,
    WORKLOAD_CLIENT_ID,
    AppProcess,
    Response,
    base_environment,
    workload_identity_environment,
)
from tests.azure_double import JWT_BEARER, TENANT_ID, AzureDouble, RecordedRequest, version_of
from tests.dockerfile import healthcheck_command, parse_dockerfile

SECRET_VALUE = "s3cret-Value-that-must-never-show"
GREETING_VALUE = "Hello from the vault"
FORBIDDEN_EXIT = 4
# The 403 tests that expect the exit at once: no startup grace for a role to take effect.
NO_GRACE = {"STARTUP_FORBIDDEN_GRACE_SECONDS": "0"}


@dataclass(frozen=True)
class FinishedRun:
    """Everything a test may look at once the app has been stopped."""

    double: AzureDouble
    responses: dict[str, Response]
    log_text: str
    log_records: list[dict[str, Any]]
    exit_code: int
    healthcheck_while_running: int
    healthcheck_after_stop: int


def _run_healthcheck(port: int) -> int:
    """The Dockerfile's HEALTHCHECK command, as the container runtime would run it."""
    command = healthcheck_command(parse_dockerfile())
    return subprocess.run(
        [sys.executable, *command[1:]],
        env={"PORT": str(port)},
        capture_output=True,
        timeout=10,
        check=False,
    ).returncode


def _serve_then_stop(
    workdir: Path, double: AzureDouble, environment: dict[str, str]
) -> FinishedRun:
    app = AppProcess(environment, workdir / "app.log")
    try:
        app.wait_ready()
        responses = {path: app.get(path) for path in ("/healthz", "/readyz", "/config")}
        healthy = _run_healthcheck(app.port)
        exit_code = app.stop()
        unhealthy = _run_healthcheck(app.port)
    finally:
        app.close()
    return FinishedRun(
        double, responses, app.log_text(), app.log_records(), exit_code, healthy, unhealthy
    )


@pytest.fixture(scope="module")
def workload_identity_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FinishedRun]:
    workdir = tmp_path_factory.mktemp("workload-identity")
    with AzureDouble(workdir) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        environment = base_environment(workdir, double)
        environment |= workload_identity_environment(workdir, double)
        yield _serve_then_stop(workdir, double, environment)


@pytest.fixture(scope="module")
def pod_identity_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FinishedRun]:
    """AAD Pod Identity: no Azure variables at all; NMI answers the metadata endpoint."""
    workdir = tmp_path_factory.mktemp("pod-identity")
    with AzureDouble(workdir) as double:
        double.script.secrets = {
            "Identity--Secret": SECRET_VALUE,
            "Greeting--Message": GREETING_VALUE,
        }
        yield _serve_then_stop(workdir, double, base_environment(workdir, double))


def _secret_gets(double: AzureDouble) -> list[RecordedRequest]:
    return [r for r in double.requests("keyvault") if r.path.startswith("/secrets/")]


def _run_until_exit(workdir: Path, environment: dict[str, str]) -> tuple[int, AppProcess]:
    app = AppProcess(environment, workdir / "app.log")
    try:
        return app.wait_exit(), app
    finally:
        app.close()


def _single_error_line(app: AppProcess) -> dict[str, Any]:
    """The one line a fatal failure gets; nothing else is logged at WARNING or above."""
    records = app.log_records()
    loud = [r for r in records if r["level"] in {"WARNING", "ERROR", "CRITICAL"}]
    assert len(loud) == 1, app.log_text()
    assert loud[0]["level"] == "ERROR"
    return loud[0]


# -- workload identity -------------------------------------------------------------------------


def test_workload_identity_token_request_carries_the_federated_token(
    workload_identity_run: FinishedRun,
) -> None:
    (token_request,) = workload_identity_run.double.requests("entra")
    assert token_request.method == "POST"
    assert token_request.path == f"/{TENANT_ID}/oauth2/v2.0/token"
    assert token_request.form["client_assertion"] == FEDERATED_TOKEN
    assert token_request.form["client_assertion_type"] == JWT_BEARER
    assert token_request.form["client_id"] == WORKLOAD_CLIENT_ID
    assert token_request.form["grant_type"] == "client_credentials"
    # The scope follows from the vault's challenge, not from a hard-coded resource.
    assert token_request.form["scope"] == f"{workload_identity_run.double.resource}/.default"


def test_workload_identity_never_asks_the_metadata_endpoint(
    workload_identity_run: FinishedRun,
) -> None:
    assert workload_identity_run.double.requests("imds") == []


def test_key_vault_gets_carry_the_token_the_double_issued(
    workload_identity_run: FinishedRun,
) -> None:
    gets = _secret_gets(workload_identity_run.double)
    challenge, *authorized = gets
    assert "authorization" not in challenge.headers  # the SDK elicits the 401 challenge first
    assert [r.path.rstrip("/") for r in authorized] == [
        "/secrets/Identity--Secret",
        "/secrets/Greeting--Message",
    ]
    expected = f"Bearer {workload_identity_run.double.workload_token}"
    assert all(r.headers["authorization"] == expected for r in authorized)


def test_app_turns_ready_and_stays_healthy(workload_identity_run: FinishedRun) -> None:
    assert workload_identity_run.responses["/readyz"].status == 200
    assert workload_identity_run.responses["/healthz"].status == 200


def test_config_lists_each_setting_and_its_source_never_a_value(
    workload_identity_run: FinishedRun,
) -> None:
    config = workload_identity_run.responses["/config"]
    assert config.status == 200
    (read_at,) = {setting["readAt"] for setting in config.body["settings"]}
    assert config.body == {
        "settings": [
            {
                "key": "identity.secret",
                "source": "Identity--Secret",
                # The secret's version id, never its value.
                "version": version_of(SECRET_VALUE),
                "readAt": read_at,
            },
            {"key": "greeting.message", "source": "default", "version": None, "readAt": read_at},
        ]
    }
    assert SECRET_VALUE not in config.text


def test_secrets_are_read_by_name_and_the_vault_is_never_listed(
    workload_identity_run: FinishedRun,
) -> None:
    # The double answers 403 to a list, as for an identity scoped to single secrets; the app
    # was ready all the same, because it never asked.
    paths = [r.path for r in workload_identity_run.double.requests("keyvault")]
    assert "/secrets" not in paths
    assert workload_identity_run.responses["/readyz"].status == 200


def test_no_secret_value_or_token_in_logs_or_responses(workload_identity_run: FinishedRun) -> None:
    double = workload_identity_run.double
    answered = "".join(r.text for r in workload_identity_run.responses.values())
    for leaked in (SECRET_VALUE, double.workload_token, FEDERATED_TOKEN):
        assert leaked not in workload_identity_run.log_text
        assert leaked not in answered


def test_every_log_line_is_one_json_object_with_the_standard_keys(
    workload_identity_run: FinishedRun,
) -> None:
    assert workload_identity_run.log_records
    for record in workload_identity_run.log_records:
        assert {"time", "level", "logger", "message"} <= record.keys()
    loaded = [r for r in workload_identity_run.log_records if r["message"] == "settings loaded"]
    assert loaded[0]["settings"] == (
        "identity.secret from Identity--Secret, greeting.message from default"
    )


def test_sigterm_stops_the_server_gracefully(workload_identity_run: FinishedRun) -> None:
    # uvicorn shuts down, then re-raises the signal it caught, as a process killed by it.
    assert workload_identity_run.exit_code == -signal.SIGTERM
    assert workload_identity_run.log_records[-1]["message"].startswith("Finished server process")


def test_dockerfile_healthcheck_passes_while_running_and_fails_once_stopped(
    workload_identity_run: FinishedRun,
) -> None:
    assert workload_identity_run.healthcheck_while_running == 0
    assert workload_identity_run.healthcheck_after_stop != 0


# -- pod identity ------------------------------------------------------------------------------


def test_pod_identity_token_comes_from_the_metadata_endpoint(pod_identity_run: FinishedRun) -> None:
    double = pod_identity_run.double
    (token_request,) = double.requests("imds")
    assert token_request.method == "GET"
    assert token_request.path == "/metadata/identity/oauth2/token"
    assert token_request.query == {"api-version": "2018-02-01", "resource": double.resource}
    assert token_request.headers["metadata"] == "true"
    assert double.requests("entra") == []
    _challenge, *authorized = _secret_gets(double)
    assert all(r.headers["authorization"] == f"Bearer {double.imds_token}" for r in authorized)
    assert pod_identity_run.responses["/readyz"].status == 200


def test_optional_setting_comes_from_its_secret_when_it_exists(
    pod_identity_run: FinishedRun,
) -> None:
    settings = pod_identity_run.responses["/config"].body["settings"]
    assert [(s["key"], s["source"], s["version"]) for s in settings] == [
        ("identity.secret", "Identity--Secret", version_of(SECRET_VALUE)),
        ("greeting.message", "Greeting--Message", version_of(GREETING_VALUE)),
    ]
    assert GREETING_VALUE not in pod_identity_run.responses["/config"].text
    assert pod_identity_run.double.imds_token not in pod_identity_run.log_text


# -- loading -----------------------------------------------------------------------------------


def test_healthz_answers_and_readyz_is_503_while_settings_load(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.release_secrets = threading.Event()
        environment = base_environment(tmp_path, double)
        environment |= workload_identity_environment(tmp_path, double)
        app = AppProcess(environment, tmp_path / "app.log")
        try:
            app.wait_listening()
            assert app.get("/healthz").status == 200
            assert app.get("/readyz").status == 503
            assert app.get("/config").status == 503
            double.script.release_secrets.set()
            app.wait_ready()
            assert app.get("/config").status == 200
        finally:
            app.close()


def test_two_503s_on_a_secret_are_retried_then_the_app_is_ready(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.transient_failures = {"Identity--Secret": [503, 503]}
        environment = base_environment(tmp_path, double)
        environment |= workload_identity_environment(tmp_path, double)
        app = AppProcess(environment, tmp_path / "app.log")
        try:
            app.wait_ready()
        finally:
            app.close()
        identity_gets = [
            r
            for r in _secret_gets(double)
            if r.path.rstrip("/") == "/secrets/Identity--Secret" and "authorization" in r.headers
        ]
        assert len(identity_gets) == 3  # 503, 503, then the secret


# -- failures that retrying cannot fix ---------------------------------------------------------


def test_no_credential_exits_3_with_one_line(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.imds_has_identity = False  # and no workload-identity variables either
        exit_code, app = _run_until_exit(tmp_path, base_environment(tmp_path, double))
    assert exit_code == 3
    line = _single_error_line(app)
    assert line["exit_code"] == 3
    assert line["message"].startswith(f"no credential could get a token for Key Vault {double.url}")
    assert "AZURE_FEDERATED_TOKEN_FILE" in line["message"]
    assert "Identity not found" in line["cause"]
    assert _secret_gets(double)[1:] == []  # nothing past the unauthenticated challenge


def test_on_a_developers_machine_without_a_sign_in_it_says_to_run_az_login(
    tmp_path: Path,
) -> None:
    # `make -C app run` sets AZURE_TOKEN_CREDENTIALS=dev; this PATH has no az, azd or pwsh.
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        environment = base_environment(tmp_path, double) | {"AZURE_TOKEN_CREDENTIALS": "dev"}
        exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == 3
    line = _single_error_line(app)
    assert line["message"] == (
        "no Azure sign-in on this machine: run `az login` first, then start the app again "
        f"(AZURE_TOKEN_CREDENTIALS=dev reads Key Vault {double.url} as you)"
    )
    # Only the developer's own sign-in was tried: nothing asked Entra ID or the IMDS double.
    assert double.requests("entra") == [] and double.requests("imds") == []


def test_forbidden_secret_exits_4_naming_identity_vault_and_role_delay(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.forbidden = {"Identity--Secret"}
        environment = base_environment(tmp_path, double) | NO_GRACE
        environment |= workload_identity_environment(tmp_path, double)
        exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == FORBIDDEN_EXIT
    line = _single_error_line(app)
    assert line["message"] == (
        f"client id {WORKLOAD_CLIENT_ID} (AZURE_CLIENT_ID) may not read secret Identity--Secret "
        f"in Key Vault {double.url} (403 Forbidden): give it Key Vault Secrets User on that "
        "secret or the vault; a new role assignment can take a few minutes to apply"
    )
    assert line["exit_code"] == FORBIDDEN_EXIT


def test_forbidden_under_pod_identity_names_the_pods_managed_identity(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.forbidden = {"Identity--Secret"}
        environment = base_environment(tmp_path, double) | NO_GRACE
        exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == FORBIDDEN_EXIT
    assert _single_error_line(app)["message"].startswith(
        "the pod's managed identity may not read secret Identity--Secret"
    )


def test_vault_not_found_exits_5(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.vault_exists = False
        environment = base_environment(tmp_path, double)
        environment |= workload_identity_environment(tmp_path, double)
        exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == 5
    line = _single_error_line(app)
    assert line["message"] == (
        f"Key Vault {double.url} not found: it answered 404 for the vault itself, not "
        "SecretNotFound; check that KEY_VAULT_URL is the vault's URI, "
        "https://<vault-name>.vault.azure.net/"
    )
    assert double.requests("entra") == []  # no token is wasted on a host that is no vault


def test_required_setting_missing_exits_2_naming_key_and_secret(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Greeting--Message": GREETING_VALUE}
        environment = base_environment(tmp_path, double)
        environment |= workload_identity_environment(tmp_path, double)
        exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == 2
    line = _single_error_line(app)
    assert line["message"] == (
        f"required setting is missing from Key Vault {double.url}: identity.secret "
        "(secret Identity--Secret); seed the secret through the platform's stack config"
    )
    assert (line["settings"], line["secret_names"]) == ("identity.secret", "Identity--Secret")


@pytest.mark.parametrize(
    ("key_vault_url", "message"),
    [
        (
            None,
            "KEY_VAULT_URL is not set: set it to the vault's URI, "
            "https://<vault-name>.vault.azure.net/",
        ),
        (
            "http://orders-dev.vault.azure.net/",
            "KEY_VAULT_URL must be an https URL like https://<vault-name>.vault.azure.net/, "
            "got 'http://orders-dev.vault.azure.net/'",
        ),
    ],
)
def test_bad_key_vault_url_exits_2_before_serving(
    tmp_path: Path, key_vault_url: str | None, message: str
) -> None:
    environment = base_environment(tmp_path, double=None)
    if key_vault_url is not None:
        environment["KEY_VAULT_URL"] = key_vault_url
    exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == 2
    assert [r["message"] for r in app.log_records()] == [message]


def test_403s_while_the_role_takes_effect_keep_it_unready_then_it_becomes_ready_unrestarted(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.forbidden = {"Identity--Secret"}
        environment = base_environment(tmp_path, double) | {"STARTUP_FORBIDDEN_GRACE_SECONDS": "60"}
        environment |= workload_identity_environment(tmp_path, double)
        app = AppProcess(environment, tmp_path / "app.log")
        try:
            app.wait_listening()
            deadline = time.monotonic() + 10
            while "waiting for a role assignment" not in app.log_text():
                assert time.monotonic() < deadline and app.process.poll() is None, app.log_text()
                time.sleep(0.05)
            waiting = app.get("/readyz")
            # The role assignment takes effect: the next retry reads the secret.
            double.script.forbidden = set()
            app.wait_ready()
            assert app.process.poll() is None  # the same process, never restarted
            exit_code = app.stop()
        finally:
            app.close()
    assert waiting.status == 503
    assert waiting.body is not None and waiting.body["status"] == "waiting for a role assignment"
    assert waiting.body["reason"].startswith(f"client id {WORKLOAD_CLIENT_ID} (AZURE_CLIENT_ID)")
    assert exit_code != FORBIDDEN_EXIT
    assert SECRET_VALUE not in app.log_text()


def test_403s_that_outlast_a_short_grace_exit_4(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.forbidden = {"Identity--Secret"}
        environment = base_environment(tmp_path, double) | {"STARTUP_FORBIDDEN_GRACE_SECONDS": "1"}
        environment |= workload_identity_environment(tmp_path, double)
        exit_code, app = _run_until_exit(tmp_path, environment)
    assert exit_code == FORBIDDEN_EXIT
    errors = [r for r in app.log_records() if r["level"] == "ERROR"]
    assert [r["exit_code"] for r in errors] == [FORBIDDEN_EXIT]
    assert "waiting for a role assignment" in app.log_text()
