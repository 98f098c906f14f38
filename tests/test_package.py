"""The installable package `secretless_aks`: what it ships, what it needs, and that it works
installed, away from the rest of this repository."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import secretless_aks
from secretless_aks.offline.harness import PROJECT_DIR
from tests.locks import locked_versions

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())


def test_the_public_api_is_what_the_package_lists() -> None:
    assert all(hasattr(secretless_aks, name) for name in secretless_aks.__all__)
    documented = secretless_aks.__doc__ or ""
    for name in secretless_aks.__all__:
        assert name == "__version__" or f"`{name}`" in documented, f"{name} is not documented"


def test_the_package_ships_only_itself_at_the_version_it_states() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["packages"]["find"]["include"] == ["secretless_aks*"]
    assert setuptools["dynamic"]["version"] == {"attr": "secretless_aks.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", secretless_aks.__version__)


def test_the_package_accepts_from_the_releases_the_program_pins_to_the_next_major() -> None:
    locked = locked_versions()
    ranges = {}
    for dependency in PYPROJECT["project"]["dependencies"]:
        matched = re.fullmatch(r"([\w-]+)>=([\d.]+),<(\d+)", dependency)
        assert matched, f"{dependency}: expected >=<tested release>,<<next major>"
        name, lowest, below = matched.groups()
        assert int(below) == int(lowest.split(".")[0]) + 1, dependency
        ranges[name] = lowest
    assert ranges == {name: locked[name] for name in ranges}


def test_the_offline_plan_needs_nothing_of_the_repository_but_the_package(
    tmp_path: Path,
) -> None:
    """Installed, the package has no policy pack beside it: the plan imports the pack only for
    the platform project, which lives in this repository."""
    (tmp_path / "secretless_aks").symlink_to(PROJECT_DIR / "secretless_aks")
    found = subprocess.run(
        [
            sys.executable,
            "-I",  # no working directory or PYTHONPATH on the path: only site-packages
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "import secretless_aks.offline.plan, secretless_aks.offline.pr_comment; "
            "print('policy' in sys.modules)",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert found.stdout.strip() == "False"
