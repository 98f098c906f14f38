"""Offline plan: what `pulumi up -s <stack>` would create, without the CLI or an Azure login.

    python -m offline.plan dev [--details]      (or: make plan STACK=dev ARGS=--details)

Runs the real program for the stack with its Pulumi.<stack>.yaml under the recording harness
in preview mode: values only Azure can know print as "known after deploy", encrypted config
values as [secret] (never decrypted).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from components.config import ConfigError
from offline.harness import (
    UNKNOWN,
    ProgramFailedError,
    RecordedGraph,
    RecordedResource,
    Secret,
    run_program,
)

KNOWN_AFTER_DEPLOY = "known after deploy"
SECRET = "[secret]"


def display_value(value: Any) -> Any:
    """A value as a reviewer may see it: secrets hidden, unknowns named."""
    if value is UNKNOWN:
        return KNOWN_AFTER_DEPLOY
    if isinstance(value, Secret):
        return SECRET
    if isinstance(value, dict):
        return {key: display_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [display_value(item) for item in value]
    return value


def _tree(graph: RecordedGraph) -> Iterator[tuple[str, RecordedResource]]:
    """Resources depth-first by parent, each with its tree-drawing prefix.

    Siblings are sorted by name: registration order depends on when outputs resolve, and the
    same program must print the same plan.
    """
    urns = {r.urn for r in graph.resources}
    top_level = [r for r in graph.resources if r.parent not in urns]

    def walk(nodes: list[RecordedResource], indent: str) -> Iterator[tuple[str, RecordedResource]]:
        nodes = sorted(nodes, key=lambda node: node.name)
        for index, node in enumerate(nodes):
            last = index == len(nodes) - 1
            yield indent + ("└─ " if last else "├─ "), node
            yield from walk(graph.children(node), indent + ("   " if last else "│  "))

    yield from walk(top_level, "")


def render_tree(graph: RecordedGraph, *, details: bool = False) -> str:
    """The resource tree, a count per action and the outputs, laid out like `pulumi preview`."""
    stack_row = ("", "pulumi:pulumi:Stack", f"{graph.project}-{graph.stack}")
    tree = list(_tree(graph))
    width = max(len(prefix + r.type) for prefix, r in tree) + 2 if tree else 30
    lines = [
        f"Plan for stack {graph.stack} of {graph.project} (offline: mocked providers, "
        "nothing is sent to Azure)",
        "",
        f"     {'Type':<{width}}Name",
        f" +   {stack_row[1]:<{width}}{stack_row[2]}",
    ]
    for prefix, resource in tree:
        marker = ">" if resource.read else "+"
        note = "  [protect]" if resource.protect else ""
        lines.append(f" {marker}   {prefix + resource.type:<{width}}{resource.name}{note}")
        if details and resource.custom:
            indent = " " * (8 + len(prefix))
            for key, value in sorted(display_value(dict(resource.inputs)).items()):
                lines.append(f"{indent}{key}: {json.dumps(value)}")
    created = 1 + sum(1 for r in graph.resources if not r.read)  # the stack itself counts
    read = sum(1 for r in graph.resources if r.read)
    lines += ["", "Resources:", f"    + {created} to create"]
    if read:
        lines.append(f"    > {read} to read")
    if graph.outputs:
        lines += ["", "Outputs:"]
        for name, value in graph.outputs.items():
            shown = SECRET if name in graph.secret_outputs else display_value(value)
            lines.append(f"    {name}: {json.dumps(shown)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make plan STACK=<stack>", description=__doc__)
    parser.add_argument("stack", help="the stack whose Pulumi.<stack>.yaml to plan")
    parser.add_argument("--details", action="store_true", help="show each resource's inputs")
    args = parser.parse_args(argv)
    try:
        graph = run_program(args.stack, preview=True)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ProgramFailedError as failure:
        if isinstance(failure.error, ConfigError):
            print(f"error: {failure.error}", file=sys.stderr)
            return 1
        raise
    print(render_tree(graph, details=args.details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
