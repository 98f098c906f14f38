"""APP_CONFIGURATION_ENDPOINT: the app's non-secret settings come from App Configuration (key
= the setting's config path, label = APP_CONFIGURATION_LABEL), a Key Vault reference there
from the app's own vault, all with the process's one credential, on both token paths, against
the loopback double."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app_process import AppProcess, base_environment, workload_identity_environment
from tests.azure_double import (
    APP_CONFIGURATION_RESOURCE,
    APP_CONFIGURATION_TOKEN_SUFFIX,
    AzureDouble,
)

SECRET_VALUE = "app-configuration-test-secret"
KEY_VAULT_REFERENCE = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8"
PLAIN = ""


def environment_for(workdir: Path, double: AzureDouble, path: str) -> dict[str, str]:
    environment = base_environment(workdir, double) | {
        "APP_CONFIGURATION_ENDPOINT": double.url,
        "APP_CONFIGURATION_LABEL": "dev",
    }
    if path == "workload identity":
        environment |= workload_identity_environment(workdir, double)
    return environment


def sources_when_ready(environment: dict[str, str], workdir: Path) -> dict[str, Any]:
    app = AppProcess(environment, workdir / "app.log")
    try:
        app.wait_ready()
        return {s["key"]: s["source"] for s in app.get("/config").body["settings"]}
    finally:
        app.close()


@pytest.mark.parametrize("path", ["workload identity", "pod identity"])
def test_a_non_secret_setting_comes_from_its_key_and_label_on_either_token_path(
    tmp_path: Path, path: str
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE, "Greeting--Message": "vault"}
        double.script.key_values = {
            ("Greeting:Message", "dev"): ("Hello from App Configuration", PLAIN),
            ("Greeting:Message", "prod"): ("not this label", PLAIN),
        }
        sources = sources_when_ready(environment_for(tmp_path, double, path), tmp_path)
        (request,) = double.requests("appconfig")
    assert sources == {
        "identity.secret": "Identity--Secret",  # a secret: from Key Vault, never the store
        "greeting.message": "App Configuration Greeting:Message (label dev)",
    }
    assert request.path == "/kv/Greeting%3AMessage"
    assert request.query["label"] == "dev"
    issued = double.workload_token if path == "workload identity" else double.imds_token
    assert request.headers["authorization"] == f"Bearer {issued}{APP_CONFIGURATION_TOKEN_SUFFIX}"
    # One credential: Entra ID (or the metadata endpoint) was asked for App Configuration's
    # audience beside Key Vault's.
    if path == "workload identity":
        assert f"{APP_CONFIGURATION_RESOURCE}/.default" in {
            r.form["scope"] for r in double.requests("entra")
        }
    else:
        assert APP_CONFIGURATION_RESOURCE in {r.query["resource"] for r in double.requests("imds")}


@pytest.mark.parametrize("path", ["workload identity", "pod identity"])
def test_a_key_vault_reference_is_read_from_the_apps_own_vault(tmp_path: Path, path: str) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE, "Greeting--Custom": "hi"}
        reference = f'{{"uri": "{double.url}/secrets/Greeting--Custom"}}'
        double.script.key_values = {("Greeting:Message", "dev"): (reference, KEY_VAULT_REFERENCE)}
        environment = environment_for(tmp_path, double, path)
        sources = sources_when_ready(environment, tmp_path)
        read = {
            r.path.rstrip("/") for r in double.requests("keyvault") if "authorization" in r.headers
        }
    assert sources["greeting.message"] == "Key Vault reference Greeting--Custom"
    assert "/secrets/Greeting--Custom" in read


def test_a_key_not_in_the_store_falls_back_to_key_vault(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        environment = environment_for(tmp_path, double, "workload identity")
        sources = sources_when_ready(environment, tmp_path)
    assert sources["greeting.message"] == "default"


def test_a_store_it_may_not_read_stops_it_after_the_grace_naming_the_role(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.app_configuration_reader = False
        environment = environment_for(tmp_path, double, "workload identity")
        app = AppProcess(environment | {"STARTUP_FORBIDDEN_GRACE_SECONDS": "0"}, tmp_path / "log")
        try:
            assert app.wait_exit() == 4
        finally:
            app.close()
    errors = [r for r in app.log_records() if r["level"] == "ERROR"]
    assert errors[-1]["message"] == (
        f"client id 5e3a9c1d-0000-4000-8000-00000000c11d (AZURE_CLIENT_ID) may not read "
        f"Greeting:Message from App Configuration {double.url} (403 Forbidden): give it App "
        "Configuration Data Reader on the store (azureAccess); a new role assignment can take a "
        "few minutes to apply"
    )
