"""The consumer template (examples/consumer/) as its tests copy it: its locked package, a
look-alike of its wheel, a copy of it without environments or wheels."""

from __future__ import annotations

import shutil
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import secretless_aks
from secretless_aks.offline.harness import PROJECT_DIR

CONSUMER = PROJECT_DIR / "examples" / "consumer"
TEMPLATE_WHEEL = f"wheels/secretless_aks-{secretless_aks.__version__}-py3-none-any.whl"
UV = PROJECT_DIR / ".venv-uv" / "bin" / "uv"


def locked_package() -> dict[str, Any]:
    (package,) = [
        package
        for package in tomllib.loads((CONSUMER / "uv.lock").read_text())["package"]
        if package["name"] == "secretless-aks"
    ]
    return package


def wheel(path: Path, marker: str) -> Path:
    """A wheel named as the template's, with the locked package's metadata (name, version and
    requirements) but other content: a look-alike of the locked one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    info = f"secretless_aks-{secretless_aks.__version__}.dist-info"
    requires = "".join(
        f"Requires-Dist: {d['name']}{d.get('specifier', '')}\n"
        for d in locked_package()["metadata"]["requires-dist"]
    )
    files = {
        "secretless_aks_probe.py": f"MARKER = {marker!r}\n",
        f"{info}/METADATA": (
            "Metadata-Version: 2.1\nName: secretless-aks\n"
            f"Version: {secretless_aks.__version__}\n{requires}"
        ),
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", record)
    return path


def copied_template(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    shutil.copytree(
        CONSUMER, copy, ignore=shutil.ignore_patterns(".venv*", "wheels", "__pycache__")
    )
    return copy
