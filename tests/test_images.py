"""The image path, walked offline: the build workflow's step -> ACR Tasks (a stand-in `az`) ->
a pull request (a stand-in `gh`, a real git remote) -> the digest in Pulumi.dev.yaml -> the
Deployment the platform declares from it; and promotion, dev's digest into prod's file."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretless_aks.offline.harness import PROJECT_DIR, read_stack_file, run_program
from secretless_aks.offline.mocks import CI_REGISTRY_STAND_IN
from tests.step_scripts import run_step

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
SCRIPT = PROJECT_DIR / ".github" / "scripts" / "images.py"
BUILT = "sha256:" + "4d" * 32
LOGIN_SERVER = CI_REGISTRY_STAND_IN["loginServer"]
SHA = "0123456789abcdef0123456789abcdef01234567"


def step(workflow: str, job: str) -> dict[str, Any]:
    """The job's one `run:` step."""
    steps = yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"][job]["steps"]
    (only,) = [s for s in steps if "run" in s]
    return only


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A clone of a repository holding the stack files and app/, with `origin` a local remote,
    as actions/checkout leaves it."""
    origin = tmp_path / "origin.git"
    work = tmp_path / "work"
    (work / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, work / ".github" / "scripts" / "images.py")
    shutil.copytree(PROJECT_DIR / "app", work / "app", ignore=shutil.ignore_patterns(".*", "__*"))
    for stack in ("dev", "prod"):
        shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", work / f"Pulumi.{stack}.yaml")
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    git(work, "init", "--quiet", "--initial-branch=main")
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "--quiet", "origin", "main")
    return work


def stand_ins(tmp_path: Path, az_result: dict[str, Any]) -> dict[str, str]:
    """`az` and `gh` that record their arguments as JSON lines; `az` answers `az_result`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool, answer in (("az", json.dumps(az_result)), ("gh", "")):
        fake = bin_dir / tool
        fake.write_text(
            "#!/usr/bin/env python3\nimport json, sys\n"
            f"open({str(tmp_path / tool)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
            f"print({answer!r})\n"
        )
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}


def calls(tmp_path: Path, tool: str) -> list[list[str]]:
    path = tmp_path / tool
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_build(tmp_path: Path, checkout: Path, az_result: dict[str, Any]) -> str:
    environment = stand_ins(tmp_path, az_result)
    environment |= {"GH_TOKEN": "t", "REGISTRY_LOGIN_SERVER": LOGIN_SERVER, "TAG": SHA}
    result = run_step(step("build.yml", "image")["run"], environment, cwd=checkout)
    assert result.returncode == (0 if az_result.get("status") == "Succeeded" else 1), result
    return result.stdout + result.stderr


def test_a_build_lands_its_digest_in_dev_by_pull_request_and_the_dev_plan_pulls_it(
    tmp_path: Path, checkout: Path
) -> None:
    run_build(tmp_path, checkout, {"status": "Succeeded", "runId": "ca1", "digest": BUILT})
    (build,) = calls(tmp_path, "az")
    assert build[:3] == ["acr", "build", "--registry"] and build[3] == "crsecretlessci"
    assert build[build.index("--image") + 1] == f"secretless-app:{SHA}"
    assert build[-1] == "app" and "--no-logs" in build
    setup, create = calls(tmp_path, "gh")
    assert setup == ["auth", "setup-git"]
    branch = create[create.index("--head") + 1]
    assert create[:4] == ["pr", "create", "--base", "main"]
    assert branch == f"images/dev-secretless-app-{BUILT[7:19]}"
    # The branch on the remote changes Pulumi.dev.yaml's digest and nothing else.
    origin = checkout.parent / "origin.git"
    changed = git(origin, "diff", "--name-only", "main", branch)
    assert changed == "Pulumi.dev.yaml"
    diff = git(origin, "diff", "--unified=0", "main", branch)
    assert [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"
    ] == [
        "-      image: registry/secretless-app@sha256:" + "0" * 64,
        f"+      image: registry/secretless-app@{BUILT}",
    ]
    # The platform, given that file and CI's registry, pulls exactly what was built.
    proposed = yaml.safe_load(git(origin, "show", f"{branch}:Pulumi.dev.yaml"))["config"]
    graph = run_program("dev", config=proposed)
    (container,) = graph.named("svc-my-great-service-deployment").inputs["spec"]["template"][
        "spec"
    ]["containers"]
    assert container["image"] == f"{LOGIN_SERVER}/secretless-app@{BUILT}"


def test_a_failed_build_proposes_nothing_and_says_where_its_log_is(
    tmp_path: Path, checkout: Path
) -> None:
    output = run_build(tmp_path, checkout, {"status": "Failed", "runId": "ca2", "digest": None})
    assert "ACR Tasks run ca2 ended Failed" in output
    assert "az acr task logs --registry crsecretlessci --run-id ca2" in output
    assert calls(tmp_path, "gh") == [["auth", "setup-git"]]
    assert git(checkout, "status", "--porcelain") == ""


def test_a_rebuild_of_the_same_digest_proposes_nothing(tmp_path: Path, checkout: Path) -> None:
    text = (checkout / "Pulumi.dev.yaml").read_text().replace("sha256:" + "0" * 64, BUILT)
    (checkout / "Pulumi.dev.yaml").write_text(text)
    output = run_build(tmp_path, checkout, {"status": "Succeeded", "runId": "ca3", "digest": BUILT})
    assert "already runs" in output and calls(tmp_path, "gh") == [["auth", "setup-git"]]


def run_images(checkout: Path, environment: dict[str, str], *args: str) -> tuple[int, str]:
    result = subprocess.run(
        ["python3", ".github/scripts/images.py", *args],
        cwd=checkout,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_promotion_copies_devs_digest_into_prod_by_pull_request(
    tmp_path: Path, checkout: Path
) -> None:
    dev = checkout / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("sha256:" + "0" * 64, BUILT))
    prod = checkout / "Pulumi.prod.yaml"
    config = read_stack_file("prod")
    service = {"name": "my-great-service", "image": "registry/secretless-app@sha256:" + "1" * 64}
    config["secretless-aks:services"] = [service]
    prod.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    environment = stand_ins(tmp_path, {})
    step_run = step("promote.yml", "promote")["run"]
    inputs = {"REPOSITORY": "secretless-app", "FROM": "dev", "TO": "prod", "GH_TOKEN": "t"}
    result = run_step(step_run, environment | inputs, cwd=checkout)
    assert result.returncode == 0, result
    assert calls(tmp_path, "az") == []  # nothing is rebuilt
    _, create = calls(tmp_path, "gh")
    branch = create[create.index("--head") + 1]
    promoted = yaml.safe_load(
        git(checkout.parent / "origin.git", "show", f"{branch}:Pulumi.prod.yaml")
    )
    assert promoted["config"]["secretless-aks:services"][0]["image"] == (
        f"registry/secretless-app@{BUILT}"
    )


def test_promotion_refuses_a_stack_that_runs_no_such_image(tmp_path: Path, checkout: Path) -> None:
    code, output = run_images(checkout, stand_ins(tmp_path, {}), "promote", "--repository",
                              "secretless-app", "--from", "dev", "--to", "prod")  # fmt: skip
    assert code == 1
    assert "Pulumi.prod.yaml names no registry/secretless-app@sha256:... image" in output
    assert calls(tmp_path, "gh") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--login-server", "ghcr.io"], "is not an Azure Container Registry"),
        (["--repository", "Secretless App"], "--repository 'Secretless App' is not valid"),
        (["--tag", "v1;rm"], "--tag 'v1;rm' is not valid"),
        (["--context", "nowhere"], "--context 'nowhere' has no Dockerfile"),
    ],
)
def test_build_refuses_bad_input_before_calling_azure(
    tmp_path: Path, checkout: Path, args: list[str], message: str
) -> None:
    given = {"--login-server": LOGIN_SERVER, "--repository": "secretless-app", "--tag": SHA,
             "--context": "app"} | dict(zip(args[::2], args[1::2], strict=True))  # fmt: skip
    argv = [item for pair in given.items() for item in pair]
    code, output = run_images(checkout, stand_ins(tmp_path, {}), "build", *argv)
    assert code == 1 and message in output
    assert calls(tmp_path, "az") == []


def test_the_build_job_reads_the_variables_bootstrap_sets_for_it() -> None:
    from secretless_bootstrap import github

    job = yaml.safe_load((WORKFLOWS / "build.yml").read_text())["jobs"]["image"]
    used = set(re.findall(r"vars\.(\w+)", yaml.safe_dump(job)))
    assert used == set(github.BUILD_VARIABLES)
