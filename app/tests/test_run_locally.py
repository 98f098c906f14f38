"""`make -C app run STACK=dev`: the app on a developer's machine gets what the stack's
Deployment gives it in a pod, from `pulumi stack output` when that answers, and otherwise from
the environment, saying which; signed in as the developer."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from run_locally import StackUnreachableError, local_environment, service_environment

CONTRACT = json.loads((Path(__file__).parent / "fixtures" / "dev-deployment.json").read_text())
OUTPUTS: dict[str, Any] = CONTRACT["stackOutputs"]
SERVICE = CONTRACT["deployment"]["metadata"]["name"]


def rendered_env() -> dict[str, str]:
    (container,) = CONTRACT["deployment"]["spec"]["template"]["spec"]["containers"]
    return {variable["name"]: variable["value"] for variable in container["env"]}


def fake_pulumi(tmp_path: Path, outputs: dict[str, Any] | None) -> Path:
    """A directory with a `pulumi` that prints `outputs`, or fails as without state."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    if outputs is None:
        script.write_text("#!/bin/sh\necho 'error: no stack named dev found' >&2\nexit 255\n")
    else:
        (tmp_path / "outputs.json").write_text(json.dumps(outputs))
        script.write_text(f"#!/bin/sh\ncat {tmp_path / 'outputs.json'}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def test_the_stacks_outputs_give_what_the_deployment_renders() -> None:
    # Everything but the credential pin, which a local run sets to the developer's own.
    expected = {k: v for k, v in rendered_env().items() if k != "AZURE_TOKEN_CREDENTIALS"}
    assert service_environment(OUTPUTS, CONTRACT["stack"], SERVICE) == expected


def test_a_grant_to_a_store_and_a_container_names_their_endpoints() -> None:
    group = "/subscriptions/1/resourceGroups/rg/providers"
    outputs = {
        **OUTPUTS,
        "serviceGrants": {
            SERVICE: [
                {
                    "resource": f"{group}/Microsoft.AppConfiguration/configurationStores/appcs",
                    "role": "App Configuration Data Reader",
                },
                {
                    "resource": f"{group}/Microsoft.Storage/storageAccounts/st/blobServices/"
                    "default/containers/files",
                    "role": "Storage Blob Data Reader",
                },
            ]
        },
    }
    env = service_environment(outputs, "dev", SERVICE)
    assert env["APP_CONFIGURATION_ENDPOINT"] == "https://appcs.azconfig.io"
    assert env["APP_CONFIGURATION_LABEL"] == "dev"
    assert env["BLOB_CONTAINER_URL"] == "https://st.blob.core.windows.net/files"


def test_with_the_cli_it_reads_the_stack_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{fake_pulumi(tmp_path, OUTPUTS)}{os.pathsep}/usr/bin:/bin")
    environment, source = local_environment("dev", SERVICE, {"KEY_VAULT_URL": "https://x/"})
    assert environment["KEY_VAULT_URL"] == OUTPUTS["keyVaultUri"]
    assert environment["AZURE_TOKEN_CREDENTIALS"] == "dev"
    assert source == f"settings of service {SERVICE} from `pulumi stack output -s dev`"


def test_without_the_stack_it_takes_the_environment_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{fake_pulumi(tmp_path, None)}{os.pathsep}/usr/bin:/bin")
    vault = "https://kv-dev-mine.vault.azure.net/"
    environment, source = local_environment("dev", SERVICE, {"KEY_VAULT_URL": vault})
    assert environment == {"KEY_VAULT_URL": vault, "AZURE_TOKEN_CREDENTIALS": "dev"}
    assert source == (
        "settings from the environment (pulumi stack output -s dev failed: error: no stack "
        "named dev found)"
    )
    with pytest.raises(StackUnreachableError, match="KEY_VAULT_URL is not set"):
        local_environment("dev", SERVICE, {})
