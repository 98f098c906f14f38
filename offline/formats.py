"""A recorded graph as a reviewer reads it: a resource tree, JSON, a Mermaid or DOT picture.

Secrets never appear: a Secret prints as [secret] (in JSON, a harness placeholder keeps its
ciphertext digest, so a diff can say a secret changed). Values only Azure can know print as
"known after deploy".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from offline.harness import (
    SECRET_PLACEHOLDER_PREFIX,
    UNKNOWN,
    RecordedGraph,
    RecordedResource,
    Secret,
)

PLAN_FORMAT = "secretless-aks-plan/1"
KNOWN_AFTER_DEPLOY = "known after deploy"
SECRET = "[secret]"
# Dependencies on these would draw an arrow from nearly every node; the picture leaves them out.
UBIQUITOUS_TYPES = ("azure-native:resources:ResourceGroup", "pulumi:providers:")


def _redact(value: Any, *, keep_config_digest: bool) -> Any:
    if value is UNKNOWN:
        return KNOWN_AFTER_DEPLOY
    if isinstance(value, Secret):
        inner = value.value
        placeholder = isinstance(inner, str) and inner.startswith(SECRET_PLACEHOLDER_PREFIX)
        return inner if keep_config_digest and placeholder else SECRET
    if isinstance(value, dict):
        return {
            k: _redact(item, keep_config_digest=keep_config_digest) for k, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, keep_config_digest=keep_config_digest) for item in value]
    return value


def display_value(value: Any) -> Any:
    """A value as a reviewer may see it: secrets hidden, unknowns named."""
    return _redact(value, keep_config_digest=False)


def _comparable(value: Any) -> Any:
    """Like display_value, but a config secret keeps its ciphertext digest."""
    return _redact(value, keep_config_digest=True)


def to_json(graph: RecordedGraph) -> dict[str, Any]:
    """The whole graph, secrets redacted: what `--format json` prints and `--against` reads."""
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
                "inputs": _comparable(dict(r.inputs)),
            }
            for r in sorted(graph.resources, key=lambda r: r.urn)
        ],
        "outputs": {
            name: SECRET if name in graph.secret_outputs else _comparable(value)
            for name, value in graph.outputs.items()
        },
    }


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
    tree = list(_tree(graph))
    width = max((len(prefix + r.type) for prefix, r in tree), default=30) + 2
    lines = [
        f"Plan for stack {graph.stack} of {graph.project} (offline: mocked providers, "
        "nothing is sent to Azure)",
        "",
        f"     {'Type':<{width}}Name",
        f" +   {'pulumi:pulumi:Stack':<{width}}{graph.project}-{graph.stack}",
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


@dataclass(frozen=True)
class _Picture:
    """Custom resources as nodes (id, name, type) grouped by component, and dependency edges."""

    groups: list[tuple[str | None, list[tuple[str, str, str]]]]
    edges: list[tuple[str, str]]


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _picture(graph: RecordedGraph) -> _Picture:
    components = {r.urn: r for r in graph.resources if not r.custom}
    drawn = sorted((r for r in graph.resources if r.custom), key=lambda r: (r.parent or "", r.name))
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


def render_mermaid(graph: RecordedGraph) -> str:
    """A flowchart GitHub renders in a PR comment: components as boxes, arrows in creation order."""
    picture = _picture(graph)
    lines = ["flowchart LR"]
    for index, (label, nodes) in enumerate(picture.groups):
        if label:
            lines.append(f'  subgraph g{index}["{label}"]')
        lines += [f'    {id_}["{name}<br/><small>{type_}</small>"]' for id_, name, type_ in nodes]
        if label:
            lines.append("  end")
    lines += [f"  {source} --> {target}" for source, target in picture.edges]
    return "\n".join(lines)


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
