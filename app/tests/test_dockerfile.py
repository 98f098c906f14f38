"""The image's properties, read from the Dockerfile (no container engine runs here)."""

from __future__ import annotations

import re
from pathlib import Path

from secretless_app.environment import DEFAULT_PORT
from tests.dockerfile import (
    DOCKERFILE,
    arguments_of,
    env_names,
    exec_form,
    healthcheck_command,
    parse_dockerfile,
)

RUNTIME_UID = "10001"  # the platform's Deployments set runAsUser/runAsGroup 10001
# A Python 3.11 patch release on a named Debian slim release, optionally pinned by digest too.
PINNED_BASE = re.compile(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?")
CREDENTIAL_LIKE = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|CONNECTION_STRING")
ALLOWED_NAMES = {"KEY_VAULT_URL"}


def test_base_image_is_python_slim_pinned_to_a_patch_release() -> None:
    (base,) = arguments_of(parse_dockerfile(), "FROM")
    assert PINNED_BASE.fullmatch(base), base
    assert "latest" not in base


def test_runs_as_the_non_root_uid_and_gid_the_deployments_use() -> None:
    instructions = parse_dockerfile()
    assert arguments_of(instructions, "USER")[-1] == f"{RUNTIME_UID}:{RUNTIME_UID}"
    runs = " ".join(arguments_of(instructions, "RUN"))
    assert f"groupadd --system --gid {RUNTIME_UID}" in runs
    assert f"useradd --system --uid {RUNTIME_UID} --gid {RUNTIME_UID}" in runs
    last_user = max(i for i, step in enumerate(instructions) if step.keyword == "USER")
    assert all(step.keyword != "RUN" for step in instructions[last_user:])


def test_writes_no_bytecode_at_run_time() -> None:
    env = " ".join(arguments_of(parse_dockerfile(), "ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_no_env_or_arg_carries_a_credential() -> None:
    names = env_names(parse_dockerfile())
    assert names  # the reader found the ENV instruction at all
    suspicious = [n for n in names if CREDENTIAL_LIKE.search(n.upper()) and n not in ALLOWED_NAMES]
    assert suspicious == []


def test_env_reader_sees_credential_like_names(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM x\nARG AZURE_CLIENT_SECRET\nENV A=1 \\\n    DB_PASSWORD=2\nENV TOKEN x\n"
    )
    assert env_names(parse_dockerfile(dockerfile)) == [
        "AZURE_CLIENT_SECRET",
        "A",
        "DB_PASSWORD",
        "TOKEN",
    ]


def test_requirements_are_copied_and_installed_without_a_cache() -> None:
    instructions = parse_dockerfile()
    assert "requirements.txt ." in arguments_of(instructions, "COPY")
    installs = [r for r in arguments_of(instructions, "RUN") if r.startswith("pip install")]
    assert len(installs) == 1
    assert "--no-cache-dir" in installs[0].split()
    assert installs[0].endswith("-r requirements.txt")


def test_copies_only_the_requirements_and_the_package() -> None:
    instructions = parse_dockerfile()
    assert arguments_of(instructions, "ADD") == []
    sources = {copy.split()[0] for copy in arguments_of(instructions, "COPY")}
    assert sources == {"requirements.txt", "secretless_app/"}
    ignored = (DOCKERFILE.parent / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "!secretless_app/" in ignored and "!requirements.txt" in ignored


def test_exposes_the_apps_default_port() -> None:
    assert arguments_of(parse_dockerfile(), "EXPOSE") == [str(DEFAULT_PORT)]


def test_healthcheck_asks_healthz_with_python_not_curl() -> None:
    command = healthcheck_command(parse_dockerfile())
    assert command[:2] == ["python", "-c"]
    assert "/healthz" in command[2]
    assert "urllib.request" in command[2]


def test_starts_the_app_as_python_module() -> None:
    (cmd,) = arguments_of(parse_dockerfile(), "CMD")
    assert exec_form(cmd) == ["python", "-m", "secretless_app"]
