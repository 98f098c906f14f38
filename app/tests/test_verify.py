"""`python -m secretless_app verify`, the verifier Job's one-shot check, against the loopback
double: each step's outcome, on both token paths; a missing grant fails after the budget,
naming the step; never a secret's value on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_process import base_environment, run_verify, workload_identity_environment
from tests.azure_double import AzureDouble

VALUE, CANARY_VALUE = "value-of-a", "value-of-the-canary"


def verifier_environment(workdir: Path, double: AzureDouble, path: str) -> dict[str, str]:
    double.script.secrets = {"A": VALUE, "secretless-verify--canary": CANARY_VALUE}
    environment = base_environment(workdir, double) | {
        "VERIFY_ALLOWED_SECRET": "A",
        "VERIFY_CANARY_SECRET": "secretless-verify--canary",
        "VERIFY_BUDGET_SECONDS": "1",
    }
    if path == "workload identity":
        environment |= workload_identity_environment(workdir, double)
    return environment


@pytest.mark.parametrize("path", ["workload identity", "pod identity"])
def test_a_service_granted_a_and_not_the_canary_passes_every_step(
    tmp_path: Path, path: str
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.granted = {"A"}
        code, steps, stdout = run_verify(verifier_environment(tmp_path, double, path))
    assert code == 0
    assert steps == [
        {"step": "token", "result": "token ok"},
        {"step": "allowed read", "result": "allowed read ok"},
        {"step": "denied read", "result": "denied read 403"},
    ]
    assert VALUE not in stdout and CANARY_VALUE not in stdout


def test_with_the_grant_missing_it_fails_after_its_budget_naming_the_step(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.granted = set()
        code, steps, _ = run_verify(verifier_environment(tmp_path, double, "workload identity"))
    assert code == 7
    assert steps[1] == {"step": "allowed read", "result": "failed: A: 403 Forbidden"}
    assert steps[2] == {"step": "denied read", "result": "denied read 403"}


def test_a_vault_wide_service_skips_the_denied_read_saying_why(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.granted = None  # the whole vault
        environment = verifier_environment(tmp_path, double, "workload identity")
        environment["VERIFY_CANARY_SKIP"] = "vault-wide access"
        code, steps, _ = run_verify(environment)
    assert code == 0
    assert steps[2] == {"step": "denied read", "result": "skipped (vault-wide access)"}


def test_an_identity_that_reads_the_canary_fails_the_denied_read(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.granted = {"A", "secretless-verify--canary"}
        code, steps, stdout = run_verify(
            verifier_environment(tmp_path, double, "workload identity")
        )
    assert code == 7
    assert steps[2] == {
        "step": "denied read",
        "result": "failed: secretless-verify--canary was read: the identity holds more than it "
        "should",
    }
    assert CANARY_VALUE not in stdout


def test_a_service_with_no_secret_to_read_skips_the_allowed_read(tmp_path: Path) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.granted = set()
        environment = verifier_environment(tmp_path, double, "workload identity")
        del environment["VERIFY_ALLOWED_SECRET"]
        code, steps, _ = run_verify(environment)
    assert code == 0
    assert steps[1] == {"step": "allowed read", "result": "skipped (no secret to read)"}


def test_a_service_with_key_vault_role_none_skips_the_allowed_read_saying_why(
    tmp_path: Path,
) -> None:
    with AzureDouble(tmp_path) as double:
        double.script.granted = set()
        environment = verifier_environment(tmp_path, double, "pod identity")
        del environment["VERIFY_ALLOWED_SECRET"]
        environment["VERIFY_ALLOWED_SKIP"] = "keyVaultRole none: the identity reads no secret"
        code, steps, _ = run_verify(environment)
    assert code == 0
    assert steps[1:] == [
        {
            "step": "allowed read",
            "result": "skipped (keyVaultRole none: the identity reads no secret)",
        },
        {"step": "denied read", "result": "denied read 403"},
    ]


def test_the_token_is_asked_for_key_vaults_audience_in_each_cloud() -> None:
    from secretless_app.verify import key_vault_scope

    assert (
        key_vault_scope("https://kv-dev-a.vault.azure.net/") == "https://vault.azure.net/.default"
    )
    assert key_vault_scope("https://kv.vault.azure.cn/") == "https://vault.azure.cn/.default"
