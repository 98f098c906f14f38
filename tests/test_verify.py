"""`python -m secretless_aks.verify STACK`: what each service's Job checks (the secret it reads,
whether the canary's 403 proves anything), how the Jobs are run against a cluster (a fake
kubectl whose Jobs end as scripted), and what it reports: a line per service, and a failure
naming the service and the step. The check inside each Job is the app's verify mode, tested
against the loopback double in app/tests/test_verify.py and app/tests/test_dev_deployment.py
with exactly the Job this renders for the dev stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretless_aks import verify
from secretless_aks.components.config import CANARY, ConfigError, StackConfig
from secretless_aks.contract import ContractError
from secretless_aks.offline.harness import PROJECT_DIR
from tests import fake_kubectl
from tests.fake_kubectl import FakeCluster, passing
from tests.stack_configs import RICH_CONFIG, stack_config

VAULT_URL = "https://kv-dev-abc.vault.azure.net/"
IMAGE = "crsecretlessci.azurecr.io/secretless-app@sha256:" + "1" * 64
EXISTING_VAULT = {"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}}
PASSING_LINE = (
    "my-great-service (my-great-service/my-great-service): "
    "token ok · allowed read ok · denied read 403"
)
VAULT_WIDE_WORDS = "vault-wide access: the identity may read every secret, the canary too"


def project_with(tmp_path: Path, config: dict[str, Any], stack: str = "dev") -> Path:
    """A copy of the project's Pulumi.yaml with one stack file holding `config`."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def config_of(tmp_path: Path, config: dict[str, Any]) -> StackConfig:
    return verify.stack_config("dev", project_with(tmp_path, config))


def runs(config: StackConfig) -> dict[str, verify.manifests.VerifyRun]:
    found = verify.checks(config, VAULT_URL, image=IMAGE, budget_seconds=900)
    return {check.service.name: check.run for check in found}


def test_each_service_reads_a_secret_it_is_granted_and_is_refused_the_canary(
    tmp_path: Path,
) -> None:
    checked = runs(config_of(tmp_path, RICH_CONFIG))
    for name in ("my-great-service", "moving", "legacy"):
        run = checked[name]
        assert (run.allowed_secret, run.allowed_skip) == ("Identity--Secret", None)
        assert (run.canary_secret, run.canary_skip) == (CANARY.name, None)
    assert checked["orders"].allowed_secret == "Orders--DbPassword"
    # keyVaultRole none: nothing to read, and the canary's 403 is the whole point.
    billing = checked["billing"]
    assert billing.allowed_secret is None
    assert billing.allowed_skip == "keyVaultRole none: the identity reads no secret"
    assert (billing.canary_secret, billing.canary_skip) == (CANARY.name, None)
    assert {run.image for run in checked.values()} == {IMAGE}
    assert {run.key_vault_url for run in checked.values()} == {VAULT_URL}


def test_a_vault_wide_service_reads_a_seeded_secret_and_skips_the_denied_read(
    tmp_path: Path,
) -> None:
    config = stack_config(services=[{"name": "wide", "secretScope": ["*"]}])
    (run,) = runs(config_of(tmp_path, config)).values()
    assert run.allowed_secret == "Identity--Secret"  # dev's generated secret
    assert run.canary_skip == VAULT_WIDE_WORDS
    # With nothing else seeded, the canary itself proves the vault-wide read.
    config = stack_config(services=[{"name": "wide", "secretScope": ["*"]}], generatedSecrets=None)
    (run,) = runs(config_of(tmp_path, config)).values()
    assert (run.allowed_secret, run.canary_skip) == (CANARY.name, VAULT_WIDE_WORDS)


def test_a_stack_without_a_canary_says_why_the_denied_read_is_skipped(tmp_path: Path) -> None:
    existing = config_of(tmp_path, stack_config(keyVault=EXISTING_VAULT))
    (run,) = runs(existing).values()
    assert run.canary_secret is None
    assert (
        run.canary_skip
        == "the vault is not this stack's (keyVault.existing), so it seeds no canary"
    )
    closed = stack_config(keyVault={"publicNetworkAccess": "Disabled"}, generatedSecrets=None)
    (run,) = runs(config_of(tmp_path, closed)).values()
    assert run.canary_skip is not None and "Disabled" in run.canary_skip


def test_the_sample_apps_image_is_the_stacks_own_in_its_registry(tmp_path: Path) -> None:
    dev = config_of(tmp_path, stack_config())
    assert verify.sample_app_image(dev, "crsecretlessq7m2x9k4.azurecr.io") == (
        "crsecretlessq7m2x9k4.azurecr.io/secretless-app@sha256:" + "0" * 64
    )
    rich = config_of(tmp_path, RICH_CONFIG)
    assert verify.sample_app_image(rich, "unused.azurecr.io") == (
        "ghcr.io/secretless-aks/secretless-app@sha256:"
        "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"
    )
    other = stack_config(services=[{"name": "orders", "image": "ghcr.io/contoso/orders:1.0"}])
    assert verify.sample_app_image(config_of(tmp_path, other), "x.azurecr.io") is None


@pytest.mark.parametrize(
    ("config", "key", "words"),
    [
        (
            {"services": [{"name": "greedy", "secretScope": [CANARY.name]}]},
            "services[0].secretScope",
            "no service may be granted it",
        ),
        (
            {
                "appTeams": [
                    {
                        "name": "shop",
                        "groupObjectId": "3f2b7c1e-5d4a-4c3b-9e8f-1a2b3c4d5e6f",
                        "namespaces": ["shop"],
                        "platformVaultSecrets": [CANARY.name],
                    }
                ]
            },
            "appTeams[0].platformVaultSecrets",
            "no service may be granted it",
        ),
        (
            {"generatedSecrets": [{"path": "secretless-verify:canary", "length": 32}]},
            "generatedSecrets[0].path",
            "the stack seeds it itself",
        ),
    ],
)
def test_the_canary_is_nobodys(
    tmp_path: Path, config: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        config_of(tmp_path, stack_config(**config))
    message = str(refused.value)
    assert f"secretless-aks:{key}" in message
    assert "secretless-verify--canary is the verifier's canary" in message and words in message


# Running the Jobs.


@pytest.fixture
def cluster(tmp_path: Path) -> FakeCluster:
    return FakeCluster(tmp_path / "cluster.json")


def kubectl_for(cluster: FakeCluster) -> verify.Kubectl:
    return verify.Kubectl(Path("/nonexistent/kubeconfig"), "kubectl", runner=cluster.run)


def dev_checks(tmp_path: Path, **config: Any) -> list[verify.Check]:
    stack = config_of(tmp_path, stack_config(**config))
    return verify.checks(stack, VAULT_URL, image=IMAGE, budget_seconds=900)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_passing_service_reports_each_step_and_its_job_is_deleted(
    tmp_path: Path, cluster: FakeCluster
) -> None:
    found = dev_checks(tmp_path)
    (check,) = found
    cluster.script({check.name: passing("token ok", "allowed read ok", "denied read 403")})
    clock = FakeClock()
    outcomes = verify.run_checks(kubectl_for(cluster), found, clock=clock, sleep=clock.sleep)
    lines, failures = verify.report(found, outcomes)
    assert lines == [PASSING_LINE]
    assert failures == []
    (created,) = cluster.created()
    assert created == check.job
    assert cluster.state["jobs"] == {}  # deleted
    assert cluster.calls[-1][:2] == ["delete", "job"]


def test_a_step_that_outlasts_the_budget_fails_naming_the_service_and_the_step(
    tmp_path: Path, cluster: FakeCluster
) -> None:
    found = dev_checks(tmp_path)
    (check,) = found
    failed = {
        "state": "failed",
        "logs": [
            {"step": "token", "result": "token ok"},
            {"step": "allowed read", "result": "failed: Identity--Secret: 403 Forbidden"},
            {"step": "denied read", "result": "denied read 403"},
        ],
    }
    cluster.script({check.name: failed})
    outcomes = verify.run_checks(kubectl_for(cluster), found, sleep=lambda _: None)
    _, failures = verify.report(found, outcomes)
    assert failures == ["my-great-service: allowed read: Identity--Secret: 403 Forbidden"]
    assert cluster.state["jobs"] == {}


def test_a_job_that_never_ran_says_why_kubernetes_gives(
    tmp_path: Path, cluster: FakeCluster
) -> None:
    found = dev_checks(tmp_path)
    (check,) = found
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'}
    cluster.script(
        {check.name: {"state": "failed", "reason": "DeadlineExceeded", "waiting": waiting}}
    )
    outcomes = verify.run_checks(kubectl_for(cluster), found, sleep=lambda _: None)
    _, (failure,) = verify.report(found, outcomes)
    assert failure.startswith("my-great-service: start: DeadlineExceeded")
    assert failure.endswith('(ImagePullBackOff: Back-off pulling image "x")')


def test_a_job_still_running_past_its_deadline_fails_and_is_deleted(
    tmp_path: Path, cluster: FakeCluster
) -> None:
    found = dev_checks(tmp_path)
    (check,) = found
    cluster.script({check.name: {"state": "running"}})
    clock = FakeClock()
    outcomes = verify.run_checks(kubectl_for(cluster), found, clock=clock, sleep=clock.sleep)
    _, failures = verify.report(found, outcomes)
    # The budget, the Job's 300 s for scheduling and the pull, and the controller's minute.
    assert failures == ["my-great-service: start: still running after 1260 s"]
    assert 1260 <= clock.now < 1260 + verify.POLL_SECONDS + 1
    assert cluster.state["jobs"] == {}


def test_jobs_run_at_most_parallel_at_once_and_all_are_deleted_when_one_is_refused(
    tmp_path: Path, cluster: FakeCluster
) -> None:
    services = [{"name": f"svc{index}", "secretScope": ["Identity--Secret"]} for index in range(3)]
    found = dev_checks(tmp_path, services=services)
    cluster.script(
        {
            found[0].name: {**passing("token ok"), "running_for": 2},
            found[1].name: passing("token ok"),
            found[2].name: {"refuse": 'namespaces "svc2" not found'},
        }
    )
    with pytest.raises(verify.VerifyError, match='namespaces "svc2" not found'):
        verify.run_checks(kubectl_for(cluster), found, parallel=2, sleep=lambda _: None)
    verbs = [(call[0], call[2] if len(call) > 2 else "") for call in cluster.calls]
    creates = [index for index, (verb, _) in enumerate(verbs) if verb == "create"]
    # The third Job waits for one of the first two to end.
    first_end = next(i for i, (verb, what) in enumerate(verbs) if verb == "logs")
    assert len(creates) == 3 and creates[2] > first_end
    deleted_last = [call[2] for call in cluster.calls[-3:]]
    assert deleted_last == [check.name for check in found]
    assert cluster.state["jobs"] == {}


# The whole command, with the Pulumi CLI and kubectl on PATH.


def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outputs: dict[str, Any]) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(
        "#!/bin/sh\n"
        '[ "$*" = "stack output --json -s dev --show-secrets" ] || exit 3\n'
        f"cat {tmp_path / 'outputs.json'}\n"
    )
    pulumi.chmod(0o755)
    fake_kubectl.install(bin_dir, tmp_path / "cluster.json")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return bin_dir


OUTPUTS = {
    "keyVaultUri": VAULT_URL,
    "registryLoginServer": "crsecretlessq7m2x9k4.azurecr.io",
    "kubeconfig": "apiVersion: v1\nkind: Config\n",
}


def test_the_command_verifies_the_deployed_stack_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "project").mkdir()
    project = project_with(tmp_path / "project", stack_config())
    on_path(tmp_path, monkeypatch, OUTPUTS)
    cluster = FakeCluster(tmp_path / "cluster.json")
    cluster.script(
        {
            "secretless-verify-my-great-service": passing(
                "token ok", "allowed read ok", "denied read 403"
            )
        }
    )
    printed: list[str] = []
    code = verify.verify_stack(
        "dev", image=None, budget_seconds=900, parallel=10, project_dir=project, out=printed.append
    )
    assert code == 0
    assert printed == [
        "verifying 1 service(s) of stack dev with crsecretlessq7m2x9k4.azurecr.io/secretless-app"
        "@sha256:" + "0" * 64,
        PASSING_LINE,
        "verified: each of the 1 identities does exactly what it should",
    ]
    (job,) = cluster.created()
    env = {v["name"]: v["value"] for v in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["VERIFY_BUDGET_SECONDS"] == "900" and env["KEY_VAULT_URL"] == VAULT_URL


CONTRACT_URL = "https://stsecretlessq7m2.blob.core.windows.net/contract-dev/platform-contract.json"


def test_in_ci_the_platform_is_read_from_the_contract_it_has_just_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI sets publishContractTo: the document is read with a fresh sign-in, and neither the
    stack's state nor its key is asked for (no `pulumi` on the PATH here)."""
    (tmp_path / "project").mkdir()
    project = project_with(tmp_path / "project", stack_config(publishContractTo=CONTRACT_URL))
    bin_dir = on_path(tmp_path, monkeypatch, OUTPUTS)
    (bin_dir / "pulumi").unlink()
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return dict(OUTPUTS)

    monkeypatch.setattr(verify.published_contract, "fetch", fetch)
    FakeCluster(tmp_path / "cluster.json").script(
        {
            "secretless-verify-my-great-service": passing(
                "token ok", "allowed read ok", "denied read 403"
            )
        }
    )
    printed: list[str] = []
    code = verify.verify_stack(
        "dev", image=None, budget_seconds=900, parallel=10, project_dir=project, out=printed.append
    )
    assert (code, fetched) == (0, [CONTRACT_URL])
    assert printed[-1] == "verified: each of the 1 identities does exactly what it should"


def test_a_contract_that_cannot_be_read_stops_the_verification_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "project").mkdir()
    project = project_with(tmp_path / "project", stack_config(publishContractTo=CONTRACT_URL))

    def fetch(url: str) -> dict[str, Any]:
        raise ContractError(f"no platform contract is published at {url}")

    monkeypatch.setattr(verify.published_contract, "fetch", fetch)
    with pytest.raises(verify.VerifyError, match="no platform contract is published at https"):
        verify.verify_stack("dev", image=None, budget_seconds=900, parallel=1, project_dir=project)


def test_the_command_fails_naming_the_service_and_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "project").mkdir()
    project = project_with(tmp_path / "project", stack_config())
    on_path(tmp_path, monkeypatch, OUTPUTS)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    FakeCluster(tmp_path / "cluster.json").script(
        {
            "secretless-verify-my-great-service": {
                "state": "failed",
                "logs": [
                    {"step": "token", "result": "token ok"},
                    {"step": "allowed read", "result": "allowed read ok"},
                    {
                        "step": "denied read",
                        "result": "failed: secretless-verify--canary was read: the identity "
                        "holds more than it should",
                    },
                ],
            }
        }
    )
    printed: list[str] = []
    code = verify.verify_stack(
        "dev", image=None, budget_seconds=60, parallel=10, project_dir=project, out=printed.append
    )
    assert code == verify.VERIFY_FAILED
    assert printed[-1] == (
        "::error::verification failed: my-great-service: denied read: secretless-verify--canary "
        "was read: the identity holds more than it should"
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["dev", "--image", "ghcr.io/x/secretless-app:latest"], "--image must name a digest"),
        (["dev", "--budget-seconds", "0"], None),
        (["nosuchstack"], "no stack file Pulumi.nosuchstack.yaml"),
    ],
)
def test_the_command_refuses_what_it_cannot_run_with(
    argv: list[str], words: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if words is None:
        with pytest.raises(SystemExit) as usage:
            verify.main(argv)
        assert usage.value.code == 2
        assert "--budget-seconds: must be 1 or more" in capsys.readouterr().err
        return
    assert verify.main(argv) == 2
    assert words in capsys.readouterr().err


def test_without_the_pulumi_cli_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert verify.main(["dev"]) == 2
    assert capsys.readouterr().err == (
        "verification could not run: the Pulumi CLI is not on PATH\n"
    )
