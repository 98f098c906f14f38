"""The plan of a revision's program, in a process of its own, forked from one warm child.

A revision's program must import that revision's modules, never this package's (baseline.py), so
it runs in another process. A fresh Python that imports the providers' SDKs costs about a second,
ten times the plan itself, and a pull request's comment plans each stack. So the first plan starts
one child per process, the planner. Before each plan the planner imports the SDK modules this
process has loaded (the same installed files serve both sides), then forks: the copy forgets this
package, imports the revision's, plans, writes the plan to a file and exits; the planner stays
warm for the next. It runs no program itself, so it has no threads when it forks. It forks on
Linux only: macOS's system libraries may not survive a fork, and Windows has none. There the
planner plans once, in itself, and exits: a fresh child per plan.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import traceback
import types
from pathlib import Path
from typing import Any, NoReturn

from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import run_program
from secretless_aks.offline.mocks import AzureMocks, ReferencedStack
from secretless_aks.offline.stack_file import StackFileError

# Where this package is imported from (a checkout's root, or site-packages).
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
# The planner's modules that a revision's program must not see: it imports its own.
PACKAGE = __name__.partition(".")[0]
# The providers' SDKs (pulumi_azure_native, pulumi_kubernetes, ...): the planner imports ahead
# what this process has loaded of them.
SDK_PREFIX = "pulumi_"
FORKS = sys.platform == "linux"
_STARTER = "import sys; sys.path.insert(0, sys.argv[1]); from {0} import serve; serve(sys.argv[2])"


class RevisionPlanError(Exception):
    """The revision's program failed; the message is the last line it wrote."""


_lock = threading.Lock()
_planner: subprocess.Popen[str] | None = None


def plan_revision(
    tree: Path, project: Path, stack: str, outputs: Path | None, contract: Path | None
) -> dict[str, Any]:
    """The JSON plan of `stack` of the program in `project`, a directory of the checkout `tree`
    (with `outputs`, the platform outputs its StackReference reads, and with `contract`, the
    published contract it reads)."""
    with tempfile.TemporaryDirectory() as scratch, _lock:
        result, errors = Path(scratch, "plan.json"), Path(scratch, "output")
        request = {
            "tree": str(tree),
            "project": str(project),
            "stack": stack,
            "outputs": str(outputs.resolve()) if outputs else "",
            "contract": str(contract.resolve()) if contract else "",
            "result": str(result),
            "errors": str(errors),
            "environment": dict(os.environ),
            "modules": loaded_sdk_modules(),
        }
        if _ask(request) != 0:
            last = errors.read_text().strip().splitlines()[-1:] if errors.exists() else []
            raise RevisionPlanError((last or ["(no output)"])[0])
        return json.loads(result.read_text())


def loaded_sdk_modules() -> list[str]:
    """The SDK modules this process has imported, in the order it imported them (a package
    before its modules). A module imported lazily and not used yet is left out."""
    return [
        name
        for name, module in sys.modules.copy().items()
        if name.startswith(SDK_PREFIX) and type(module) is types.ModuleType
    ]


def _ask(request: dict[str, Any]) -> int:
    """The exit status of one plan: the planner's answer, or its own status if it ended."""
    global _planner
    if _planner is None or _planner.poll() is not None:
        _planner = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", _STARTER.format(__name__), str(PACKAGE_ROOT), _mode()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PACKAGE_ROOT,
        )
    assert _planner.stdin is not None and _planner.stdout is not None
    try:
        _planner.stdin.write(json.dumps(request) + "\n")
        _planner.stdin.flush()
    except BrokenPipeError:
        pass  # it ended; its status says how
    answer = _planner.stdout.readline()
    if answer:
        return int(answer)
    status = _planner.wait()
    stop()
    return status


def _mode() -> str:
    return "fork" if FORKS else "once"


def running_planner() -> subprocess.Popen[str] | None:
    """This process's planner, if one has started and not been stopped."""
    return _planner


@atexit.register
def stop() -> None:
    """Ends the planner (it ends when its input does), and forgets it."""
    global _planner
    if _planner is not None:
        for pipe in (_planner.stdin, _planner.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        _planner.wait()
        _planner = None


def serve(mode: str) -> None:
    """The planner: one JSON request per line on stdin, each plan's exit status per line."""
    for line in sys.stdin:
        request = json.loads(line)
        if mode == "once":
            _plan_here(request)
        for name in request["modules"]:
            if type(sys.modules.get(name)) is not types.ModuleType:
                with contextlib.suppress(ImportError):
                    # A lazily imported module loads on its first attribute that is not its
                    # metadata; a package must load before its modules are imported.
                    getattr(importlib.import_module(name), "__all__", None)
        pid = os.fork()
        if pid == 0:
            _plan_here(request)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)


def _plan_here(request: dict[str, Any]) -> NoReturn:
    """Plans the request in this process, the plan to its result file and anything the program
    writes to its errors file, and exits: 0, or 1 when the program failed."""
    status = 1
    try:
        with Path(request["errors"]).open("w") as errors:
            os.dup2(errors.fileno(), 1)
            os.dup2(errors.fileno(), 2)
        os.environ.clear()
        os.environ.update(request["environment"])
        os.chdir(request["tree"])
        outputs, contract = request["outputs"], request["contract"]
        platform = ReferencedStack.from_outputs_file(Path(outputs)) if outputs else None
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]
        sys.path[0] = request["tree"]
        try:
            # The revision's own reader, if it has one (older ones read stack references only).
            from secretless_aks import published_contract

            found = json.loads(Path(contract).read_text()) if contract else None
            offline = published_contract.offline_document(found)
        except ImportError:
            offline = contextlib.nullcontext()
        mocks = AzureMocks(preview=True, any_stack=platform)
        with offline:
            graph = run_program(
                request["stack"], preview=True, mocks=mocks, project_dir=Path(request["project"])
            )
        Path(request["result"]).write_text(json.dumps(to_json(graph)))
        status = 0
    except StackFileError as error:
        print(error, file=sys.stderr)  # one line, which the parent reports
    except BaseException:  # noqa: BLE001 - the copy exits below, whatever ended its plan
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
