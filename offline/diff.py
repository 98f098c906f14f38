"""Structural diff of two plans: resources added, removed and changed, and which inputs changed.

Plans are the JSON documents of `offline.formats.to_json`, so secrets are already redacted: a
changed secret shows as changed, never with its value. `plan_at_revision` makes the "before"
plan from another git revision, running *this* harness on *that* revision's program, so the
two sides differ only by the program and its stack files.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.formats import SECRET
from offline.harness import PROJECT_DIR, SECRET_PLACEHOLDER_PREFIX


class DiffError(Exception):
    """The other side of a diff could not be planned."""


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ResourceChange:
    kind: str  # "add", "remove" or "change"
    urn: str
    type: str
    name: str
    properties: tuple[PropertyChange, ...] = field(default=())


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{path}[{index}]"))
        return flat
    return {path: value}


def _comparable(resource: dict[str, Any]) -> dict[str, Any]:
    flat = _flatten(resource.get("inputs") or {})
    flat["(protect)"] = resource.get("protect", False)
    return flat


def diff_plans(before: dict[str, Any], after: dict[str, Any]) -> list[ResourceChange]:
    old = {r["urn"]: r for r in before.get("resources", [])}
    new = {r["urn"]: r for r in after.get("resources", [])}
    changes: list[ResourceChange] = []
    for urn in sorted(set(old) | set(new)):
        if urn not in old:
            changes.append(ResourceChange("add", urn, new[urn]["type"], new[urn]["name"]))
        elif urn not in new:
            changes.append(ResourceChange("remove", urn, old[urn]["type"], old[urn]["name"]))
        else:
            was, now = _comparable(old[urn]), _comparable(new[urn])
            properties = tuple(
                PropertyChange(path, was.get(path), now.get(path))
                for path in sorted(set(was) | set(now))
                if was.get(path) != now.get(path)
            )
            if properties:
                changes.append(
                    ResourceChange("change", urn, new[urn]["type"], new[urn]["name"], properties)
                )
    return changes


def _shown(value: Any) -> str:
    if isinstance(value, str) and value.startswith(SECRET_PLACEHOLDER_PREFIX):
        return SECRET
    return "(none)" if value is None else json.dumps(value)


SYMBOLS = {"add": "+", "remove": "-", "change": "~"}


def render_diff(changes: list[ResourceChange], *, against: str, stack: str) -> str:
    if not changes:
        return f"No changes to stack {stack} against {against}."
    lines = [f"Changes to stack {stack} against {against}:", ""]
    for change in changes:
        lines.append(f" {SYMBOLS[change.kind]} {change.type}  {change.name}")
        for prop in change.properties:
            lines.append(f"       {prop.path}: {_shown(prop.before)} => {_shown(prop.after)}")
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in SYMBOLS}
    lines += [
        "",
        f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove",
    ]
    return "\n".join(lines)


def diff_as_json(changes: list[ResourceChange]) -> list[dict[str, Any]]:
    return [
        {
            "kind": c.kind,
            "urn": c.urn,
            "type": c.type,
            "name": c.name,
            "properties": [
                {"path": p.path, "before": _shown(p.before), "after": _shown(p.after)}
                for p in c.properties
            ],
        }
        for c in changes
    ]


# Runs in a child process: this harness first on the path, the other revision's program second.
_CHILD = """
import json, sys
tool, tree, stack = sys.argv[1:4]
sys.path[:0] = [tool, tree]
from offline.formats import to_json
from offline.harness import run_program
from offline.stack_file import StackFileError
from pathlib import Path
try:
    graph = run_program(stack, preview=True, project_dir=Path(tree))
except StackFileError as error:
    sys.exit(str(error))  # one line, which the parent reports
print(json.dumps(to_json(graph)))
"""


def plan_at_revision(revision: str, stack: str, repo: Path = PROJECT_DIR) -> dict[str, Any]:
    """The plan of `stack` as the program stood at `revision` (empty if the stack was new)."""
    with tempfile.TemporaryDirectory() as workdir:
        tree, tool = Path(workdir) / "tree", Path(workdir) / "tool"
        tree.mkdir()
        # Fixed argument lists, no shell: the revision is passed to git as one argument.
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(repo), "archive", "--format=tar", revision],  # noqa: S607
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise DiffError(f"cannot read revision {revision!r}: {archive.stderr.decode().strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as files:
            files.extractall(tree, filter="data")
        if not (tree / f"Pulumi.{stack}.yaml").exists():
            return {"resources": [], "outputs": {}}
        shutil.copytree(PROJECT_DIR / "offline", tool / "offline")
        child = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _CHILD, str(tool), str(tree), stack],
            capture_output=True,
            text=True,
            cwd=tree,
            check=False,
        )
        if child.returncode != 0:
            last = child.stderr.strip().splitlines()[-1:] or ["(no output)"]
            raise DiffError(f"cannot plan stack {stack} at {revision}: {last[0]}")
        return json.loads(child.stdout)


def load_plan(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
