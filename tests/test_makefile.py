"""The Makefile: a lean first plan, one lint for `make lint` and `make test`, a help that lists
every target. Checked with `make -n` against a virtual environment that does not exist yet."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from offline.harness import PROJECT_DIR

LINT = ["ruff check", "ruff format --check", "pyright", "actionlint", "zizmor"]


def make(*args: str, venv: Path) -> list[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT_DIR), f"VENV={venv}", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("target", ["plan", "preview", "up"])
def test_the_program_targets_install_only_the_runtime_requirements(
    target: str, tmp_path: Path
) -> None:
    commands = "\n".join(make("-n", target, venv=tmp_path / "venv"))
    assert "-r requirements.txt" in commands
    assert "requirements-dev.txt" not in commands


def test_make_test_installs_the_tools_lints_then_runs_the_tests(tmp_path: Path) -> None:
    commands = make("-n", "test", venv=tmp_path / "venv")
    lint = make("-n", "lint", venv=tmp_path / "venv")
    assert commands[: len(lint)] == lint
    after_lint = commands[len(lint) :]
    assert after_lint[0] == f"{tmp_path}/venv/bin/pytest"
    # Then the sample app's own checks, in its own virtual environment, and checkov.
    assert after_lint[1] == "make --no-print-directory -C app test VENV=.venv"
    assert any(line.endswith('checkov/skips.yaml)"') for line in after_lint)
    installs = [i for i, line in enumerate(lint) if "pip install" in line]
    assert "-r requirements-dev.txt" in lint[installs[-1]]
    checks = lint[installs[-1] + 1 :]
    found = [tool for tool in LINT for line in checks if f"/bin/{tool}" in line]
    assert found == LINT, checks


def test_make_alone_lists_every_target_with_a_description(tmp_path: Path) -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    targets = re.findall(r"^([a-z]+):", makefile, re.MULTILINE)
    listed = dict(
        line.split(None, 2)[1:]
        for line in make(venv=tmp_path / "venv")
        if line.startswith("  make ")
    )
    assert list(listed) == targets
    assert all(listed.values())
