"""A recorded graph as a reviewer reads it: a resource table, JSON, a Mermaid or DOT picture.

Everything renders from the plan document (`to_json`), so a saved plan and a fresh one print
alike and the diff compares what was printed. Values follow `plan_values`: secrets
never appear, values only Azure can know print as output<string>, the mocked signed-in account
is marked wherever it appears.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from secretless_aks.offline import plan_values
from secretless_aks.offline.harness import RecordedGraph, RecordedResource

PLAN_FORMAT = "secretless-aks-plan/2"
STACK_TYPE = "pulumi:pulumi:Stack"
# Dependencies on these would draw an arrow from nearly every node; the picture leaves them out.
UBIQUITOUS_TYPES = ("azure-native:resources:ResourceGroup", "pulumi:providers:")
LEGEND = (
    "output<string> is known only after deploy; <mocked ...> stands for your signed-in account, "
    "<set by CI from DEPLOYER_OBJECT_ID> for the deployer CI names; [secret] is never shown."
)


# Resources whose result is a value made at deploy time: a secret input built from one is
# marked generated in the plan (generatedSecrets), so a reviewer knows nobody typed it.
GENERATORS = frozenset({"random:index/randomPassword:RandomPassword"})


def to_json(graph: RecordedGraph) -> dict[str, Any]:
    """The whole graph in program order: what `--format json` prints and `--against` reads."""
    generators = {r.urn for r in graph.resources if r.type in GENERATORS}

    def encode(value: Any) -> Any:
        return plan_values.encode(value, graph.secret_digests)

    def inputs(resource: RecordedResource) -> dict[str, Any]:
        return {
            key: plan_values.encode(
                value,
                graph.secret_digests,
                generated=not generators.isdisjoint(resource.property_dependencies.get(key, ())),
            )
            for key, value in resource.inputs.items()
        }

    return {
        "format": PLAN_FORMAT,
        "project": graph.project,
        "stack": graph.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "read": r.read,
                "protect": r.protect,
                "provider": r.provider,
                "dependencies": sorted(r.dependencies),
                "propertyDependencies": {
                    key: sorted(urns) for key, urns in sorted(r.property_dependencies.items())
                },
                "inputs": inputs(r),
                "aliases": renamed_from(r),
            }
            for r in graph.resources
        ],
        "outputs": {
            name: plan_values.secret() if name in graph.secret_outputs else encode(value)
            for name, value in graph.outputs.items()
        },
    }


Resource = dict[str, Any]


def renamed_from(resource: RecordedResource) -> list[str]:
    """The URNs a resource was known by before a rename (its name-only `aliases`): a diff
    matches them, as the engine does, rather than deleting and creating."""
    head, _, _ = resource.urn.rpartition("::")
    return [
        f"{head}::{spec['name']}"
        for alias in resource.options.get("aliases", ())
        if isinstance(spec := alias.get("spec"), dict)
        and spec.get("name")
        and not spec.get("type")
        and not spec.get("parentUrn")
    ]


def tree(resources: Sequence[Resource]) -> Iterator[tuple[str, Resource]]:
    """Resources depth-first under their parents, siblings in list order, each with the
    tree-drawing prefix `pulumi preview` uses."""
    urns = {r["urn"] for r in resources}
    children: dict[str | None, list[Resource]] = {}
    for resource in resources:
        parent = resource["parent"] if resource["parent"] in urns else None
        children.setdefault(parent, []).append(resource)

    def walk(parent: str | None, indent: str) -> Iterator[tuple[str, Resource]]:
        siblings = children.get(parent, [])
        for index, node in enumerate(siblings):
            last = index == len(siblings) - 1
            yield indent + ("└─ " if last else "├─ "), node
            yield from walk(node["urn"], indent + ("   " if last else "│  "))

    yield from walk(None, "")


@dataclass(frozen=True)
class Row:
    """One line of the table: symbol, type (with its tree prefix), name, plan, info; and the
    lines printed under it."""

    symbol: str
    type: str
    name: str
    plan: str
    info: str = ""
    below: tuple[str, ...] = ()


def table(rows: Sequence[Row]) -> list[str]:
    """The `Type  Name  Plan  Info` table of `pulumi preview`, columns aligned."""
    header = Row("", "Type", "Name", "Plan", "Info")
    type_width = max(len(row.type) for row in (header, *rows)) + 2
    name_width = max(len(row.name) for row in (header, *rows)) + 2
    plan_width = max(len(row.plan) for row in (header, *rows)) + 2
    lines = []
    for row in (header, *rows):
        line = f" {row.symbol:<4}{row.type:<{type_width}}{row.name:<{name_width}}"
        lines.append(line + (f"{row.plan:<{plan_width}}{row.info}" if row.info else row.plan))
        lines += row.below
    return [line.rstrip() for line in lines]


def detail_indent(prefix: str) -> str:
    """Where lines under a row start: below its type, past the tree prefix."""
    return " " * (5 + len(prefix) + 3)


def outputs_block(outputs: dict[str, Any]) -> list[str]:
    """`Outputs:` with names aligned, as `pulumi preview` prints them."""
    if not outputs:
        return []
    return ["", "Outputs:", *plan_values.rows(outputs, plan_values.INDENT)]


def render_plan(document: dict[str, Any], *, details: bool = False) -> str:
    """The resource table, a count per action and the outputs, laid out like `pulumi preview`."""
    stack_row = Row("+", STACK_TYPE, f"{document['project']}-{document['stack']}", "create")
    rows = [stack_row]
    for prefix, resource in tree(document["resources"]):
        below: tuple[str, ...] = ()
        if details and resource["custom"]:
            below = tuple(plan_values.rows(resource["inputs"], detail_indent(prefix), sort=True))
        rows.append(
            Row(
                ">" if resource["read"] else "+",
                prefix + resource["type"],
                resource["name"],
                "read" if resource["read"] else "create",
                "[protect]" if resource["protect"] else "",
                below,
            )
        )
    # Reads show in the table but not in the summary, as in `pulumi preview`.
    created = sum(1 for row in rows if row.symbol == "+")
    lines = [
        f"Plan for stack {document['stack']} of {document['project']} (offline: mocked "
        "providers, nothing is sent to Azure)",
        LEGEND,
        "",
        *table(rows),
        "",
        "Resources:",
        f"    + {created} to create",
    ]
    lines += outputs_block(document["outputs"])
    return "\n".join(lines)


def render_tree(graph: RecordedGraph, *, details: bool = False) -> str:
    """`render_plan` of a recorded graph."""
    return render_plan(to_json(graph), details=details)


@dataclass(frozen=True)
class _Picture:
    """Custom resources as nodes (id, name, type) grouped by component, and dependency edges."""

    groups: list[tuple[str | None, list[tuple[str, str, str]]]]
    edges: list[tuple[str, str]]


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _picture(graph: RecordedGraph, only: Collection[str] | None = None) -> _Picture:
    components = {r.urn: r for r in graph.resources if not r.custom}
    drawn = sorted(
        (r for r in graph.resources if r.custom and (only is None or r.urn in only)),
        key=lambda r: (r.parent or "", r.name),
    )
    ids = {r.urn: f"r{index}" for index, r in enumerate(drawn)}
    by_owner: dict[str, list[tuple[str, str, str]]] = {}
    for r in drawn:
        owner = r.parent if r.parent in components else ""
        by_owner.setdefault(owner or "", []).append((ids[r.urn], r.name, _short_type(r.type)))
    groups = [
        (
            f"{components[owner].name} ({_short_type(components[owner].type)})" if owner else None,
            nodes,
        )
        for owner, nodes in sorted(by_owner.items())
    ]
    types = {r.urn: r.type for r in drawn}
    edges = {
        (ids[source], ids[r.urn])
        for r in drawn
        for source in set(r.dependencies).union(*r.property_dependencies.values())
        if source in ids and not types[source].startswith(UBIQUITOUS_TYPES)
    }
    return _Picture(groups, sorted(edges, key=lambda e: (int(e[0][1:]), int(e[1][1:]))))


def render_mermaid(graph: RecordedGraph, only: Collection[str] | None = None) -> str:
    """A flowchart GitHub renders in a PR comment: components as boxes, arrows in creation order;
    with `only`, just the resources of those URNs."""
    picture = _picture(graph, only)
    lines = ["flowchart LR"]
    for index, (label, nodes) in enumerate(picture.groups):
        if label:
            lines.append(f'  subgraph g{index}["{label}"]')
        lines += [f'    {id_}["{name}<br/><small>{type_}</small>"]' for id_, name, type_ in nodes]
        if label:
            lines.append("  end")
    lines += [f"  {source} --> {target}" for source, target in picture.edges]
    return "\n".join(lines)


def neighbourhood(graph: RecordedGraph, urns: Collection[str]) -> set[str]:
    """`urns` and the resources directly linked to them, either way (what a change touches)."""
    around = set(urns)
    for r in graph.resources:
        sources = set(r.dependencies).union(*r.property_dependencies.values())
        if r.urn in urns:
            around |= sources
        elif sources & set(urns):
            around.add(r.urn)
    return around


def render_dot(graph: RecordedGraph) -> str:
    """The same picture for Graphviz."""
    picture = _picture(graph)
    lines = [f'digraph "{graph.project}-{graph.stack}" {{', "  rankdir=LR;", "  node [shape=box];"]
    for index, (label, nodes) in enumerate(picture.groups):
        if label:
            lines += [f"  subgraph cluster_{index} {{", f'    label="{label}";']
        lines += [f'    {id_} [label="{name}\\n{type_}"];' for id_, name, type_ in nodes]
        if label:
            lines.append("  }")
    lines += [f"  {source} -> {target};" for source, target in picture.edges]
    lines.append("}")
    return "\n".join(lines)
