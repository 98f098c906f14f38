"""The app as the dev stack deploys it: with exactly the environment and probes its Deployment
renders, against a test double that grants exactly what the stack grants its identity.

tests/fixtures/dev-deployment.json is written by the platform (`make app-contract`, from
secretless_aks/offline/app_contract.py), and the platform's tests fail when it is not what the
dev stack renders now. Only what belongs to this machine is replaced: the vault's host (the
double's), the port (a free one; the Deployment leaves PORT to the app's default, which must be
its containerPort), and the token file the kubelet would project.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from secretless_app.environment import DEFAULT_PORT, read_environment
from secretless_app.failures import ExitCode, FatalStartupError
from secretless_app.json_logging import SecretRedactor
from secretless_app.key_vault import create_credential, create_secret_client
from secretless_app.settings import AppSettings
from secretless_app.settings_loader import load_settings
from secretless_app.verify import VERIFY_VARIABLES
from secretless_app.web import create_app
from tests.app_process import FEDERATED_TOKEN, AppProcess, base_environment, run_verify
from tests.azure_double import AzureDouble
from tests.fake_time import FakeTime

CONTRACT = json.loads((Path(__file__).parent / "fixtures" / "dev-deployment.json").read_text())
(CONTAINER,) = CONTRACT["deployment"]["spec"]["template"]["spec"]["containers"]
POD_LABELS = CONTRACT["deployment"]["spec"]["template"]["metadata"]["labels"]
ANNOTATIONS = CONTRACT["serviceAccount"]["metadata"]["annotations"]
STARTUP = CONTAINER["startupProbe"]
STARTUP_BUDGET_SECONDS = STARTUP["periodSeconds"] * STARTUP["failureThreshold"]
VAULT_URL = re.compile(r"https://[a-z0-9-]{3,24}\.vault\.azure\.net/")
SEEDED_VALUE = "generated-value-that-must-never-show"
# How long the stack's new role assignment takes to reach Key Vault in these tests.
PROPAGATION_SECONDS = 20


def pod_environment(tmp_path: Path, double: AzureDouble) -> dict[str, str]:
    """What the container's process gets: the Deployment's env, and what the workload-identity
    webhook adds to a labelled pod from its ServiceAccount's annotations."""
    assert "PORT" not in {variable["name"] for variable in CONTAINER["env"]}
    assert CONTAINER["ports"] == [{"name": "http", "containerPort": DEFAULT_PORT}]
    return rendered_environment(tmp_path, double, POD_LABELS, CONTAINER)


def rendered_environment(
    tmp_path: Path, double: AzureDouble, labels: dict[str, str], container: dict[str, Any]
) -> dict[str, str]:
    """A rendered container's env, the webhook's variables for its labelled pod, and what
    belongs to this machine (the double's vault and CA, a free port)."""
    assert labels["azure.workload.identity/use"] == "true"
    rendered = {variable["name"]: variable["value"] for variable in container["env"]}
    assert VAULT_URL.fullmatch(rendered["KEY_VAULT_URL"])
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(FEDERATED_TOKEN)
    webhook = {
        "AZURE_CLIENT_ID": ANNOTATIONS["azure.workload.identity/client-id"],
        "AZURE_TENANT_ID": ANNOTATIONS["azure.workload.identity/tenant-id"],
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_AUTHORITY_HOST": double.url,
    }
    return base_environment(tmp_path, double) | rendered | webhook | {"KEY_VAULT_URL": double.url}


def grant_as_the_stack_does(double: AzureDouble) -> None:
    """The stack's seeded secrets exist, its identity is granted what the stack grants it."""
    double.script.secrets = {name: SEEDED_VALUE for name in CONTRACT["seededSecrets"]}
    granted = CONTRACT["grantedSecrets"]
    double.script.granted = set(granted) if granted is not None else None
    double.script.tenant_id = ANNOTATIONS["azure.workload.identity/tenant-id"]


def identity_reads(double: AzureDouble) -> list[str]:
    return [
        request.path.rstrip("/").removeprefix("/secrets/")
        for request in double.requests("keyvault")
        if "authorization" in request.headers
    ]


def test_the_deployment_is_probed_on_the_apps_endpoints_for_longer_than_its_grace() -> None:
    assert STARTUP["httpGet"] == CONTAINER["readinessProbe"]["httpGet"]
    assert STARTUP["httpGet"] == {"path": "/readyz", "port": "http"}
    assert CONTAINER["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # The Deployment leaves the grace to the app's default, which the budget outlasts.
    assert "STARTUP_FORBIDDEN_GRACE_SECONDS" not in {v["name"] for v in CONTAINER["env"]}
    assert (
        read_environment({"KEY_VAULT_URL": "https://x.vault.azure.net/"}).forbidden_grace_seconds
        < STARTUP_BUDGET_SECONDS
    )


def test_as_deployed_it_is_ready_within_the_startup_budget_reading_only_its_grant(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        grant_as_the_stack_does(double)
        app = AppProcess(pod_environment(tmp_path, double), tmp_path / "app.log")
        try:
            started = time.monotonic()
            app.wait_ready()
            took = time.monotonic() - started
            config = app.get("/config")
            exit_code = app.stop()
        finally:
            app.close()
    assert took < STARTUP_BUDGET_SECONDS
    assert [(s["key"], s["source"]) for s in config.body["settings"]] == [
        ("identity.secret", "Identity--Secret"),
        ("greeting.message", "default"),
    ]
    # Its identity asked only for what it is granted: no 403 to wait out.
    assert set(identity_reads(double)) == set(CONTRACT["grantedSecrets"])
    assert exit_code != ExitCode.FORBIDDEN
    assert SEEDED_VALUE not in app.log_text()


def test_as_deployed_403s_while_the_grant_propagates_keep_it_unready_then_it_is_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process, on a clock that moves only when the app sleeps, so that twenty seconds
    # of propagation take none; the SDK, the credential and the double's HTTPS are all real.
    fake = FakeTime()
    waiting: list[tuple[float, str | None]] = []
    fatal: list[FatalStartupError] = []
    with AzureDouble(tmp_path) as double:
        grant_as_the_stack_does(double)
        double.script.clock = fake.clock
        double.script.granted_from = PROPAGATION_SECONDS
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in pod_environment(tmp_path, double).items():
            monkeypatch.setenv(name, value)
        environment = read_environment(os.environ)
        redactor = SecretRedactor()
        with (
            create_credential() as credential,
            create_secret_client(environment.key_vault_url, credential) as client,
        ):

            def sleep(seconds: float) -> None:
                waiting.append((fake.now, app.state.settings.waiting_for))
                fake.sleep(seconds)

            app = create_app(
                load=lambda: load_settings(AppSettings, client, environment, redactor),
                on_fatal=fatal.append,
                forbidden_grace_seconds=environment.forbidden_grace_seconds,
                clock=fake.clock,
                sleep=sleep,
            )
            with TestClient(app) as http:
                deadline = time.monotonic() + 20
                while http.get("/readyz").status_code != 200:
                    assert time.monotonic() < deadline and not fatal, fatal
                    time.sleep(0.01)
    assert not fatal  # never stopped, so never restarted
    assert environment.forbidden_grace_seconds == 600
    # Unready, saying why, at every retry while the grant propagated...
    assert [at for at, _ in waiting] == [0, 1, 3, 7, 15]
    assert all(reason and "may not read secret Identity--Secret" in reason for _, reason in waiting)
    # ... then ready on the next, well inside the startup probe's budget.
    assert PROPAGATION_SECONDS <= fake.now < STARTUP_BUDGET_SECONDS
    assert set(identity_reads(double)) == set(CONTRACT["grantedSecrets"])


def test_as_deployed_403s_that_outlast_a_short_grace_exit_4(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        grant_as_the_stack_does(double)
        double.script.granted_from = float("inf")  # the grant never takes effect
        environment = pod_environment(tmp_path, double) | {"STARTUP_FORBIDDEN_GRACE_SECONDS": "1"}
        app = AppProcess(environment, tmp_path / "app.log")
        try:
            exit_code = app.wait_exit()
        finally:
            app.close()
    assert exit_code == ExitCode.FORBIDDEN
    errors: list[dict[str, Any]] = [r for r in app.log_records() if r["level"] == "ERROR"]
    assert [r["exit_code"] for r in errors] == [ExitCode.FORBIDDEN]
    assert errors[0]["secret_name"] == "Identity--Secret"


JOB = CONTRACT["verifierJob"]
(JOB_CONTAINER,) = JOB["spec"]["template"]["spec"]["containers"]


def test_the_verifier_job_runs_the_apps_verify_mode_with_variables_it_reads() -> None:
    pod = JOB["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] == CONTRACT["serviceAccount"]["metadata"]["name"]
    # The binding's labels, and not the Deployment's name label, which its Service selects.
    bindings = {"azure.workload.identity/use", "aadpodidbinding"}
    assert {k: v for k, v in POD_LABELS.items() if k in bindings}.items() <= (
        pod["metadata"]["labels"].items()
    )
    assert (
        pod["metadata"]["labels"]["app.kubernetes.io/name"] != POD_LABELS["app.kubernetes.io/name"]
    )
    assert JOB_CONTAINER["image"] == CONTAINER["image"]
    assert JOB_CONTAINER["command"] == ["python", "-m", "secretless_app", "verify"]
    rendered = {variable["name"] for variable in JOB_CONTAINER["env"]}
    assert {name for name in rendered if name.startswith("VERIFY_")} <= set(VERIFY_VARIABLES)
    # The Deployment's pinned credential and vault, so the check takes the app's own path.
    deployment_env = {variable["name"]: variable["value"] for variable in CONTAINER["env"]}
    for name in ("AZURE_TOKEN_CREDENTIALS", "KEY_VAULT_URL"):
        assert {"name": name, "value": deployment_env[name]} in JOB_CONTAINER["env"]


def test_as_rendered_the_verifier_job_reports_each_step_against_the_stacks_grants(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        grant_as_the_stack_does(double)
        environment = rendered_environment(
            tmp_path, double, JOB["spec"]["template"]["metadata"]["labels"], JOB_CONTAINER
        )
        # The Job's command, as the test below holds it.
        code, steps, stdout = run_verify(environment)
    assert code == 0, stdout
    assert [step["result"] for step in steps] == ["token ok", "allowed read ok", "denied read 403"]
    assert SEEDED_VALUE not in stdout
