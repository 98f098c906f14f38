"""A git repository holding a copy of this one's tracked files, for diffs against a revision."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from secretless_aks.offline.harness import PROJECT_DIR


def committed_copy(repo: Path, prefixes: tuple[str, ...]) -> Path:
    """Copy the tracked files whose paths start with `prefixes` into `repo`, committed as HEAD."""
    tracked = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        if name.startswith(prefixes):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(PROJECT_DIR / name, repo / name)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    return repo
