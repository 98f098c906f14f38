"""The GitHub workflows: least privilege, no stored Azure credential, forks served safely."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.harness import PROJECT_DIR
from offline.pr_comment import MARKER, build_comment

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
AZURE_ACTION = PROJECT_DIR / ".github" / "actions" / "pulumi-azure" / "action.yml"


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


def test_actionlint_finds_nothing() -> None:
    actionlint = shutil.which("actionlint") or str(
        Path(__file__).parents[1] / ".venv/bin/actionlint"
    )
    result = subprocess.run(
        [actionlint, "-no-color"], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


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
