"""Offline plan: what `pulumi up -s <stack>` would create, without the CLI or an Azure login.

    make plan STACK=dev                                  the resource tree, counts, outputs
    make plan STACK=dev ARGS=--details                   ... with every resource's inputs
    make plan STACK=dev ARGS="--format json"             the whole graph (also: mermaid, dot)
    make plan STACK=dev ARGS="--against origin/main"     what changes against a git revision
    make plan STACK=dev ARGS="--against old-plan.json --detailed-exitcode"

Runs the real program for the stack with its Pulumi.<stack>.yaml under the recording harness
in preview mode: values only Azure can know print as "known after deploy", encrypted config
values as [secret] (never decrypted). Exit codes: 0 done, 1 error, and with
--detailed-exitcode 2 when the diff has changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.config import ConfigError
from offline.diff import (
    DiffError,
    diff_as_json,
    diff_plans,
    load_plan,
    plan_at_revision,
    render_diff,
)
from offline.formats import render_dot, render_mermaid, render_tree, to_json
from offline.harness import PROJECT_DIR, ProgramFailedError, run_program
from offline.stack_file import StackFileError

EXIT_ERROR = 1
EXIT_CHANGES = 2


# Failures a person fixes in the stack file; `report` turns them into one line and exit 1.
USER_ERRORS = (FileNotFoundError, StackFileError, ProgramFailedError)


def report(error: Exception) -> int:
    """Print a user error as `error: <message>` and return EXIT_ERROR; re-raise anything else."""
    message = user_error(error)
    if message is None:
        raise error
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERROR


def user_error(error: Exception) -> str | None:
    """The message for a failure fixed in the stack file, or None for a bug (keep its traceback).

    Those are: no such stack file, a file that is not a stack file, config the program refuses.
    """
    if isinstance(error, FileNotFoundError | StackFileError):
        return str(error)
    if isinstance(error, ProgramFailedError) and isinstance(error.error, ConfigError):
        return str(error.error)
    return None


def main(argv: list[str] | None = None, *, project_dir: Path = PROJECT_DIR) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.plan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stack", help="the stack whose Pulumi.<stack>.yaml to plan")
    parser.add_argument("--details", action="store_true", help="show each resource's inputs")
    parser.add_argument(
        "--format", choices=("text", "json", "mermaid", "dot"), default="text", dest="output"
    )
    parser.add_argument(
        "--against", metavar="REV|PLAN.json", help="diff against a git revision or a saved plan"
    )
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help=f"with --against: exit {EXIT_CHANGES} when there are changes",
    )
    args = parser.parse_args(argv)
    try:
        graph = run_program(args.stack, preview=True, project_dir=project_dir)
    except USER_ERRORS as error:
        return report(error)
    if args.against:
        return _print_diff(to_json(graph), args, project_dir)
    renderers = {
        "text": lambda: render_tree(graph, details=args.details),
        "json": lambda: json.dumps(to_json(graph), indent=2),
        "mermaid": lambda: render_mermaid(graph),
        "dot": lambda: render_dot(graph),
    }
    print(renderers[args.output]())
    return 0


def _print_diff(plan: dict, args: argparse.Namespace, project_dir: Path) -> int:
    saved = Path(args.against)
    try:
        before = (
            load_plan(saved)
            if saved.suffix == ".json" and saved.exists()
            else plan_at_revision(args.against, args.stack, repo=project_dir)
        )
    except DiffError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    changes = diff_plans(before, plan)
    if args.output == "json":
        print(json.dumps(diff_as_json(changes), indent=2))
    else:
        print(render_diff(changes, against=args.against, stack=args.stack))
    return EXIT_CHANGES if args.detailed_exitcode and changes else 0


if __name__ == "__main__":
    sys.exit(main())
