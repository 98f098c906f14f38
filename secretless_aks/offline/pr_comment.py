"""The pull-request comment: per stack, what the change does, as the offline plan sees it.

    python -m secretless_aks.offline.pr_comment --base origin/main --stacks dev prod > comment.md
    make pr-comment STACKS="dev prod" BASE=origin/main            the same, locally

Needs no cloud access, so the workflow that runs it also serves pull requests from forks;
a separate workflow with write access posts the file (and updates it in place next time,
finding it by MARKER), adding the title, the tests' status and the links it reads from the
GitHub API. It reads at GitHub's width: every line of its tables and plan blocks fits WIDTH
characters, the operation first, long names shortened in the table and given in full, with
the inputs and reasons, in a details block; the picture shows only what changes and its
direct neighbours.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from secretless_aks.offline import plan_values
from secretless_aks.offline.baseline import BaselineError, plans_at_revision
from secretless_aks.offline.diff import (
    PREFIXES,
    PROVIDER_REASON,
    SUMMARY_ORDER,
    Diff,
    ResourceChange,
    diff_plans,
    outputs_diff,
    property_lines,
)
from secretless_aks.offline.formats import neighbourhood, render_mermaid, to_json
from secretless_aks.offline.harness import PROJECT_DIR, read_stack_file, run_program
from secretless_aks.offline.plan import USER_ERRORS, policy_verdict, report
from secretless_aks.offline.warnings import plan_warnings

MARKER = "<!-- secretless-aks-plan -->"
# GitHub refuses comments over 65,536 characters; leave room for the frame.
MAX_SECTION = 20_000
# What a pull request's conversation shows without a horizontal scroll bar.
WIDTH = 100
# A resource name in the table; longer ones are shortened there and given whole below.
NAME_WIDTH = 56
INDENT = "    "


def shortened(name: str, width: int = NAME_WIDTH) -> str:
    """`name`, or its start and end around `…` so that it fits `width`."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: keep - keep // 2] + "…" + name[-(keep // 2) :]


def fold(line: str, width: int = WIDTH) -> list[str]:
    """`line` in pieces of at most `width` characters, each further piece indented under it."""
    indent = " " * (len(line) - len(line.lstrip()) + len(INDENT))
    pieces, rest = [], line
    while len(rest) > width:
        cut = max(
            rest.rfind(" ", len(indent) + 10, width), rest.rfind(",", len(indent) + 10, width)
        )
        cut = cut + 1 if cut > 0 else width
        pieces.append(rest[:cut].rstrip())
        rest = indent + rest[cut:].lstrip()
    return [*pieces, rest]


def counts(diff: Diff) -> str:
    """`+10 to create, ~1 to update`, in the engine's order."""
    parts = [f"{PREFIXES[op].strip()}{diff.count(op)} to {op}" for op in SUMMARY_ORDER]
    return ", ".join(part for op, part in zip(SUMMARY_ORDER, parts, strict=True) if diff.count(op))


def changes_table(diff: Diff) -> list[str]:
    """A Markdown table: the operation, the short type and the (shortened) resource name."""
    lines = ["| Op | Type | Resource |", "|---|---|---|"]
    for change in diff.changes:
        resource = change.resource
        short_type = resource["type"].rsplit(":", 1)[-1]
        lines.append(
            f"| `{PREFIXES[change.op].strip()}` {change.op} | {short_type} | "
            f"`{shortened(resource['name'])}` |"
        )
    return lines


def _change_lines(change: ResourceChange) -> list[str]:
    resource = change.resource
    lines = [f"{PREFIXES[change.op].strip()} {change.op} {resource['name']}"]
    lines.append(f"{INDENT}type: {resource['type']}")
    if change.replace_reasons:
        lines.append(f"{INDENT}replaced because: {', '.join(change.replace_reasons)} changes")
        if PROVIDER_REASON in change.replace_reasons:
            provider = (resource["provider"] or "").rsplit("::", 1)[-1]
            lines.append(f"{INDENT}+- provider: {provider} is replaced")
    for prop in change.properties:
        lines += property_lines(prop, INDENT, details=True)
    if change.op in ("create", "delete") and resource["custom"]:
        lines += plan_values.rows(resource["inputs"], INDENT, sort=True)
    return lines


def changes_detail(diff: Diff, policies: str) -> list[str]:
    """Every change with its type, reasons and inputs, then the outputs and the policy pack's
    verdict: a plan block whose lines all fit WIDTH."""
    lines: list[str] = []
    for change in diff.changes:
        lines += [*_change_lines(change), ""]
    lines += outputs_diff(diff, details=True)
    if policies:
        lines += ["", *policies.splitlines()]
    return [piece for line in lines for piece in fold(line)]


def _section(
    stack: str, base: str, before: dict[str, Any] | BaselineError, project_dir: Path
) -> str:
    stack_config = read_stack_file(stack, project_dir)
    graph = run_program(stack, config=stack_config, preview=True, project_dir=project_dir)
    document = to_json(graph)
    warnings = [f"> **Warning:** {w}" for w in plan_warnings(stack_config)]
    policies, _ = policy_verdict(document, stack_config)
    if isinstance(before, BaselineError):
        return "\n".join([f"### Stack `{stack}`", "", *warnings, f"(no diff: {before})"])
    diff = diff_plans(before, document)
    heading = f"### Stack `{stack}`: {counts(diff) or 'no changes'}"
    if not diff.changes and not diff.outputs:
        quiet = [piece for line in policies.splitlines() for piece in fold(line)]
        return "\n".join(
            [heading, "", *warnings, f"No changes against `{base}`.", "", *_block(quiet)]
        )
    detail = "\n".join(changes_detail(diff, policies))
    if len(detail) > MAX_SECTION:
        detail = (
            detail[:MAX_SECTION].rsplit("\n", 1)[0]
            + "\n"
            + "\n".join(
                fold(f'… (cut; run make plan STACK={stack} ARGS="--against {base} --details")')
            )
        )
    touched = neighbourhood(graph, {change.resource["urn"] for change in diff.changes})
    outputs = [f"`{change.path}` ({PREFIXES[change.op].strip()})" for change in diff.outputs]
    return "\n".join(
        [
            heading,
            "",
            *warnings,
            *changes_table(diff),
            "",
            *([f"Outputs that change: {', '.join(outputs)}", ""] if outputs else []),
            "<details><summary>Inputs, reasons, outputs and policies</summary>",
            "",
            *_block(detail.splitlines()),
            "",
            "</details>",
            "",
            "<details><summary>Dependency picture: what changes, and its neighbours</summary>",
            "",
            "```mermaid",
            render_mermaid(graph, only=touched),
            "```",
            "",
            "</details>",
        ]
    )


def _block(lines: list[str]) -> list[str]:
    return ["```text", *lines, "```"] if lines else []


def build_comment(stacks: list[str], base: str, project_dir: Path = PROJECT_DIR) -> str:
    """The plan's part of the comment: the marker, a note on what it shows, a section per
    stack. pr-comment.yml adds the title, the tests' status line and the footer."""
    # The base's plans of every stack at once: one process, which costs more to start than a plan.
    try:
        before = plans_at_revision(base, stacks, repo=project_dir)
    except BaselineError as error:
        before = dict.fromkeys(stacks, error)
    sections = [_section(stack, base, before[stack], project_dir) for stack in stacks]
    return "\n\n".join(
        [
            MARKER,
            f"What this pull request changes against `{base}`, planned offline with mocked\n"
            "providers (values Azure computes show as `output<string>`, the signed-in account\n"
            "as `<mocked ...>`; secrets never show).",
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
        # A stack this change breaks: no comment, and the job fails; pr-comment.yml then
        # replaces the last plan with the failure, naming this job.
        return report(error)
    print(comment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
