"""A deployed stack's outputs, from `pulumi stack output --json` in the platform's directory."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


class OutputsUnreachableError(Exception):
    """`pulumi stack output` could not answer; says why."""


def stack_outputs(
    stack: str, project_dir: Path = PROJECT_DIR, *, show_secrets: bool = False
) -> dict[str, Any]:
    """The stack's outputs; secret ones as `[secret]` unless `show_secrets`."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsUnreachableError("the Pulumi CLI is not on PATH")
    command = [pulumi, "stack", "output", "--json", "-s", stack]
    done = subprocess.run(  # noqa: S603 - a fixed command, the stack name an argument
        [*command, "--show-secrets"] if show_secrets else command,
        cwd=project_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise OutputsUnreachableError(f"pulumi stack output -s {stack} failed: {last}")
    return dict(json.loads(done.stdout))
