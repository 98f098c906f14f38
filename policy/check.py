"""Check a saved plan against the secretless-aks policy pack, offline.

    python -m policy.check plan.json                      (from the repository's root)
    make policy PLAN=plan.json

The plan is what `make plan STACK=<stack> ARGS="--format json --output plan.json"` wrote. The
rules that depend on the stack's configuration (purge protection in a protected stack, the
vault's network restrictions) read Pulumi.<stack>.yaml from the current directory, or the file
--stack-file names. Prints each violation with its rule's name; exit 1 on any mandatory one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from policy.secretless_policy import RULES, Settings, Stack, evaluate
from policy.secretless_policy.report import render

EXIT_VIOLATIONS = 1
EXIT_ERROR = 2
PLAN_FORMAT_PREFIX = "secretless-aks-plan/"


class PlanError(Exception):
    """A file that is not a saved plan, or a stack file that cannot be read."""


def load_plan(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PlanError(f"{path}: not a readable JSON plan ({error})") from None
    if not (
        isinstance(document, dict)
        and str(document.get("format", "")).startswith(PLAN_FORMAT_PREFIX)
        and isinstance(document.get("resources"), list)
    ):
        raise PlanError(
            f"{path}: not a saved plan; make one with "
            'make plan STACK=<stack> ARGS="--format json --output plan.json"'
        )
    return document


def stack_settings(path: Path) -> Settings:
    """The settings in a stack file's `config:` (secure values are never read)."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise PlanError(f"{path}: cannot read the stack file ({error})") from None
    config = document.get("config") if isinstance(document, dict) else None
    return Settings.from_config(config if isinstance(config, dict) else {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policy.check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("plan", type=Path, help="a plan saved with --format json")
    parser.add_argument(
        "--stack-file",
        type=Path,
        help="the stack's config (default: Pulumi.<the plan's stack>.yaml here, if it exists)",
    )
    args = parser.parse_args(argv)
    try:
        document = load_plan(args.plan)
        stack_file = args.stack_file or Path(f"Pulumi.{document.get('stack')}.yaml")
        if args.stack_file is None and not stack_file.is_file():
            print(
                f"note: no {stack_file} here; checking with the program's default settings",
                file=sys.stderr,
            )
            settings = Settings()
        else:
            settings = stack_settings(stack_file)
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    stack = Stack.from_plan(document)
    violations = evaluate(RULES, stack, settings)
    print("\n".join(render(violations, stack, len(RULES))))
    return EXIT_VIOLATIONS if any(v.mandatory for v in violations) else 0


if __name__ == "__main__":
    sys.exit(main())
