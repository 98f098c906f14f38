"""BLOB_CONTAINER_URL: /readyz also lists the service's blob container, with the process's one
credential, on both token paths, against the loopback double; a container the identity may not
list keeps the app unready, with the reason, and never stops it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.app_process import AppProcess, base_environment, workload_identity_environment
from tests.azure_double import STORAGE_RESOURCE, STORAGE_TOKEN_SUFFIX, AzureDouble

SECRET_VALUE = "blob-readiness-secret-value"
CONTAINER = "invoices"


def serve(workdir: Path, double: AzureDouble, environment: dict[str, str]) -> AppProcess:
    app = AppProcess(
        environment | {"BLOB_CONTAINER_URL": f"{double.url}/{CONTAINER}"}, workdir / "app.log"
    )
    app.wait_listening()
    return app


@pytest.mark.parametrize("path", ["workload identity", "pod identity"])
def test_a_listable_container_makes_the_app_ready_on_either_token_path(
    tmp_path: Path, path: str
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.blob_containers = double.script.blob_readers = {CONTAINER}
        environment = base_environment(tmp_path, double)
        if path == "workload identity":
            environment |= workload_identity_environment(tmp_path, double)
        app = serve(tmp_path, double, environment)
        try:
            app.wait_ready()
        finally:
            app.close()
        (listing, *_) = double.requests("blob")
        assert listing.path == f"/{CONTAINER}"
        assert listing.query == {"restype": "container", "comp": "list", "maxresults": "1"}
        issued = double.workload_token if path == "workload identity" else double.imds_token
        assert listing.headers["authorization"] == f"Bearer {issued}{STORAGE_TOKEN_SUFFIX}"
        assert listing.headers["x-ms-version"]
    # The token was asked for Storage's audience, by the same credential as Key Vault's.
    if path == "workload identity":
        scopes = {r.form["scope"] for r in double.requests("entra")}
        assert f"{STORAGE_RESOURCE}/.default" in scopes
        assert double.requests("imds") == []
    else:
        resources = {r.query["resource"] for r in double.requests("imds")}
        assert STORAGE_RESOURCE in resources
        assert double.requests("entra") == []


def test_a_container_it_may_not_list_keeps_it_unready_with_the_reason(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.secrets = {"Identity--Secret": SECRET_VALUE}
        double.script.blob_containers = {CONTAINER}  # and no blob role on it
        environment = base_environment(tmp_path, double)
        environment |= workload_identity_environment(tmp_path, double)
        app = serve(tmp_path, double, environment)
        try:
            # Settings load; readiness waits for the container, and the app keeps running.
            app.wait_listening()
            deadline = time.monotonic() + 20
            answer = app.get("/readyz")
            while answer.body == {"status": "loading settings"} and time.monotonic() < deadline:
                time.sleep(0.1)
                answer = app.get("/readyz")
            assert answer.status == 503
            assert answer.body == {
                "status": "blob container not listable",
                "reason": f"cannot list blob container {double.url}/{CONTAINER} (403 "
                "AuthorizationPermissionMismatch): give the identity Storage Blob Data Reader on "
                "it (azureAccess); a new role assignment can take a few minutes to apply",
            }
            assert app.process.poll() is None
            # Once the grant applies, the next probe finds it ready.
            double.script.blob_readers = {CONTAINER}
            app.wait_ready()
        finally:
            app.close()


def test_a_container_url_that_is_not_one_is_a_configuration_error(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        environment = base_environment(tmp_path, double)
        environment["BLOB_CONTAINER_URL"] = "http://account.blob.core.windows.net/a/b"
        app = AppProcess(environment, tmp_path / "app.log")
        try:
            assert app.wait_exit() == 2
        finally:
            app.close()
    assert "BLOB_CONTAINER_URL must be a container's https URL" in app.log_text()
