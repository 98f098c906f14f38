"""Every environment the repository makes is installed by uv from its project's uv.lock, every
package by its hash (uv itself by pip, from requirements-uv.txt's hashes); the locks agree with
each other and with the pins the program was tested with; the hashed requirements files
exported for pip (requirements.lock, policy/requirements.txt, app/requirements.txt) are what
`make lock` exports now. Offline: uv reads only the locks here."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from secretless_aks.offline.harness import PROJECT_DIR
from tests.consumer_template import TEMPLATE_WHEEL, copied_template, wheel
from tests.locks import canonical, lock, locked_versions

UV = PROJECT_DIR / ".venv-uv" / "bin" / "uv"
# Every uv project of the repository: its directory, and the environment each install makes.
PROJECTS = {
    ".": (".venv",),
    "policy": ("policy/venv",),
    "app": ("app/.venv",),
    "tools/checkov": (".venv-checkov",),
    "tools/zizmor": (".venv-zizmor",),
    "bootstrap": ("bootstrap/.venv",),
    "examples/consumer": ("examples/consumer/.venv",),
}
# What uv cannot hash, and so installs unhashed: the bootstrap's `secretless-aks`, the
# repository root, editable (and the setuptools its build fetches).
UNHASHED = {("bootstrap", "secretless-aks")}
# A local wheel, hashed in the lock: the consumer template's `secretless-aks` (from wheels/).
LOCAL_WHEELS = {("examples/consumer", "secretless-aks")}
# Hashed requirements files exported from a lock, for pip: (project, file).
EXPORTS = [
    (".", "requirements.lock"),
    ("policy", "policy/requirements.txt"),
    ("app", "app/requirements.txt"),
]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: \\)?$", re.M)


def exported_pins(path: str) -> dict[str, str]:
    return {canonical(n): v for n, v in PIN.findall((PROJECT_DIR / path).read_text())}


@pytest.mark.parametrize("project", PROJECTS)
def test_every_locked_package_is_hashed_from_the_registry(project: str) -> None:
    for package in lock(project)["package"]:
        source = package.get("source", {})
        name = canonical(package["name"])
        if "virtual" in source:
            continue  # the project itself: not installed (tool.uv.package = false)
        if (project, name) in LOCAL_WHEELS:
            (local,) = package["wheels"]
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", local["hash"]), (project, name)
            continue
        if "registry" not in source:
            assert (project, name) in UNHASHED, f"{project}: {name} comes from {source}"
            continue
        assert source["registry"] == "https://pypi.org/simple", (project, name)
        files = [package.get("sdist"), *package.get("wheels", ())]
        files = [file for file in files if file is not None]
        assert files and all(
            re.fullmatch(r"sha256:[0-9a-f]{64}", file["hash"]) for file in files
        ), (project, name)


@pytest.mark.parametrize("project", PROJECTS)
def test_each_lock_is_what_its_pyproject_asks_for(project: str, tmp_path: Path) -> None:
    directory = PROJECT_DIR / project
    if project == "examples/consumer":
        # uv reads the package's requirements from its wheel, which a copy brings: a stand-in
        # with the locked metadata (the lock's hash of it is checked when it is installed).
        directory = copied_template(tmp_path)
        wheel(directory / TEMPLATE_WHEEL, "stand-in")
    done = subprocess.run(
        [UV, "lock", "--check", "--offline", "--quiet", "--project", directory],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{project}: {done.stderr.strip()} (run `make lock`)"


@pytest.mark.parametrize(("project", "path"), EXPORTS, ids=[path for _, path in EXPORTS])
def test_each_hashed_requirements_file_is_its_locks_export(project: str, path: str) -> None:
    done = subprocess.run(
        [
            UV,
            "export",
            "--frozen",
            "--quiet",
            "--no-default-groups",
            "--no-emit-project",
            "--format",
            "requirements-txt",
            "--project",
            PROJECT_DIR / project,
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    def body(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#    uv export")]

    assert body(done.stdout) == body((PROJECT_DIR / path).read_text()), f"run `make lock` ({path})"


def test_the_locks_reproduce_the_pins_the_program_was_tested_with() -> None:
    """uv.lock is what requirements.lock pins (every package the program needs, at the same
    release), so a `uv lock` over the package's ranges cannot have moved one silently."""
    program = {
        name: version
        for name, version in locked_versions(".").items()
        if name in exported_pins("requirements.lock")
    }
    assert program == exported_pins("requirements.lock")
    assert program["pulumi-azure-native"] == "3.29.0"
    assert program["pulumi"] == "3.272.0"


def test_the_projects_that_share_a_package_lock_the_same_release() -> None:
    root = locked_versions(".")
    shared = {name: v for name, v in locked_versions("bootstrap").items() if name in root}
    assert shared == {name: root[name] for name in shared}
    # The policy pack's pulumi-policy pins protobuf and grpcio apart; its pulumi is the program's.
    assert locked_versions("policy")["pulumi"] == root["pulumi"]
    # The program's and the app's Azure SDKs: the app's are what the program signs in with.
    app = locked_versions("app")
    for name in ("azure-core", "azure-identity", "pydantic"):
        assert app[name] == root[name], name


def test_uv_itself_is_pinned_by_the_hash_of_each_of_its_wheels() -> None:
    text = (PROJECT_DIR / "requirements-uv.txt").read_text()
    (pin,) = PIN.findall(text)
    assert pin[0] == "uv"
    hashes = re.findall(r"--hash=sha256:[0-9a-f]{64}", text)
    assert len(hashes) >= 10  # a wheel per platform, and the sdist


# Where each Makefile's sync puts its environment, by the variable it names.
MAKEFILE_ENVIRONMENTS = {
    "Makefile": {
        "VENV": ".venv",
        "POLICY_VENV": "policy/venv",
        "CHECKOV_VENV": ".venv-checkov",
        "ZIZMOR_VENV": ".venv-zizmor",
    },
    "app/Makefile": {"VENV": "app/.venv"},
    "examples/consumer/Makefile": {"VENV": "examples/consumer/.venv"},
}


def installs() -> list[tuple[str, str]]:
    """(where, command) of every Makefile recipe line, every workflow and action `run` line,
    and every Makefile variable holding a command."""
    found = []
    for makefile in MAKEFILE_ENVIRONMENTS:
        for line in (PROJECT_DIR / makefile).read_text().splitlines():
            if line.startswith("\t") or re.match(r"[A-Z_]+ :?= ", line):
                found.append((makefile, line.strip()))
    actions = PROJECT_DIR / ".github"
    for path in [
        *sorted(actions.glob("workflows/*.yml")),
        actions / "actions/pulumi-azure/action.yml",
    ]:
        document = yaml.safe_load(path.read_text())
        jobs = document["jobs"].values() if "jobs" in document else [document["runs"]]
        for job in jobs:
            for step in job.get("steps", []):
                lines = [line.strip() for line in step.get("run", "").splitlines()]
                found += [(path.name, line) for line in lines if not line.startswith("#")]
    return found


def test_every_environment_the_makefiles_and_the_workflows_make_is_uvs_from_a_lock() -> None:
    """pip installs only uv, by its hashes, into the one venv made with `-m venv`; every other
    environment is a `uv sync --locked` of a locked project (a Makefile's UV_SYNC says --locked,
    and names the environment, once), and each project's is made."""
    made: set[str] = set()
    environment = r"UV_PROJECT_ENVIRONMENT=(?:\$\(abspath \$\((\w+)\)\)|\"\$PWD/([^\"]+)\")"
    found = installs()
    for where, command in found:
        if re.search(r"\bpip\b.* install\b", command):
            assert "--require-hashes" in command and "-r requirements-uv.txt" in command, command
            assert re.search(r"pip --python (\$\(UV_VENV\)|\.venv-uv)/bin/python ", command)
        if re.search(r"-m venv\b", command):
            venv = r"-m venv --without-pip (\$\(UV_VENV\)|\.venv-uv)$"
            assert re.search(venv, command), (where, command)
        if re.match(r"UV_SYNC :?= ", command):
            assert "sync --locked" in command, where
        syncs = re.search(r"\buv sync\b", command) or (
            "$(UV_SYNC)" in command and not command.startswith("UV_SYNC")
        )
        if not syncs:
            continue
        target = re.search(environment, command)
        if target is None:  # $(UV_SYNC), whose definition names the environment
            (definition,) = [c for w, c in found if w == where and re.match("UV_SYNC", c)]
            target = re.search(environment, definition)
        assert target is not None, (where, command)
        assert "--locked" in command or "$(UV_SYNC)" in command, (where, command)
        variable, path = target.groups()
        made.add(MAKEFILE_ENVIRONMENTS[where][variable] if variable else path)
        project = re.search(r"--project (\S+)", command)
        # A Makefile syncs its own directory's project; a workflow step runs at the root.
        directory = project.group(1) if project else Path(where).parent.as_posix()
        assert directory in PROJECTS, (where, command)
    # Every project's environment but the bootstrap's, which Pulumi's uv toolchain syncs.
    expected = {env for envs in PROJECTS.values() for env in envs} - {"bootstrap/.venv"}
    assert made == expected


def test_each_pulumi_project_declares_the_uv_toolchain_with_its_own_lock() -> None:
    for project in (".", "bootstrap", "examples/consumer"):
        runtime = yaml.safe_load((PROJECT_DIR / project / "Pulumi.yaml").read_text())["runtime"]
        assert runtime["options"]["toolchain"] == "uv", project
        assert (PROJECT_DIR / project / "uv.lock").is_file()
        pyproject = tomllib.loads((PROJECT_DIR / project / "pyproject.toml").read_text())
        # Pulumi's `uv sync` then installs what the program needs and no development tool.
        if "dependency-groups" in pyproject:
            assert pyproject["tool"]["uv"]["default-groups"] == [], project
