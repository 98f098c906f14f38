"""The GitHub workflows: least privilege, no stored Azure credential, forks served safely."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.harness import PROJECT_DIR
from offline.pr_comment import MARKER, build_comment

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
AZURE_ACTION = PROJECT_DIR / ".github" / "actions" / "pulumi-azure" / "action.yml"
# Made-up inputs for running the action's scripts.
INPUTS = {
    "client-id": "00000000-0000-0000-0000-00000000c11e",
    "tenant-id": "00000000-0000-0000-0000-000000007e4a",
    "subscription-id": "00000000-0000-0000-0000-00000000500b",
}


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    document["on"] = document.pop(True)
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).startswith(action)]


def all_workflow_text() -> str:
    files = [*WORKFLOWS.glob("*.yml"), AZURE_ACTION]
    return "\n".join(path.read_text() for path in files)


def azure_action() -> dict[str, Any]:
    return yaml.safe_load(AZURE_ACTION.read_text())


def run_steps() -> list[tuple[str, dict[str, Any]]]:
    """Every `run:` step of the workflows and of the composite action, with where it is."""
    found = [
        (f"{AZURE_ACTION.name} step {index}", step)
        for index, step in enumerate(azure_action()["runs"]["steps"])
    ]
    for path in WORKFLOWS.glob("*.yml"):
        for job_name, job in workflow(path.name)["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                found.append((f"{path.name} {job_name} step {index}", step))
    return [(where, step) for where, step in found if "run" in step]


def steps_writing_github_env() -> list[dict[str, Any]]:
    """The action's steps that set variables for the job's later steps."""
    return [step for step in azure_action()["runs"]["steps"] if "GITHUB_ENV" in step.get("run", "")]


def exported_env(
    step: dict[str, Any], inputs: dict[str, str], tmp_path: Path
) -> tuple[int, dict[str, str]]:
    """Runs a composite step's script as GitHub would (bash -eo pipefail), its `env:` resolved
    from `inputs`, and returns the exit code and what it wrote to $GITHUB_ENV."""
    environment = {"PATH": os.environ["PATH"]}
    for name, value in step.get("env", {}).items():
        match = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", str(value))
        assert match, f"{name}: {value!r} is not one input"
        environment[name] = inputs[match.group(1)]
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    environment["GITHUB_ENV"] = str(github_env)
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = github_env.read_text().splitlines()
    return result.returncode, dict(line.split("=", 1) for line in lines)


@pytest.mark.parametrize(
    "forbidden",
    [
        "client-secret",
        "AZURE_CLIENT_SECRET",
        "ARM_CLIENT_SECRET",
        "creds:",
        "AZURE_CREDENTIALS",
        "PULUMI_CONFIG_PASSPHRASE",
        "pull_request_target",
    ],
)
def test_no_stored_azure_credential_and_no_privileged_pr_trigger(forbidden: str) -> None:
    assert forbidden not in all_workflow_text()


def test_every_workflow_starts_read_only() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        permissions = workflow(path.name)["permissions"]
        assert "id-token" not in permissions, path.name
        assert permissions.get("contents", "read") == "read", path.name


def test_pull_requests_get_tests_and_the_offline_plan_without_cloud_access() -> None:
    pr = workflow("pr-plan.yml")
    assert set(pr["on"]) == {"pull_request"}
    offline = pr["jobs"]["offline-plan"]
    assert "permissions" not in offline  # the read-only default above
    commands = "\n".join(step.get("run", "") for step in offline["steps"])
    assert "make test" in commands
    assert "python -m offline.pr_comment --base" in commands
    assert steps_using(offline, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert steps_using(offline, "actions/upload-artifact")[0]["with"]["name"] == "plan-comment"


def test_real_preview_runs_only_for_this_repositorys_branches_with_oidc() -> None:
    preview = workflow("pr-plan.yml")["jobs"]["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    assert preview["env"]["ARM_USE_OIDC"] == "true"
    assert preview["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["diff"] is True and pulumi["with"]["comment-on-pr"] is True
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]


def test_azure_login_is_federated_and_kubelogin_is_installed() -> None:
    action = yaml.safe_load(AZURE_ACTION.read_text())
    steps = action["runs"]["steps"]
    (login,) = [s for s in steps if str(s.get("uses", "")).startswith("azure/login")]
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert any(str(s.get("uses", "")).startswith("azure/use-kubelogin") for s in steps)


def test_ci_kubelogin_has_the_workloadidentity_mode_that_fetches_github_tokens() -> None:
    (kubelogin,) = steps_using(azure_action()["runs"], "azure/use-kubelogin")
    version = str(kubelogin["with"]["kubelogin-version"])
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", version)
    assert match, f"pin an exact kubelogin release, not {version!r}"
    assert tuple(int(part) for part in match.groups()) >= (0, 2, 0), version


def test_later_steps_get_kubelogin_workloadidentity_login_from_the_inputs(
    tmp_path: Path,
) -> None:
    exports = steps_writing_github_env()
    assert exports, "the action exports nothing to the later steps"
    exported: dict[str, str] = {}
    for step in exports:
        returncode, variables = exported_env(step, INPUTS, tmp_path)
        assert returncode == 0
        exported |= variables
    assert exported == {
        "AAD_LOGIN_METHOD": "workloadidentity",
        "AZURE_CLIENT_ID": INPUTS["client-id"],
        "AZURE_TENANT_ID": INPUTS["tenant-id"],
    }


def test_an_input_cannot_smuggle_variables_into_github_env(tmp_path: Path) -> None:
    ids = INPUTS | {"client-id": INPUTS["client-id"] + "\nAAD_LOGIN_METHOD=azurecli"}
    exports = steps_writing_github_env()
    assert exports
    for step in exports:
        assert exported_env(step, ids, tmp_path) == (1, {})


def test_inputs_reach_run_scripts_only_through_env() -> None:
    """An expression inside `run:` is pasted into the script before bash reads it (script
    injection); through `env:` a value stays data."""
    steps = run_steps()
    assert any("inputs." in str(step.get("env", {})) for _, step in steps)
    for where, step in steps:
        assert "${{" not in step["run"], where


def test_every_job_using_the_azure_action_may_request_oidc_tokens() -> None:
    # azure/login and kubelogin's workloadidentity mode both need the job's OIDC token.
    jobs = [
        (f"{path.name} {name}", job)
        for path in WORKFLOWS.glob("*.yml")
        for name, job in workflow(path.name)["jobs"].items()
        if steps_using({"steps": job.get("steps", [])}, "./.github/actions/pulumi-azure")
    ]
    assert {where for where, _ in jobs} >= {
        "deploy.yml dev",
        "deploy.yml prod",
        "pr-plan.yml preview",
    }
    for where, job in jobs:
        assert job.get("permissions", {}).get("id-token") == "write", where


def test_comment_is_posted_by_a_workflow_that_never_runs_pr_code() -> None:
    comment = workflow("pr-comment.yml")
    assert comment["on"] == {"workflow_run": {"workflows": ["pr-plan"], "types": ["completed"]}}
    assert comment["permissions"] == {"actions": "read", "pull-requests": "write"}
    job = comment["jobs"]["comment"]
    assert not steps_using(job, "actions/checkout")
    script = steps_using(job, "actions/github-script")[0]["with"]["script"]
    assert MARKER in script and "updateComment" in script


def test_main_deploys_dev_then_prod_behind_a_protected_environment() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    jobs = deploy["jobs"]
    assert (jobs["dev"]["needs"], jobs["prod"]["needs"]) == ("test", "dev")
    assert jobs["prod"]["environment"] == "production"
    for stack in ("dev", "prod"):
        assert jobs[stack]["permissions"]["id-token"] == "write"
        (up,) = steps_using(jobs[stack], "pulumi/actions")
        assert up["with"] == {"command": "up", "stack-name": stack}


def test_pr_comment_carries_marker_diff_and_picture_per_stack() -> None:
    body = build_comment(["dev"], "HEAD")
    assert body.startswith(MARKER)
    assert "### Stack `dev`:" in body
    assert "```mermaid\nflowchart LR" in body
    assert "(no diff:" not in body
    assert "against HEAD" in body
