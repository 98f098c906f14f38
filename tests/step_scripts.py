"""Running a workflow or composite-action step's `run:` script as GitHub's runner does."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run_step(
    script: str, environment: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`script` under bash -eo pipefail (GitHub's `shell: bash`), with only `environment`, in
    `cwd` (the checkout)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=dict(environment),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
