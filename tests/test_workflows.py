"""The GitHub workflows: least privilege, no stored Azure credential, forks served safely, two
identities (deploy per environment, read-only preview) kept apart by GitHub environments, and
every action pinned to a commit."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretless_aks import verify as verify_module
from secretless_aks.offline.harness import PROJECT_DIR, run_program
from secretless_aks.offline.pr_comment import MARKER, build_comment
from secretless_bootstrap import github
from tests.locks import locked_versions
from tests.step_scripts import run_step

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
AZURE_ACTION = PROJECT_DIR / ".github" / "actions" / "pulumi-azure" / "action.yml"
DEPENDABOT = PROJECT_DIR / ".github" / "dependabot.yml"
# The self-repository form: the action at the running commit, with no checkout needed.
LOCAL_AZURE_ACTION = "$/.github/actions/pulumi-azure"
# The variables each GitHub environment (dev, production, preview-<environment>) defines for
# its own identity, and the repository variables: bootstrap's list of pull-request previews and
# the build identity's (which trusts main's pushes, in no environment).
ENVIRONMENT_VARIABLES = set(github.VARIABLES)
REPOSITORY_VARIABLES = {github.PR_PREVIEWS_VARIABLE, *github.BUILD_VARIABLES}
# The jobs that run Pulumi with an OIDC token, and the one environment each runs in; the build
# job is the only other that may request one (its identity trusts main's pushes, no environment).
PULUMI_JOBS = {
    ("pr-plan.yml", "preview"): "${{ matrix.environment }}",
    ("deploy.yml", "dev"): "dev",
    ("deploy.yml", "prod"): "production",
}
BUILD_JOB = ("build.yml", "image")
OIDC_JOBS = {**PULUMI_JOBS, BUILD_JOB: None}
DEPLOY_STACKS = {"dev": "dev", "prod": "production"}
# The policy pack every Pulumi run of CI passes (pulumi/actions' `policyPacks` input), and the
# venv PulumiPolicy.yaml names, which the composite action builds.
POLICY_PACK = "policy"
POLICY_VENV = "policy/venv"
# What the composite action installs with uv, each from its project's uv.lock: venv -> project.
LOCKED_INSTALLS = {".venv": ".", POLICY_VENV: "policy"}
PINNED_USES = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*")
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


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, name, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in workflow(path.name)["jobs"].items()
    ]


def uses_lines() -> list[tuple[str, str]]:
    """Every `uses:` of the workflows and the composite action, as written (comment included)."""
    found = []
    for path in [*sorted(WORKFLOWS.glob("*.yml")), AZURE_ACTION]:
        for line in path.read_text().splitlines():
            match = re.match(r"\s*(?:- )?uses: (.+)$", line)
            if match:
                found.append((path.name, match.group(1).strip()))
    return found


def pulumi_pin() -> str:
    return locked_versions()["pulumi"]


def python_projects(pattern: str) -> set[str]:
    """The folders holding a file whose name matches `pattern`, as Dependabot names them
    (hidden folders, build output and the policy pack's venv aside)."""
    found = set()
    for folder, subfolders, files in os.walk(PROJECT_DIR):
        subfolders[:] = [
            d for d in subfolders if not d.startswith(".") and d not in {"build", "venv"}
        ]
        if any(re.fullmatch(pattern, name) for name in files):
            relative = Path(folder).relative_to(PROJECT_DIR).as_posix()
            found.add("/" if relative == "." else f"/{relative}")
    return found


def pr_comment_script() -> str:
    (step,) = steps_using(workflow("pr-comment.yml")["jobs"]["comment"], "actions/github-script")
    return step["with"]["script"]


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
    result = run_step(step["run"], environment)
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


def test_pull_requests_get_the_offline_plan_and_the_tests_apart_without_cloud_access() -> None:
    """The plan and its comment are a workflow of their own (pr-plan), which no test job is
    part of or waits for; the tests are pr-tests', whose end only updates the status line."""
    plan_workflow, tests_workflow = workflow("pr-plan.yml"), workflow("pr-tests.yml")
    for pr in (plan_workflow, tests_workflow):
        assert set(pr["on"]) == {"pull_request"}
    offline = plan_workflow["jobs"]["offline-plan"]
    (tests,) = tests_workflow["jobs"].values()
    assert set(plan_workflow["jobs"]) == {"offline-plan", "preview"}
    # The plan waits for nothing: a failing or slow test never withholds it.
    assert "needs" not in offline and "needs" not in tests
    assert plan_workflow["jobs"]["preview"]["needs"] == "offline-plan"
    assert (offline["name"], tests["name"]) == ("Offline plan", "Tests")
    for job in (offline, tests):
        assert "permissions" not in job  # the read-only default above
        assert "environment" not in job
    plan = "\n".join(step.get("run", "") for step in offline["steps"])
    assert 'make pr-comment STACKS="dev prod" BASE="origin/$BASE_REF" > comment/body.md' in plan
    assert "make test" not in plan
    checks = "\n".join(step.get("run", "") for step in tests["steps"])
    assert "make test" in checks
    # The locks are checked against their pyproject.toml by uv itself, not only by the tests.
    assert "make lock && git diff --exit-code" in checks
    assert steps_using(offline, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert steps_using(offline, "actions/upload-artifact")[0]["with"]["name"] == "plan-comment"
    # pr-comment.yml reads these names through the API.
    script = pr_comment_script()
    assert "const PLAN_JOB = 'Offline plan';" in script and "const TESTS_JOB = 'Tests';" in script
    assert "const TESTS_WORKFLOW = 'pr-tests.yml';" in script


def test_uvs_downloads_are_cached_only_in_jobs_that_hold_no_azure_token() -> None:
    keyed = "uv-${{ runner.os }}-${{ hashFiles('requirements-uv.txt', '**/uv.lock') }}"
    cached = set()
    for file, name, job in all_jobs():
        for step in steps_using(job, "actions/cache"):
            assert step["with"] == {"path": "~/.cache/uv", "key": keyed}, (file, name)
            assert (file, name) not in OIDC_JOBS and "id-token" not in job.get("permissions", {})
            cached.add((file, name))
    assert cached == {("pr-plan.yml", "offline-plan"), ("pr-tests.yml", "tests")}


def test_the_comment_is_posted_whatever_the_run_concluded() -> None:
    job = workflow("pr-comment.yml")["jobs"]["comment"]
    assert job["if"] == "github.event.workflow_run.event == 'pull_request'"
    (download,) = steps_using(job, "actions/download-artifact")
    assert download["continue-on-error"] is True  # a failed plan uploaded none


def test_real_preview_runs_only_for_this_repositorys_branches_as_the_preview_identity() -> None:
    preview = workflow("pr-plan.yml")["jobs"]["preview"]
    assert preview["if"] == (
        "github.event.pull_request.head.repo.full_name == github.repository && "
        "vars.PR_PREVIEWS != '' && vars.PR_PREVIEWS != '[]'"
    )
    # Each stack in its own preview environment, as bootstrap lists them.
    assert preview["environment"] == "${{ matrix.environment }}"
    assert preview["strategy"]["matrix"] == {"include": "${{ fromJSON(vars.PR_PREVIEWS || '[]') }}"}
    (azure,) = steps_using(preview, LOCAL_AZURE_ACTION)
    assert azure["with"]["allow-no-subscriptions"] == "true"
    # It runs the branch's program with an Azure token: no write access to anything on GitHub.
    assert preview["permissions"] == {"contents": "read", "id-token": "write"}
    assert preview["env"]["ARM_USE_OIDC"] == "true"
    assert preview["env"]["ARM_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["diff"] is True and pulumi["with"]["comment-on-summary"] is True
    assert pulumi["with"]["policyPacks"] == POLICY_PACK
    assert "comment-on-pr" not in pulumi["with"]
    # One preview per pull request and stack at a time, never stopped half-way.
    assert preview["concurrency"] == {
        "group": "pr-${{ github.event.pull_request.number }}-preview-${{ matrix.stack }}",
        "cancel-in-progress": False,
    }


def test_azure_login_is_federated_and_kubelogin_is_installed() -> None:
    action = yaml.safe_load(AZURE_ACTION.read_text())
    steps = action["runs"]["steps"]
    (login,) = [s for s in steps if str(s.get("uses", "")).startswith("azure/login")]
    assert set(login["with"]) == {
        "client-id",
        "tenant-id",
        "subscription-id",
        "allow-no-subscriptions",
    }
    assert action["inputs"]["allow-no-subscriptions"]["default"] == "false"
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
        "UV_PYTHON_DOWNLOADS": "never",
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
        if steps_using({"steps": job.get("steps", [])}, LOCAL_AZURE_ACTION)
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
    assert comment["on"] == {
        "workflow_run": {"workflows": ["pr-plan", "pr-tests"], "types": ["completed"]}
    }
    assert comment["permissions"] == {}
    job = comment["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert "environment" not in job and "id-token" not in job["permissions"]
    assert [step["uses"].split("@")[0] for step in job["steps"]] == [
        "actions/download-artifact",
        "actions/github-script",
    ]
    assert not any("run" in step for step in job["steps"])
    script = pr_comment_script()
    assert MARKER in script and "updateComment" in script
    assert "${{" not in script  # event data reaches the script as data, through context


def test_the_comment_finds_its_pull_request_through_the_api_not_the_artifact() -> None:
    script = pr_comment_script()
    # Open pull requests whose head is the run's branch of the run's repository...
    assert (
        "github.rest.pulls.list" in script and "head: `${headOwner}:${run.head_branch}`" in script
    )
    # ...and whose head commit and repository are exactly the run's.
    assert "pr.head.sha === headSha" in script and "pr.head.repo.full_name === headRepo" in script
    # The artifact's number is only compared with that, and a mismatch posts nothing.
    assert "claimed !== String(number)" in script and "core.setFailed" in script
    # Only this workflow's bot's comment carrying the marker is edited, and the body is capped.
    assert "const BOT = 'github-actions[bot]';" in script
    assert "const MAX_COMMENT = 65536;" in script


def test_main_deploys_dev_then_prod_each_in_its_own_environment_one_at_a_time() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert (jobs["dev"]["needs"], jobs["prod"]["needs"]) == ("test", "dev")
    for stack, environment in DEPLOY_STACKS.items():
        job = jobs[stack]
        assert job["environment"] == environment
        assert job["if"] == "github.ref == 'refs/heads/main'"
        # One deployment per stack, never cancelled half-way.
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        (up,) = steps_using(job, "pulumi/actions")
        assert up["with"] == {
            "command": "up",
            "stack-name": stack,
            "policyPacks": POLICY_PACK,
            "pulumi-version": pulumi_pin(),
        }


def test_the_pulumi_cli_is_the_release_of_the_pinned_sdk() -> None:
    steps = [step for _, _, job in all_jobs() for step in steps_using(job, "pulumi/actions")]
    assert len(steps) == 3
    assert {step["with"]["pulumi-version"] for step in steps} == {pulumi_pin()}


def test_only_the_preview_and_the_deployments_may_request_oidc_tokens_each_in_its_environment() -> (
    None
):
    oidc = {
        (file, name): job.get("environment")
        for file, name, job in all_jobs()
        if job.get("permissions", {}).get("id-token") == "write"
    }
    assert oidc == OIDC_JOBS
    # Pull requests never reach a deploy identity, and main never uses the preview one.
    pr_environments = {
        job.get("environment") for file, _, job in all_jobs() if file == "pr-plan.yml"
    }
    assert pr_environments == {None, "${{ matrix.environment }}"}
    assert not [
        job
        for f, _, job in all_jobs()
        if f != "pr-plan.yml" and "preview" in str(job.get("environment"))
    ]


def test_no_job_can_read_another_environments_variables() -> None:
    """Environment variables resolve to the job's own environment; a job without one would read
    repository-level variables, and a name like PROD_AZURE_CLIENT_ID would be another's."""
    for file, name, job in all_jobs():
        used = set(re.findall(r"vars\.(\w+)", yaml.safe_dump(job))) - REPOSITORY_VARIABLES
        if "environment" not in job:
            assert not used, f"{file} {name} reads {used} outside an environment"
        assert used <= ENVIRONMENT_VARIABLES, f"{file} {name}: {used - ENVIRONMENT_VARIABLES}"
    # The composite action gets its ids only as inputs, from the job.
    assert "vars." not in AZURE_ACTION.read_text()


def test_every_job_has_a_timeout() -> None:
    for file, name, job in all_jobs():
        assert isinstance(job.get("timeout-minutes"), int), f"{file} {name}"
        # A deployment: a first `pulumi up` (cluster, then Deployments waiting out their
        # startup budget), and the verification's budget after it.
        limit = 90 if file == "deploy.yml" and name in DEPLOY_STACKS else 60
        assert 0 < job["timeout-minutes"] <= limit, f"{file} {name}"


def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment() -> None:
    found = uses_lines()
    assert len(found) >= 10
    versions: dict[str, set[str]] = {}
    for where, uses in found:
        if uses.startswith("$/"):  # this repository's own action, at the running commit
            continue
        assert PINNED_USES.fullmatch(uses), f"{where}: {uses} is not pinned to a full commit SHA"
        action, ref = uses.split("@")
        versions.setdefault(action, set()).add(ref)
    # One commit per action across all files, so one Dependabot bump moves them all.
    assert {action: len(refs) for action, refs in versions.items()} == dict.fromkeys(versions, 1)
    assert not [uses for _, uses in found if uses.startswith("./")]


def test_the_azure_token_jobs_install_python_packages_only_from_the_hashed_locks() -> None:
    steps = azure_action()["runs"]["steps"]
    # uv, by the hashes of its wheels: the one pip install.
    (pip,) = [
        line.strip()
        for step in steps
        for line in step.get("run", "").splitlines()
        if re.search(r"\bpip\b.* install\b", line)
    ]
    assert pip == (
        "python -m pip --python .venv-uv/bin/python install --quiet --require-hashes "
        "--only-binary :all: -r requirements-uv.txt"
    )
    # Then each environment from its project's lock, wheels only (a source build would fetch
    # unhashed build tools), and never a Python of uv's own.
    installed: dict[str, str] = {}
    for step in steps:
        for line in step.get("run", "").splitlines():
            if " sync " in line:
                match = re.fullmatch(
                    r'UV_PROJECT_ENVIRONMENT="\$PWD/(\S+)" \.venv-uv/bin/uv sync --locked '
                    r"--no-build --quiet(?: --project (\S+))?",
                    line.strip(),
                )
                assert match, line
                assert step["env"]["UV_PYTHON_DOWNLOADS"] == "never"
                installed[match.group(1)] = match.group(2) or "."
    assert installed == LOCKED_INSTALLS
    for file, name, job in all_jobs():
        if (file, name) in OIDC_JOBS:
            assert bool(steps_using(job, LOCAL_AZURE_ACTION)) == ((file, name) in PULUMI_JOBS)
            runs = "\n".join(step.get("run", "") for step in job["steps"])
            assert "pip" not in runs and "make" not in runs, f"{file} {name}"


def test_every_pulumi_run_of_ci_enforces_the_policy_pack_from_its_hashed_venv() -> None:
    """The preview and both deployments: a mandatory violation fails the job. The pack's venv is
    the one PulumiPolicy.yaml names, built by the composite action before Pulumi runs."""
    runs = [
        (f"{file} {name}", job)
        for file, name, job in all_jobs()
        if steps_using(job, "pulumi/actions")
    ]
    assert {where for where, _ in runs} == {f"{file} {name}" for file, name in PULUMI_JOBS}
    for where, job in runs:
        steps = [str(step.get("uses", "")) for step in job["steps"]]
        (pulumi,) = steps_using(job, "pulumi/actions")
        assert pulumi["with"]["policyPacks"] == POLICY_PACK, where
        assert steps.index(LOCAL_AZURE_ACTION) < steps.index(pulumi["uses"]), where
    pack = yaml.safe_load((PROJECT_DIR / POLICY_PACK / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    assert f"{POLICY_PACK}/{pack['runtime']['options']['virtualenv']}" == POLICY_VENV


def test_zizmor_suppressions_carry_a_reason() -> None:
    github = PROJECT_DIR / ".github"
    ignores = [
        (path.name, line)
        for path in github.rglob("*.yml")
        for line in path.read_text().splitlines()
        if "zizmor: ignore[" in line
    ]
    assert sorted((file, re.findall(r"ignore\[([\w,-]+)\]", line)) for file, line in ignores) == [
        # uv's directory on the PATH, for the Pulumi CLI's uv toolchain.
        ("action.yml", ["github-env"]),
        ("pr-comment.yml", ["dangerous-triggers"]),
    ]
    for file, line in ignores:
        reason = line.split("]", 1)[1].strip()
        assert len(reason.split()) >= 5, f"{file}: {line.strip()}"
    assert not (github / "zizmor.yml").exists()  # no blanket configuration


def test_dependabot_watches_the_actions_and_every_python_project() -> None:
    updates = {u["package-ecosystem"]: u for u in yaml.safe_load(DEPENDABOT.read_text())["updates"]}
    assert set(updates) == {"github-actions", "pip", "uv"}
    assert set(updates["github-actions"]["directories"]) == {"/", "/.github/actions/pulumi-azure"}
    # Every uv project by its lock but the consumer template's, which locks the package's wheel
    # a copy brings (its other releases are the root lock's, tests/test_consumer.py holds them
    # equal); and uv's own pin wherever it is. A new project fails here until Dependabot
    # watches it too.
    assert set(updates["uv"]["directories"]) == python_projects(r"uv\.lock") - {
        "/examples/consumer"
    }
    assert set(updates["pip"]["directories"]) == python_projects(r"requirements-uv\.txt")
    for update in updates.values():
        assert update["cooldown"]["default-days"] >= 1


def test_pr_comment_without_changes_says_so_per_stack() -> None:
    body = build_comment(["dev"], "HEAD")
    assert body.startswith(MARKER)
    assert "### Stack `dev`: no changes" in body
    assert "No changes against `HEAD`." in body
    assert "(no diff:" not in body and "```mermaid" not in body


# pr-comment.yml's script, run as actions/github-script runs it (the body of an async function
# of github, context, core, require), against a recorded GitHub API: each scenario gives the
# pages the API answers with and gets back every call the script made.
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node runs the github-script")
HARNESS = r"""
const fs = require('fs');
const [scenarioFile, scriptFile] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioFile, 'utf8'));
const calls = [];
const endpoint = (label) => {
  const call = async (params) => { calls.push([label, params]); return { data: {} }; };
  call.label = label;
  return call;
};
const github = {
  rest: {
    pulls: { list: endpoint('pulls.list') },
    actions: {
      listJobsForWorkflowRun: endpoint('actions.listJobsForWorkflowRun'),
      listWorkflowRuns: endpoint('actions.listWorkflowRuns'),
    },
    issues: {
      listComments: endpoint('issues.listComments'),
      createComment: endpoint('issues.createComment'),
      updateComment: endpoint('issues.updateComment'),
    },
  },
  paginate: async (call, params) => {
    calls.push([call.label, params]);
    const page = scenario.pages[call.label];
    return Array.isArray(page) ? page : page[String(params.run_id)] || [];
  },
};
const core = {
  notice: (message) => calls.push(['notice', message]),
  setFailed: (message) => calls.push(['setFailed', message]),
};
const context = { repo: { owner: 'o', repo: 'r' }, payload: { workflow_run: scenario.run } };
process.env.ARTIFACT_DIR = scenario.artifactDir;
const AsyncFunction = (async () => {}).constructor;
const script = fs.readFileSync(scriptFile, 'utf8');
new AsyncFunction('github', 'context', 'core', 'require', 'process', script)(
  github, context, core, require, process,
)
  .catch((error) => calls.push(['throw', String(error)]))
  .then(() => process.stdout.write(JSON.stringify(calls)));
"""
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
RUN_URL = "https://github.com/o/r/actions/runs/42"
PLAN_JOB = {"name": "Offline plan", "html_url": f"{RUN_URL}/job/0", "conclusion": "success"}
PREVIEW_JOBS = [
    PLAN_JOB,
    {"name": "Tests", "html_url": f"{RUN_URL}/job/1", "conclusion": "success"},
    {"name": "pulumi preview (dev)", "html_url": f"{RUN_URL}/job/2", "conclusion": "success"},
    {"name": "pulumi preview (prod)", "html_url": f"{RUN_URL}/job/3", "conclusion": "failure"},
]
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def pull(number: int, sha: str = HEAD_SHA, repository: str = "o/r") -> dict[str, Any]:
    return {"number": number, "head": {"sha": sha, "repo": {"full_name": repository}}}


def run_comment_script(
    tmp_path: Path,
    *,
    number: str = "7",
    body: str = f"{MARKER}\n## secretless-aks: offline plan\n",
    head_repository: str = "o/r",
    pulls: list[dict[str, Any]] | None = None,
    comments: list[dict[str, Any]] | None = None,
    jobs: list[dict[str, Any]] | None = None,
    uploaded: bool = True,
    workflow: str = "pr-plan",
) -> list[list[Any]]:
    """pr-comment's script for a `workflow` run (42) that ended; `jobs` are pr-plan's, but a
    job named Tests is pr-tests' (run 43, this commit's only one; none: not run)."""
    all_jobs = PREVIEW_JOBS if jobs is None else jobs
    tests_jobs = [job for job in all_jobs if job["name"] == "Tests"]
    artifact = tmp_path / "plan-comment"
    artifact.mkdir(parents=True)
    if uploaded:  # a failed plan uploads no artifact
        (artifact / "number").write_text(f"{number}\n")
        (artifact / "body.md").write_text(body)
    scenario = {
        "artifactDir": str(artifact),
        "run": {
            "id": 42 if workflow == "pr-plan" else 43,
            "name": workflow,
            "html_url": RUN_URL,
            "head_sha": HEAD_SHA,
            "head_branch": "feature",
            "head_repository": {
                "full_name": head_repository,
                "owner": {"login": head_repository.split("/")[0]},
            },
        },
        "pages": {
            "pulls.list": [pull(7)] if pulls is None else pulls,
            "issues.listComments": comments or [],
            "actions.listJobsForWorkflowRun": {
                "42": [job for job in all_jobs if job["name"] != "Tests"],
                "43": tests_jobs,
            },
            "actions.listWorkflowRuns": [{"id": 43, "run_number": 5, "status": "completed"}]
            if tests_jobs
            else [],
        },
    }
    (tmp_path / "scenario.json").write_text(json.dumps(scenario))
    (tmp_path / "script.js").write_text(pr_comment_script())
    (tmp_path / "harness.js").write_text(HARNESS)
    assert NODE
    result = subprocess.run(
        [NODE, tmp_path / "harness.js", tmp_path / "scenario.json", tmp_path / "script.js"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def writes(calls: list[list[Any]]) -> list[list[Any]]:
    return [call for call in calls if call[0] in {"issues.createComment", "issues.updateComment"}]


def outcome(calls: list[list[Any]]) -> list[str]:
    return [call[0] for call in calls if call[0] in {"notice", "setFailed", "throw"}]


@needs_node
def test_the_comment_goes_to_the_pull_request_whose_head_is_the_runs_commit(
    tmp_path: Path,
) -> None:
    calls = run_comment_script(tmp_path)
    listing = {"owner": "o", "repo": "r", "state": "open", "head": "o:feature", "per_page": 100}
    assert ["pulls.list", listing] in calls
    ((_, created),) = writes(calls)
    assert created["issue_number"] == 7
    assert created["body"].startswith(f"{MARKER}\n## secretless-aks: offline plan\n")
    assert f"Planned at {HEAD_SHA[:12]} ([pr-plan run]({RUN_URL}))." in created["body"]
    assert f"- [pulumi preview (dev)]({RUN_URL}/job/2): success" in created["body"]
    assert f"- [pulumi preview (prod)]({RUN_URL}/job/3): failure" in created["body"]
    status = f"Tests: **success** ([Tests]({RUN_URL}/job/1))"
    assert created["body"].startswith(f"{MARKER}\n## secretless-aks: offline plan\n\n{status}")
    assert outcome(calls) == []


@needs_node
def test_a_fork_pull_request_is_found_by_the_forks_owner_and_repository(tmp_path: Path) -> None:
    calls = run_comment_script(
        tmp_path,
        head_repository="someone/r",
        pulls=[pull(6, repository="other/r"), pull(7, repository="someone/r")],
        jobs=[{**job, "conclusion": "skipped"} for job in PREVIEW_JOBS],
    )
    assert calls[0][1]["head"] == "someone:feature"
    ((_, created),) = writes(calls)
    assert created["issue_number"] == 7
    assert "(dev)]" in created["body"] and "skipped" in created["body"]


@needs_node
def test_failed_tests_change_only_the_status_line_and_the_plan_stays(tmp_path: Path) -> None:
    failed = [PLAN_JOB, {"name": "Tests", "html_url": f"{RUN_URL}/job/1", "conclusion": "failure"}]
    body = f"{MARKER}\n### Stack `dev`: +1 to create\nTests: **success** (the artifact says)\n"
    ((_, created),) = writes(run_comment_script(tmp_path, body=body, jobs=failed))
    lines = created["body"].splitlines()
    assert lines[:4] == [
        MARKER,
        "## secretless-aks: offline plan",
        "",
        f"Tests: **failure** ([Tests]({RUN_URL}/job/1))",
    ]
    assert "### Stack `dev`: +1 to create" in created["body"]


@needs_node
def test_a_plan_that_ends_before_the_tests_says_they_are_running(tmp_path: Path) -> None:
    running = {"name": "Tests", "html_url": f"{RUN_URL}/job/1", "conclusion": None}
    ((_, created),) = writes(
        run_comment_script(tmp_path, jobs=[PLAN_JOB, {**running, "status": "in_progress"}])
    )
    assert created["body"].splitlines()[3] == f"Tests: **in_progress** ([Tests]({RUN_URL}/job/1))"


def planned_comment(sha: str) -> dict[str, Any]:
    body = "\n".join(
        [
            MARKER,
            "## secretless-aks: offline plan",
            "",
            f"Tests: **in_progress** ([Tests]({RUN_URL}/job/1))",
            "",
            "### Stack `dev`: +1 to create",
            "---",
            f"Planned at {sha[:12]} ([pr-plan run]({RUN_URL})).",
        ]
    )
    return {"id": 4, "user": BOT, "body": body}


@needs_node
def test_tests_that_end_change_only_the_status_line_of_their_commits_comment(
    tmp_path: Path,
) -> None:
    failed = [PLAN_JOB, {"name": "Tests", "html_url": f"{RUN_URL}/job/1", "conclusion": "failure"}]
    comment = planned_comment(HEAD_SHA)
    calls = run_comment_script(
        tmp_path, workflow="pr-tests", jobs=failed, comments=[comment], uploaded=False
    )
    ((endpoint, updated),) = writes(calls)
    assert (endpoint, updated["comment_id"]) == ("issues.updateComment", 4)
    before, after = comment["body"].splitlines(), updated["body"].splitlines()
    assert after[3] == f"Tests: **failure** ([Tests]({RUN_URL}/job/1))"
    assert after[:3] + after[4:] == before[:3] + before[4:]
    assert outcome(calls) == []


@needs_node
def test_tests_that_end_before_their_commits_plan_leave_the_comment_to_the_plan(
    tmp_path: Path,
) -> None:
    older = planned_comment("f" * 40)
    calls = run_comment_script(tmp_path, workflow="pr-tests", comments=[older], uploaded=False)
    assert writes(calls) == [] and outcome(calls) == ["notice"]


@pytest.mark.parametrize("conclusion", ["failure", "cancelled"])
@needs_node
def test_a_failed_plan_replaces_the_last_plan_with_the_failure_and_its_job(
    tmp_path: Path, conclusion: str
) -> None:
    failed = [{**PLAN_JOB, "conclusion": conclusion}, PREVIEW_JOBS[1]]
    comments = [{"id": 4, "user": BOT, "body": f"{MARKER}\n### Stack `dev`: the old plan"}]
    calls = run_comment_script(tmp_path, jobs=failed, comments=comments, uploaded=False)
    ((endpoint, updated),) = writes(calls)
    assert (endpoint, updated["comment_id"]) == ("issues.updateComment", 4)
    assert (
        f"**No plan for {HEAD_SHA[:12]}**: the job [Offline plan]({RUN_URL}/job/0) ended "
        f"{conclusion}." in updated["body"]
    )
    assert "### Stack" not in updated["body"] and "```" not in updated["body"]
    assert outcome(calls) == []


@needs_node
def test_an_artifact_naming_another_pull_request_posts_nothing(tmp_path: Path) -> None:
    calls = run_comment_script(tmp_path, number="8")
    assert writes(calls) == [] and outcome(calls) == ["setFailed"]
    assert "#7" in calls[-1][1]


@pytest.mark.parametrize(
    "pulls",
    [
        [],  # closed since
        [pull(7, sha="f" * 40)],  # pushed to since: the newer run posts
        [pull(7, repository="someone/r")],  # the same commit, another repository's branch
        [pull(7), pull(9)],  # not one pull request
    ],
)
@needs_node
def test_a_run_that_is_not_the_head_of_exactly_one_pull_request_posts_nothing(
    tmp_path: Path, pulls: list[dict[str, Any]]
) -> None:
    calls = run_comment_script(tmp_path, pulls=pulls)
    assert writes(calls) == [] and outcome(calls) == ["notice"]


@needs_node
def test_only_the_bots_own_marked_comment_is_updated(tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"login": "someone", "type": "User"}, "body": f"{MARKER} quoted"},
        {"id": 2, "user": {"login": "other-app[bot]", "type": "Bot"}, "body": MARKER},
        {"id": 3, "user": BOT, "body": "an unrelated bot comment"},
        {"id": 4, "user": BOT, "body": f"{MARKER}\nthe plan of last time"},
        {"id": 5, "user": None, "body": MARKER},
    ]
    ((endpoint, updated),) = writes(run_comment_script(tmp_path, comments=comments))
    assert (endpoint, updated["comment_id"]) == ("issues.updateComment", 4)
    ((endpoint, _),) = writes(run_comment_script(tmp_path / "b", comments=comments[:3]))
    assert endpoint == "issues.createComment"


@needs_node
def test_the_comment_is_cut_to_githubs_limit_with_its_code_fences_closed(tmp_path: Path) -> None:
    body = MARKER + "\n```\n" + "x" * 99 + "\n" + ("y" * 99 + "\n") * 2_000
    ((_, created),) = writes(run_comment_script(tmp_path, body=body))
    assert 60_000 < len(created["body"]) <= 65_536
    assert created["body"].startswith(MARKER)
    assert created["body"].count("```") % 2 == 0
    assert "cut to fit GitHub's comment limit" in created["body"]
    assert created["body"].rstrip().endswith("failure")  # the footer survives the cut


@pytest.mark.parametrize(
    "body", ["## no marker\n", f"a prefix {MARKER}\n", MARKER + "\n" + "z" * (1024 * 1024)]
)
@needs_node
def test_an_artifact_that_is_no_plan_comment_posts_nothing(tmp_path: Path, body: str) -> None:
    calls = run_comment_script(tmp_path, body=body)
    assert writes(calls) == [] and outcome(calls) == ["setFailed"]


@needs_node
def test_only_previews_named_by_pr_plan_are_linked(tmp_path: Path) -> None:
    jobs = [{"name": "pulumi preview (dev) [log](https://example.com)", "html_url": "x"}]
    ((_, created),) = writes(run_comment_script(tmp_path, jobs=jobs))
    assert "example.com" not in created["body"] and "pulumi preview" not in created["body"]


def test_each_deploy_checks_the_resource_providers_before_pulumi_up() -> None:
    for stack in DEPLOY_STACKS:
        steps = workflow("deploy.yml")["jobs"][stack]["steps"]
        (check,) = [
            i for i, step in enumerate(steps) if "resource_providers" in step.get("run", "")
        ]
        (up,) = [i for i, step in enumerate(steps) if "pulumi/actions" in step.get("uses", "")]
        assert check < up, stack
        assert steps[check]["run"] == (
            ".venv/bin/python -m secretless_aks.components.resource_providers "
            '--subscription "$SUBSCRIPTION_ID"'
        )
        assert steps[check]["env"] == {"SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}"}


def test_each_deploy_is_verified_on_azure_right_after_pulumi_up() -> None:
    for stack in DEPLOY_STACKS:
        job = workflow("deploy.yml")["jobs"][stack]
        steps = job["steps"]
        (up,) = [i for i, step in enumerate(steps) if "pulumi/actions" in step.get("uses", "")]
        verify = steps[up + 1]
        assert verify["run"] == f".venv/bin/python -m secretless_aks.verify {stack}", stack
        # Its budget (900 s), the Jobs' start and the controller's minute fit its timeout, and
        # both fit the job's beside a deploy.
        assert verify["timeout-minutes"] * 60 >= verify_module.DEFAULT_BUDGET_SECONDS + 300 + 60
        assert job["timeout-minutes"] >= verify["timeout-minutes"] + 60


def test_no_workflow_sets_the_dead_key_vault_cli_switch() -> None:
    # go-cloud has ignored AZURE_KEYVAULT_AUTH_VIA_CLI since v0.28 (DefaultAzureCredential).
    for path in (*WORKFLOWS.glob("*.yml"), AZURE_ACTION):
        assert "AZURE_KEYVAULT_AUTH_VIA_CLI" not in path.read_text(), path


def test_the_preview_matrix_reads_the_keys_bootstrap_writes_into_pr_previews() -> None:
    # Hand-off: bootstrap's `prPreviews` output (and PR_PREVIEWS variable) is the matrix.
    bootstrap = PROJECT_DIR / "bootstrap"
    graph = run_program("example", project_dir=bootstrap, preview=True)
    keys = {key for entry in graph.outputs["prPreviews"] for key in entry}
    preview = workflow("pr-plan.yml")["jobs"]["preview"]
    assert set(re.findall(r"matrix\.(\w+)", yaml.safe_dump(preview))) == keys


@needs_node
def test_plan_text_that_mimics_the_workflows_own_lines_is_quoted_as_plan_text(
    tmp_path: Path,
) -> None:
    forged = (
        f"{MARKER}\n"
        "Tests: **success** ([Tests](https://example.com))\n"
        "| `+` create | Namespace | `ok` |\n"
        "```text\n"
        "Tests: inside a plan block stays as it is\n"
        "```\n"
        "---\n"
        f"Planned at {HEAD_SHA[:12]} ([pr-plan run](https://example.com)).\n"
        "- [pulumi preview (prod)](https://example.com): success\n"
        "```text\n"
        "a fence the plan leaves open\n"
    )
    tests = {"name": "Tests", "html_url": f"{RUN_URL}/job/1", "conclusion": "failure"}
    jobs = [PLAN_JOB, tests, *PREVIEW_JOBS[2:]]
    ((_, created),) = writes(run_comment_script(tmp_path, body=forged, jobs=jobs))
    lines = created["body"].splitlines()
    outside, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            outside.append(line)
    # Outside code, the only status line is the workflow's own, from the API.
    assert [line for line in outside if line.startswith("Tests:")] == [
        f"Tests: **failure** ([Tests]({RUN_URL}/job/1))"
    ]
    assert "> (from the plan) Tests: **success** ([Tests](https://example.com))" in lines
    assert "> (from the plan) ---" in lines
    assert (
        f"> (from the plan) Planned at {HEAD_SHA[:12]} ([pr-plan run](https://example.com))."
        in lines
    )
    assert "> (from the plan) - [pulumi preview (prod)](https://example.com): success" in lines
    assert "Tests: inside a plan block stays as it is" in lines
    # The plan's open fence is closed before the footer, which is the workflow's own.
    assert created["body"].count("```") % 2 == 0
    assert lines[-1] == f"- [pulumi preview (prod)]({RUN_URL}/job/3): failure"
