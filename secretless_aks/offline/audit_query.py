"""`make audit-query STACK=<stack>`: the secret-read attribution query (docs/audit/
secret-reads.kql) with the stack's services filled in, each with its identity's principal id.

The ids come from `pulumi stack output --json -s <stack>` when the Pulumi CLI and the stack's
state are reachable; otherwise the services come from the stack file, with placeholders for
their ids, and the command says so.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from secretless_aks.offline.harness import PROJECT_DIR, read_stack_file
from secretless_aks.stack_outputs import OutputsUnreachableError, stack_outputs

TEMPLATE = PROJECT_DIR / "docs" / "audit" / "secret-reads.kql"
MARKER = "    // services\n"


def render(services: Sequence[tuple[str, str]]) -> str:
    """The query with `services` ((name, principal id) pairs) as its table."""
    template = TEMPLATE.read_text()
    rows = "".join(f'    "{name}", "{principal}",\n' for name, principal in services)
    return template.replace(MARKER, rows or MARKER)


def from_outputs(outputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(name, entry["principalId"]) for name, entry in sorted(outputs["services"].items())]


def placeholders(stack: str, project_dir: Path = PROJECT_DIR) -> list[tuple[str, str]]:
    config = read_stack_file(stack, project_dir)
    names = sorted(str(s["name"]) for s in config.get("secretless-aks:services") or ())
    return [(name, f"<principal id of {name}>") for name in names]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    stack = args[0] if args else "dev"
    try:
        services = from_outputs(stack_outputs(stack))
        print(f"-- principal ids from `pulumi stack output -s {stack}`", file=sys.stderr)
    except OutputsUnreachableError as why:
        services = placeholders(stack)
        print(
            f"-- {why}: the principal ids are placeholders; fill them in from the stack's "
            "services output",
            file=sys.stderr,
        )
    sys.stdout.write(render(services))
    return 0


if __name__ == "__main__":
    sys.exit(main())
