"""`python -m secretless_aks.verify STACK`: prove, on Azure itself, that each service's identity
can do exactly what it should. The deploy workflow runs it after each `pulumi up`.

For every service of the stack, a Job in the service's namespace, under its ServiceAccount, its
binding's labels and its pinned credential (manifests.verifier_job), runs the sample app's
one-shot check, `python -m secretless_app verify`:

- `token ok`: the binding gives the pod a token for Key Vault;
- `allowed read ok`: it reads one secret the service is granted, by name (never printed);
- `denied read 403`: Key Vault refuses it the canary (config CANARY), which no service may be
  granted;

or `skipped (<reason>)` where a step proves nothing: no secret to read (keyVaultRole none), the
denied read for a service with vault-wide access, or the canary where the stack seeds none.

New grants take minutes to reach Key Vault, so each step retries within the budget
(--budget-seconds, default 900). A mismatch that outlasts it fails the run (exit 1), naming the
service and the step. The Jobs are deleted either way.

Where it reads from: the services from the stack file (Pulumi.<stack>.yaml, as CI completed
it), read as the program reads its config and never decrypted; the vault's URI, the registry's
login server and the kubeconfig from the contract the stack has just published
(publishContractTo, which CI sets), read with a fresh sign-in (the job's own OIDC token in
GitHub Actions), so that neither the stack's state and key nor the Azure CLI's login, which
expires some ten minutes into a CI job, is needed; without a published contract, from `pulumi
stack output --show-secrets` (the kubeconfig signs in through kubelogin and holds no
credential, but the output is marked secret). The image is the sample app's, from the stack's
services, or --image.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from secretless_aks import published_contract
from secretless_aks.components import manifests
from secretless_aks.components.config import (
    CANARY,
    ConfigError,
    ServiceConfig,
    StackConfig,
    in_registry,
    parse_stack_config,
    pinned_by_digest,
)
from secretless_aks.components.config.models import PROJECT
from secretless_aks.contract import ContractError
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    config_values,
    program_config,
    read_project_file,
    read_stack_file,
)
from secretless_aks.stack_outputs import OutputsUnreachableError, stack_outputs

DEFAULT_BUDGET_SECONDS = 900
# Jobs running at once: each asks its node for the Deployment's default requests.
DEFAULT_PARALLEL = 10
POLL_SECONDS = 5.0
# Past the Job's own deadline (activeDeadlineSeconds), a minute for the Job controller to say so.
GRACE_SECONDS = 60
SAMPLE_APP_REPOSITORY = "secretless-app"
VERIFY_FAILED = 1


class VerifyError(Exception):
    """The verification cannot run (its inputs, or the cluster); the message says why."""


@dataclass(frozen=True)
class Check:
    """One service's verification: the service, and what its Job checks."""

    service: ServiceConfig
    run: manifests.VerifyRun

    @cached_property
    def job(self) -> dict[str, Any]:
        return manifests.verifier_job(self.service, self.run)

    @property
    def name(self) -> str:
        return str(self.job["metadata"]["name"])

    @property
    def limit_seconds(self) -> int:
        """How long the Job may take: its own deadline, and the Job controller's minute."""
        return int(self.job["spec"]["activeDeadlineSeconds"]) + GRACE_SECONDS


@dataclass
class Outcome:
    """What a service's Job reported: its steps as the app printed them, and the failure that
    fails the run (None when every step came out as it should)."""

    steps: list[dict[str, str]] = field(default_factory=list)
    failure: tuple[str, str] | None = None  # (step, why)


def platform_outputs(
    stack: str, written: Mapping[str, Any], config: StackConfig, project_dir: Path = PROJECT_DIR
) -> Mapping[str, Any]:
    """The deployed platform's outputs the checks read: the published contract where the stack
    file names one (a stand-in from the offline plan is no address), else the stack's."""
    if written.get(f"{PROJECT}:publishContractTo") and config.publish_contract_to:
        try:
            return published_contract.fetch(str(config.publish_contract_to))
        except ContractError as error:
            raise VerifyError(str(error)) from None
    try:
        return stack_outputs(stack, project_dir, show_secrets=True)
    except OutputsUnreachableError as error:
        raise VerifyError(str(error)) from None


def stack_config(
    stack: str, project_dir: Path = PROJECT_DIR, written: Mapping[str, Any] | None = None
) -> StackConfig:
    """The stack's config as the program reads it, from its stack file (or `written`, a stack
    file's `config:` block); secret values are never decrypted (the checks need none). Where
    the file leaves CI's keys out (a person's checkout), the offline plan's stand-ins take their
    place: the checks read none of them."""
    if written is None:
        written = read_stack_file(stack, project_dir)
    given = program_config(stack, read_project_file(project_dir), written)
    values, secret_keys = config_values(given)
    return parse_stack_config(
        stack,
        values,
        source=f"Pulumi.{stack}.yaml",
        secret_keys=frozenset(secret_keys),
        stack_file=written,
    )


def sample_app_image(config: StackConfig, login_server: str) -> str | None:
    """The first service image of the sample app (repository `secretless-app`), as pulled."""
    for service in config.services:
        if service.image:
            image = in_registry(service.image, login_server)
            repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
            if repository == SAMPLE_APP_REPOSITORY:
                return image
    return None


def stack_checks(
    config: StackConfig, outputs: Mapping[str, Any], *, image: str | None, budget_seconds: int
) -> list[Check]:
    """The checks of a deployed stack, from its outputs: its vault, and the sample app's image
    in its registry unless `image` names one."""
    if not config.services:
        return []
    image = image or sample_app_image(config, str(outputs.get("registryLoginServer") or ""))
    if image is None:
        raise VerifyError(
            f"no service of stack {config.stack} runs the sample app ({SAMPLE_APP_REPOSITORY}): "
            f"pass --image <loginServer>/{SAMPLE_APP_REPOSITORY}@sha256:<digest>"
        )
    return checks(config, str(outputs["keyVaultUri"]), image=image, budget_seconds=budget_seconds)


def checks(
    config: StackConfig, key_vault_url: str, *, image: str, budget_seconds: int
) -> list[Check]:
    """Each service's check: the secret it reads, and whether the canary's 403 proves anything."""
    seeded = [secret.name for secret in (*config.secrets, *config.generated_secrets)]
    canary = CANARY.name if config.no_canary_because is None else None
    found = []
    for service in config.services:
        reads = service.key_vault_role != "none"
        allowed, allowed_skip = None, None
        if not reads:
            allowed_skip = "keyVaultRole none: the identity reads no secret"
        elif not service.vault_wide:
            allowed = service.named_secrets[0]
        elif seeded or canary:
            # Any secret of the vault; the canary proves vault-wide access as well as any.
            allowed = (seeded or [canary])[0]
        else:
            allowed_skip = "vault-wide access, and the stack seeds no secret to read"
        canary_skip = config.no_canary_because
        if canary_skip is None and reads and service.vault_wide:
            canary_skip = "vault-wide access: the identity may read every secret, the canary too"
        run = manifests.VerifyRun(
            image=image,
            key_vault_url=key_vault_url,
            allowed_secret=allowed,
            allowed_skip=allowed_skip,
            canary_secret=canary,
            canary_skip=canary_skip,
            budget_seconds=budget_seconds,
        )
        found.append(Check(service, run))
    return found


Runner = Callable[[Sequence[str], str | None], tuple[int, str, str]]


def _subprocess_runner(command: Sequence[str], stdin: str | None) -> tuple[int, str, str]:
    # Never the terminal's stdin: kubectl does not prompt here, it fails.
    done = subprocess.run(  # noqa: S603 - kubectl, with arguments this module builds
        list(command), input=stdin or "", capture_output=True, text=True, check=False, timeout=300
    )
    return done.returncode, done.stdout, done.stderr


class Kubectl:
    """kubectl against one cluster (`--kubeconfig`)."""

    def __init__(
        self, kubeconfig: Path, executable: str, runner: Runner = _subprocess_runner
    ) -> None:
        self._base = [executable, "--kubeconfig", str(kubeconfig)]
        self._runner = runner

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        code, stdout, stderr = self._runner([*self._base, *args], stdin)
        if code != 0:
            last = (stderr.strip().splitlines() or ["no output"])[-1]
            raise VerifyError(f"kubectl {args[0]} {' '.join(args[1:3])} failed: {last}")
        return stdout

    def json(self, *args: str) -> dict[str, Any]:
        return dict(json.loads(self(*args, "-o", "json")))


def _job_state(kubectl: Kubectl, check: Check) -> str | None:
    """None while the Job runs; else `succeeded`, or why it failed."""
    status = kubectl.json("get", "job", check.name, "-n", check.service.namespace).get("status", {})
    if status.get("succeeded"):
        return "succeeded"
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            return f"{condition.get('reason', 'Failed')}: {condition.get('message', '')}".strip()
    return None


def _pod_problem(kubectl: Kubectl, check: Check) -> str | None:
    """Why the Job's pod did not run the check, as Kubernetes says it (ImagePullBackOff, ...)."""
    pods = kubectl.json(
        "get", "pods", "-n", check.service.namespace, "-l", f"job-name={check.name}"
    )
    for pod in pods.get("items") or ():
        status = pod.get("status", {})
        for container in status.get("containerStatuses") or ():
            state = container.get("state", {})
            waiting = state.get("waiting") or {}
            if waiting.get("reason"):
                return f"{waiting['reason']}: {waiting.get('message', '')}".strip(": ")
        for condition in status.get("conditions") or ():
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                return f"{condition.get('reason')}: {condition.get('message', '')}".strip(": ")
    return None if pods.get("items") else "no pod was created"


def _steps(log: str) -> list[dict[str, str]]:
    steps = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "step" in record and "result" in record:
            steps.append({"step": str(record["step"]), "result": str(record["result"])})
    return steps


def _collect(kubectl: Kubectl, check: Check, state: str | None) -> Outcome:
    """The Job's steps, and what fails it: a failed step, or a Job that never ran the check."""
    try:
        log = kubectl("logs", f"job/{check.name}", "-n", check.service.namespace)
    except VerifyError:
        log = ""  # no pod, or one that never started
    outcome = Outcome(steps=_steps(log))
    for step in outcome.steps:
        if step["result"].startswith("failed"):
            outcome.failure = (step["step"], step["result"].removeprefix("failed: "))
            return outcome
    if state == "succeeded":
        return outcome
    problem = _pod_problem(kubectl, check)
    why = state or f"still running after {check.limit_seconds} s"
    step = outcome.steps[-1]["step"] if outcome.steps else "start"
    outcome.failure = (step, f"{why}{f' ({problem})' if problem else ''}")
    return outcome


def run_checks(
    kubectl: Kubectl,
    found: Sequence[Check],
    *,
    parallel: int = DEFAULT_PARALLEL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    warn: Callable[[str], None] = print,
) -> list[Outcome]:
    """Run the checks' Jobs, at most `parallel` at once; each outcome in the checks' order. Every
    Job is deleted at the end, whatever happened."""
    pending = deque(found)
    running: dict[str, tuple[Check, float]] = {}
    outcomes: dict[str, Outcome] = {}
    try:
        while pending or running:
            while pending and len(running) < parallel:
                check = pending.popleft()
                namespace = check.service.namespace
                # A Job left by an interrupted run would refuse the new one (its pod template
                # cannot change); its pods go first, so that only the new one's are asked about.
                kubectl(
                    "delete", "job", check.name, "-n", namespace,
                    "--ignore-not-found", "--cascade=foreground",
                )  # fmt: skip
                kubectl("create", "-f", "-", stdin=json.dumps(check.job))
                running[check.name] = (check, clock() + check.limit_seconds)
            for name, (check, deadline) in list(running.items()):
                state = _job_state(kubectl, check)
                if state is not None or clock() >= deadline:
                    outcomes[name] = _collect(kubectl, check, state)
                    del running[name]
            if running:
                sleep(POLL_SECONDS)
    finally:
        for check in found:
            namespace = check.service.namespace
            try:
                kubectl(
                    "delete", "job", check.name, "-n", namespace,
                    "--ignore-not-found", "--cascade=background", "--wait=false",
                )  # fmt: skip
            except VerifyError as error:
                # Kubernetes deletes it ttlSecondsAfterFinished after it ends in any case.
                warn(f"the Job {namespace}/{check.name} is left to its TTL: {error}")
    return [outcomes[check.name] for check in found]


def report(found: Sequence[Check], outcomes: Sequence[Outcome]) -> tuple[list[str], list[str]]:
    """(a line per service, a line per failure naming the service and the step)."""
    lines, failures = [], []
    for check, outcome in zip(found, outcomes, strict=True):
        service = check.service
        results = " · ".join(step["result"] for step in outcome.steps) or "no step ran"
        lines.append(f"{service.name} ({service.namespace}/{service.service_account}): {results}")
        if outcome.failure is not None:
            step, why = outcome.failure
            failures.append(f"{service.name}: {step}: {why}")
    return lines, failures


def verify_stack(
    stack: str,
    *,
    image: str | None,
    budget_seconds: int,
    parallel: int,
    project_dir: Path = PROJECT_DIR,
    out: Callable[[str], None] = print,
) -> int:
    """Verify every service of a deployed stack; 0, or VERIFY_FAILED after naming each failure."""
    if image is not None and not pinned_by_digest(image):
        raise VerifyError(f"--image must name a digest (<repository>@sha256:<digest>): {image}")
    written = read_stack_file(stack, project_dir)
    try:
        config = stack_config(stack, project_dir, written)
    except ConfigError as error:
        raise VerifyError(str(error)) from None
    if not config.services:
        out(f"stack {stack} has no services: nothing to verify")
        return 0
    outputs = platform_outputs(stack, written, config, project_dir)
    found = stack_checks(config, outputs, image=image, budget_seconds=budget_seconds)
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise VerifyError("kubectl is not on PATH")
    out(f"verifying {len(found)} service(s) of stack {stack} with {found[0].run.image}")
    with tempfile.TemporaryDirectory() as directory:
        kubeconfig = Path(directory) / "kubeconfig"
        kubeconfig.touch(mode=0o600)
        kubeconfig.write_text(str(outputs["kubeconfig"]))
        outcomes = run_checks(Kubectl(kubeconfig, kubectl), found, parallel=parallel, warn=out)
    lines, failures = report(found, outcomes)
    for line in lines:
        out(line)
    if failures:
        annotate = os.environ.get("GITHUB_ACTIONS") == "true"
        for failure in failures:
            out(f"{'::error::' if annotate else ''}verification failed: {failure}")
        return VERIFY_FAILED
    out(f"verified: each of the {len(found)} identities does exactly what it should")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secretless_aks.verify",
        description="Prove, on the deployed stack, that each service's identity reads what it "
        "is granted and is refused the canary.",
    )
    parser.add_argument("stack", help="the deployed stack (its Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--image", help=f"the sample app's image (<loginServer>/{SAMPLE_APP_REPOSITORY}@sha256:…)"
    )
    parser.add_argument(
        "--budget-seconds",
        type=_positive,
        default=DEFAULT_BUDGET_SECONDS,
        help="how long each step may retry while a grant propagates (default %(default)s)",
    )
    parser.add_argument(
        "--parallel",
        type=_positive,
        default=DEFAULT_PARALLEL,
        help="Jobs at once (default %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        return verify_stack(
            args.stack, image=args.image, budget_seconds=args.budget_seconds, parallel=args.parallel
        )
    except (VerifyError, FileNotFoundError) as error:
        print(f"verification could not run: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
