"""The "before" side of a diff: a saved JSON plan, or the plan of the program at a git revision.

`plan_at_revision` runs *this* harness on *that* revision's program, so the two sides differ
only by the program and its stack files; `plans_at_revision` plans several stacks in one
process. The program imports its own revision's modules (`secretless_aks`, or `components` and
`platform_contract` from before the package), never this harness's package. A project in a
subdirectory (bootstrap/) is planned from the whole revision, since it imports the platform's
package. The revision is user text: it must be one that `git rev-parse --verify` accepts as a
commit, and it never reaches git where an option could be.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from secretless_aks.offline.formats import PLAN_FORMAT
from secretless_aks.offline.harness import PROJECT_DIR


class BaselineError(Exception):
    """The other side of a diff could not be read or planned."""


def baseline(
    against: str,
    stack: str,
    repo: Path = PROJECT_DIR,
    outputs: Path | None = None,
    contract: Path | None = None,
) -> dict[str, Any]:
    """A saved plan if `against` names a file, else the plan at the git revision `against`
    (with `outputs`, the platform outputs its StackReference reads, and with `contract`, the
    published contract it reads: see plan.py)."""
    saved = Path(against)
    if saved.is_file():
        return load_plan(saved)
    return plan_at_revision(against, stack, repo=repo, outputs=outputs, contract=contract)


def load_plan(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path} is not a saved plan: {error}") from error
    found = document.get("format") if isinstance(document, dict) else None
    if found != PLAN_FORMAT:
        raise BaselineError(
            f"{path} is not a saved plan of this version (format {found!r}, expected "
            f"{PLAN_FORMAT!r}); save it again with `--format json --output {path}`"
        )
    return document


def _commit(revision: str, repo: Path) -> str:
    """The commit `revision` names, or BaselineError. Never lets the text act as an option."""
    if not revision or revision.startswith("-"):
        raise BaselineError(f"{revision!r} is not a git revision or a saved plan file")
    # A fixed argument list, no shell; --end-of-options keeps the text an argument.
    verified = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "git",
            "-C",
            str(repo),
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{revision}^{{commit}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if verified.returncode != 0:
        raise BaselineError(f"{revision!r} is not a git revision or a saved plan file")
    return verified.stdout.strip()


# Where this package is imported from (a checkout's root, or site-packages).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# Runs in a child process: this harness, imported from PACKAGE_ROOT, then the other revision's
# program, which must import its own modules (the tree's `secretless_aks`, or `components` from
# before the package), so this package is forgotten and the tree put first on the path.
_CHILD = """
import json, sys, traceback
package_root, tree, project, outputs, contract, *stacks = sys.argv[1:]
sys.path.insert(0, package_root)
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import run_program
from secretless_aks.offline.mocks import AzureMocks, ReferencedStack
from secretless_aks.offline.stack_file import StackFileError
from pathlib import Path
platform = ReferencedStack.from_outputs_file(Path(outputs)) if outputs else None
for name in [name for name in sys.modules if name.partition(".")[0] == "secretless_aks"]:
    del sys.modules[name]
sys.path[0] = tree
from contextlib import nullcontext
found = json.loads(Path(contract).read_text()) if contract else None
try:
    # The revision's own reader, if it has one (older ones read stack references only).
    from secretless_aks.published_contract import offline_document
except ImportError:
    offline_document = lambda found: nullcontext()
results = {}
for stack in stacks:
    try:
        mocks = AzureMocks(preview=True, any_stack=platform)
        with offline_document(found):
            graph = run_program(stack, preview=True, mocks=mocks, project_dir=Path(project))
        results[stack] = {"plan": to_json(graph)}
    except StackFileError as error:
        results[stack] = {"error": str(error)}
    except Exception as error:  # this stack's failure, as its traceback would end
        results[stack] = {"error": "".join(traceback.format_exception_only(error)).strip()}
print(json.dumps(results))
"""


def _place(repo: Path) -> tuple[Path, str]:
    """The repository's top directory, and where `repo` is in it ("", or "bootstrap/")."""
    found = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), "rev-parse", "--show-toplevel", "--show-prefix"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,  # `_commit` has just run git there
    )
    top, prefix = [*found.stdout.splitlines(), ""][:2]
    return Path(top), prefix


def plan_at_revision(
    revision: str,
    stack: str,
    repo: Path = PROJECT_DIR,
    outputs: Path | None = None,
    contract: Path | None = None,
) -> dict[str, Any]:
    """The plan of `stack` as the program stood at `revision` (empty if the stack was new)."""
    plans = plans_at_revision(revision, [stack], repo=repo, outputs=outputs, contract=contract)
    plan = plans[stack]
    if isinstance(plan, BaselineError):
        raise plan
    return plan


def plans_at_revision(
    revision: str,
    stacks: list[str],
    repo: Path = PROJECT_DIR,
    outputs: Path | None = None,
    contract: Path | None = None,
) -> dict[str, dict[str, Any] | BaselineError]:
    """The plan of each of `stacks` as the program stood at `revision` (empty for a stack that
    was new), or why that stack could not be planned. One checkout, and one process for them
    all: its start, importing the providers, costs more than a plan. BaselineError if the
    revision cannot be read or its program not started."""
    commit = _commit(revision, repo)
    top, prefix = _place(repo)
    with tempfile.TemporaryDirectory() as workdir:
        tree = Path(workdir)
        # From the top: run in a subdirectory, `git archive` would archive only that.
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(top), "archive", "--format=tar", commit],  # noqa: S607
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise BaselineError(f"cannot read revision {revision!r}: {archive.stderr.decode()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as files:
            files.extractall(tree, filter="data")
        project = tree / prefix
        plans: dict[str, dict[str, Any] | BaselineError] = {
            stack: {"format": PLAN_FORMAT, "stack": stack, "resources": [], "outputs": {}}
            for stack in stacks
            if not (project / f"Pulumi.{stack}.yaml").exists()
        }
        planned = [stack for stack in dict.fromkeys(stacks) if stack not in plans]
        if not planned:
            return {stack: plans[stack] for stack in stacks}
        child = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-c",
                _CHILD,
                str(PACKAGE_ROOT),
                str(tree),
                str(project),
                str(outputs.resolve()) if outputs else "",
                str(contract.resolve()) if contract else "",
                *planned,
            ],
            capture_output=True,
            text=True,
            cwd=tree,
            check=False,
        )
    if child.returncode != 0:
        last = child.stderr.strip().splitlines()[-1:] or ["(no output)"]
        which = "stack" if len(planned) == 1 else "stacks"
        raise BaselineError(f"cannot plan {which} {', '.join(planned)} at {revision}: {last[0]}")
    for stack, result in json.loads(child.stdout).items():
        plans[stack] = result.get("plan") or BaselineError(
            f"cannot plan stack {stack} at {revision}: {result['error']}"
        )
    return {stack: plans[stack] for stack in stacks}
