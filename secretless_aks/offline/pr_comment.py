"""The pull-request comment: per stack, what the change does, as the offline plan sees it.

    python -m secretless_aks.offline.pr_comment --base origin/main --stacks dev prod > comment.md

Needs no cloud access, so the workflow that runs it also serves pull requests from forks;
a separate workflow with write access posts the file (and updates it in place next time,
finding it by MARKER).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from secretless_aks.offline.baseline import BaselineError, plan_at_revision
from secretless_aks.offline.diff import diff_plans, render_diff
from secretless_aks.offline.formats import render_mermaid, to_json
from secretless_aks.offline.harness import PROJECT_DIR, read_stack_file, run_program
from secretless_aks.offline.plan import USER_ERRORS, policy_verdict, report
from secretless_aks.offline.warnings import plan_warnings

MARKER = "<!-- secretless-aks-plan -->"
# GitHub refuses comments over 65,536 characters; leave room for the frame.
MAX_SECTION = 20_000


def _section(stack: str, base: str, project_dir: Path) -> str:
    stack_config = read_stack_file(stack, project_dir)
    graph = run_program(stack, config=stack_config, preview=True, project_dir=project_dir)
    document = to_json(graph)
    try:
        changes = diff_plans(plan_at_revision(base, stack, repo=project_dir), document)
        diff = render_diff(changes, against=base)
    except BaselineError as error:
        diff = f"(no diff: {error})"
    if len(diff) > MAX_SECTION:
        diff = (
            diff[:MAX_SECTION]
            + "\n… (cut; run `make plan STACK="
            + stack
            + f' ARGS="--against {base}"`)'
        )
    warnings = [f"> **Warning:** {w}" for w in plan_warnings(stack_config)]
    policies, _ = policy_verdict(document, stack_config)
    return "\n".join(
        [
            f"### Stack `{stack}`: {len(graph.resources) + 1} resources",
            "",
            *(f"{warning}\n" for warning in warnings),
            "```",
            diff,
            *(["", policies] if policies else []),
            "```",
            "",
            "<details><summary>Dependency picture</summary>",
            "",
            "```mermaid",
            render_mermaid(graph),
            "```",
            "",
            "</details>",
        ]
    )


def build_comment(stacks: list[str], base: str, project_dir: Path = PROJECT_DIR) -> str:
    sections = [_section(stack, base, project_dir) for stack in stacks]
    return "\n\n".join(
        [
            MARKER,
            "## secretless-aks: offline plan",
            f"What this pull request changes against `{base}`, planned offline with mocked "
            "providers (values Azure computes show as `output<string>`, the signed-in account as "
            "`<mocked ...>`; secrets never show).",
            *sections,
        ]
    )


def main(argv: list[str] | None = None, *, project_dir: Path = PROJECT_DIR) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m secretless_aks.offline.pr_comment", description=__doc__
    )
    parser.add_argument("--base", required=True, help="the git revision to diff against")
    parser.add_argument("--stacks", nargs="+", required=True)
    args = parser.parse_args(argv)
    try:
        comment = build_comment(args.stacks, args.base, project_dir)
    except USER_ERRORS as error:
        # A stack this change breaks: no comment, and the job log says why.
        return report(error)
    print(comment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
