"""The uv projects' locks, read for the tests: which release of each package a project locks."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Any

from secretless_aks.offline.harness import PROJECT_DIR


def canonical(name: str) -> str:
    """PEP 503: `PyYAML`, `pyyaml` and `py_yaml` name one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def lock(project: str = ".") -> dict[str, Any]:
    return tomllib.loads((PROJECT_DIR / project / "uv.lock").read_text())


def locked_versions(project: str = ".") -> dict[str, str]:
    """{package: version} of the registry packages a project's lock holds (one version each)."""
    versions: dict[str, str] = {}
    for package in lock(project)["package"]:
        if "registry" in package.get("source", {}):
            name = canonical(package["name"])
            assert versions.get(name, package["version"]) == package["version"], name
            versions[name] = package["version"]
    return versions
