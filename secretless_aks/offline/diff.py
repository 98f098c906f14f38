"""What a change does to a stack, as `pulumi preview` would report it: create, update, replace,
delete, and why.

Both sides are plan documents (`formats.to_json`). A changed input that
`replacements` lists for the resource's type replaces the resource. A replacement, or a
new resource, cascades: its outputs become unknown, so every input that comes from them (the
recorded property dependencies) changes too, and replaces its resource where that input forces
it; a replaced provider replaces the resources it manages. Resources are visited in program
order, which is a dependency order (a program can only use what it has constructed), so a
cascade reaches every dependent in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from secretless_aks.offline import plan_values
from secretless_aks.offline.formats import (
    LEGEND,
    STACK_TYPE,
    Resource,
    Row,
    detail_indent,
    table,
    tree,
)
from secretless_aks.offline.replacements import forces_replacement

DIFF_FORMAT = "secretless-aks-diff/1"
OPS = ("create", "update", "replace", "delete")
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": ""}
# The summary's order and prefixes are the engine's (deploy.StepOps, Op.Prefix): a replace
# reads `+-3 to replace`, with no space.
SUMMARY_ORDER = ("create", "update", "delete", "replace")
PREFIXES = {"create": "+ ", "update": "~ ", "delete": "- ", "replace": "+-"}
# Why a resource whose provider was replaced is replaced too.
PROVIDER_REASON = "provider"
PROVIDER_TYPE = "pulumi:providers:"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any
    replaces: bool = False
    # The replaced or new resource this value now comes from (a cascade), if any.
    cause: str | None = None


@dataclass(frozen=True)
class ResourceChange:
    op: str  # one of OPS, or "same"
    resource: Resource
    properties: tuple[PropertyChange, ...] = ()
    replace_reasons: tuple[str, ...] = ()

    @property
    def renews(self) -> bool:
        """Whether the resource is new after this change, so its outputs are unknown."""
        return self.op in ("create", "replace")


@dataclass(frozen=True)
class OutputChange:
    """A stack output that appears (`create`), changes (`update`) or goes (`delete`), at the
    deepest path where the two sides still differ as wholes (`services.billing`)."""

    op: str
    path: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Diff:
    project: str
    stack: str
    # Every resource of either side: the after side in program order, then what is deleted.
    resources: tuple[ResourceChange, ...] = field(default=())
    # The outputs are the contract other projects read: a change to them is part of the diff.
    outputs: tuple[OutputChange, ...] = field(default=())

    @property
    def changes(self) -> list[ResourceChange]:
        return [change for change in self.resources if change.op != "same"]

    def count(self, op: str) -> int:
        return sum(1 for change in self.resources if change.op == op)


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves by path (`a.b[0].c`); a marker (unknown, secret, mocked) is one leaf."""
    if isinstance(value, dict) and value and plan_values.marker(value) is None:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{path}[{index}]"))
        return flat
    return {path: value}


def _top_key(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _direct_changes(type_: str, before: Resource, after: Resource) -> list[PropertyChange]:
    was, now = flatten(before["inputs"]), flatten(after["inputs"])
    changes = [
        PropertyChange(path, was.get(path), now.get(path), forces_replacement(type_, path))
        for path in sorted(set(was) | set(now))
        if was.get(path) != now.get(path)
    ]
    if before["protect"] != after["protect"]:
        changes.append(PropertyChange("(protect)", before["protect"], after["protect"]))
    return changes


def _cascaded_changes(
    before: Resource, after: Resource, renewed: dict[str, str], direct: list[PropertyChange]
) -> Iterator[PropertyChange]:
    """Inputs that come from a renewed resource, which change when it is created again.

    Dependencies are recorded per input, as the engine records them. A scalar input becomes
    unknown. An object or list keeps what the program sets itself, and replaces the resource if
    one of its unknown leaves forces that (the leaves that come from resources). An input
    already changed directly says enough.
    """
    sources_of = dict(after["propertyDependencies"])
    if after["type"].startswith(PROVIDER_TYPE):
        # A provider's configuration is read from what it depends on (the cluster's kubeconfig),
        # but for role assignments: they only order it after the access it needs, and feed it
        # no value (a replaced grant leaves the kubeconfig as it was).
        read_from = [urn for urn in after["dependencies"] if _type_of(urn) != ROLE_ASSIGNMENT]
        sources_of.update({key: read_from for key in after["inputs"]})
    changed_keys = {_top_key(change.path) for change in direct}
    type_ = after["type"]
    for key, sources in sources_of.items():
        cause = next((renewed[urn] for urn in sources if urn in renewed), None)
        if cause is None or key in changed_keys:
            continue
        old, new = before["inputs"].get(key), after["inputs"].get(key)
        if plan_values.marker(new) is not None or not isinstance(new, dict | list):
            yield PropertyChange(
                key, old, plan_values.unknown(), forces_replacement(type_, key), cause
            )
            continue
        unknown_leaves = [
            path
            for path, value in flatten(new, key).items()
            if plan_values.marker(value) == "unknown"
        ]
        replaces = any(forces_replacement(type_, path) for path in unknown_leaves)
        yield PropertyChange(key, old, new, replaces, cause)


def _type_of(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<parent types$>type::<name>` -> type."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def diff_plans(before: dict[str, Any], after: dict[str, Any]) -> Diff:
    old = {r["urn"]: r for r in before.get("resources", [])}
    after_urns = {r["urn"] for r in after.get("resources", [])}
    # urn -> name of every resource created or replaced so far (its outputs are unknown).
    renewed: dict[str, str] = {}
    # The old URNs a renamed resource (its aliases) takes over, as the engine matches them.
    taken_over: set[str] = set()
    resources: list[ResourceChange] = []
    for resource in after.get("resources", []):
        urn = resource["urn"]
        previous = urn if urn in old else _renamed_from(resource, old, after_urns | taken_over)
        if previous is None:
            change = ResourceChange("same" if resource["read"] else "create", resource)
        else:
            taken_over.add(previous)
            change = _compare(old[previous], resource, renewed)
        if change.renews:
            renewed[urn] = resource["name"]
        resources.append(change)
    resources += [
        ResourceChange("same" if r["read"] else "delete", r)
        for r in before.get("resources", [])
        if r["urn"] not in after_urns | taken_over
    ]
    outputs = tuple(_output_changes(before.get("outputs", {}), after.get("outputs", {}), ""))
    return Diff(
        str(after.get("project", "")), str(after.get("stack", "")), tuple(resources), outputs
    )


def _output_changes(before: Any, after: Any, path: str) -> Iterator[OutputChange]:
    """Changes between two output values, by key where both sides are plain objects."""
    both_objects = all(
        isinstance(side, dict) and plan_values.marker(side) is None for side in (before, after)
    )
    if not both_objects:
        if before != after:
            yield OutputChange("update", path, before, after)
        return
    for key in list(before) + [key for key in after if key not in before]:
        where = f"{path}.{key}" if path else str(key)
        if key not in after:
            yield OutputChange("delete", where, before[key], None)
        elif key not in before:
            yield OutputChange("create", where, None, after[key])
        else:
            yield from _output_changes(before[key], after[key], where)


def _renamed_from(resource: Resource, old: dict[str, Resource], claimed: set[str]) -> str | None:
    """The old URN among the resource's aliases that nothing else holds, if any."""
    for alias in resource.get("aliases", ()):
        if alias in old and alias not in claimed:
            return alias
    return None


def _compare(before: Resource, after: Resource, renewed: dict[str, str]) -> ResourceChange:
    if not after["custom"] or after["read"]:
        return ResourceChange("same", after)
    direct = _direct_changes(after["type"], before, after)
    properties = direct + list(_cascaded_changes(before, after, renewed, direct))
    reasons = sorted({change.path for change in properties if change.replaces})
    if after["provider"] != before["provider"] or after["provider"] in renewed:
        reasons.append(PROVIDER_REASON)
    if reasons:
        return ResourceChange("replace", after, tuple(properties), tuple(reasons))
    return ResourceChange("update" if properties else "same", after, tuple(properties))


# --- text ------------------------------------------------------------------------------------


def property_lines(change: PropertyChange, indent: str, *, details: bool) -> list[str]:
    symbol = "+-" if change.replaces else "~"
    if change.cause is not None:
        if plan_values.marker(change.after) != "unknown":  # an object with parts from it
            return [f"{indent}{symbol} {change.path}: (parts come from new {change.cause})"]
        after = f"{plan_values.UNKNOWN_TEXT} (from new {change.cause})"
        before = plan_values.inline(change.before)
        shown = after if before == plan_values.UNKNOWN_TEXT else f"{before} => {after}"
        return [f"{indent}{symbol} {change.path}: {shown}"]
    if details:
        first, *rest = plan_values.render(change.before, indent + "    ")
        then, *more = plan_values.render(change.after, indent + "    ")
        return [f"{indent}{symbol} {change.path}: {first}", *rest, f"{indent}   => {then}", *more]
    before, after = plan_values.inline(change.before), plan_values.inline(change.after)
    return [f"{indent}{symbol} {change.path}: {before} => {after}"]


def _info(change: ResourceChange) -> str:
    if not change.properties and not change.replace_reasons:
        return ""
    keys = dict.fromkeys(_top_key(p.path) for p in change.properties)
    keys.update(dict.fromkeys(r for r in change.replace_reasons if r == PROVIDER_REASON))
    return "[diff: " + " ".join(f"~{key}" for key in keys) + "]"


def summary(diff: Diff) -> list[str]:
    """The `Resources:` block exactly as `pulumi preview` prints it (pulumi/pulumi
    pkg/backend/display/diff.go, renderSummaryEvent): a line per kind of change in the engine's
    order, the total only when there are two kinds or more, the stack counted as unchanged."""
    counts = {op: diff.count(op) for op in SUMMARY_ORDER if diff.count(op)}
    lines = ["Resources:", *(f"    {PREFIXES[op]}{n} to {op}" for op, n in counts.items())]
    total = sum(counts.values())
    pieces = [f"{total} change{'' if total == 1 else 's'}"] if len(counts) >= 2 else []
    pieces.append(f"{diff.count('same') + 1} unchanged")
    return [*lines, "    " + ". ".join(pieces)]


def render_diff(diff: Diff, *, against: str, details: bool = False) -> str:
    """The changes as a tree like the plan's, each with the inputs that change and why."""
    header = [
        f"Changes to stack {diff.stack} against {against} (offline: mocked providers)",
        LEGEND,
    ]
    if not diff.changes:
        return "\n".join(
            [f"No changes to stack {diff.stack} against {against}.", "", *summary(diff)]
        )
    by_urn = {change.resource["urn"]: change for change in diff.resources}
    shown: dict[str, ResourceChange] = {}
    for change in diff.changes:  # each change with its ancestors, for context
        node: ResourceChange | None = change
        while node is not None and node.resource["urn"] not in shown:
            shown[node.resource["urn"]] = node
            node = by_urn.get(node.resource["parent"] or "")
    ordered = [c.resource for c in diff.resources if c.resource["urn"] in shown]
    rows = [Row("", STACK_TYPE, f"{diff.project}-{diff.stack}", "")]
    for prefix, resource in tree(ordered):
        change = shown[resource["urn"]]
        indent = detail_indent(prefix)
        below = [
            line
            for prop in change.properties
            for line in property_lines(prop, indent, details=details)
        ]
        if change.op == "replace" and PROVIDER_REASON in change.replace_reasons:
            provider = (resource["provider"] or "").rsplit("::", 1)[-1]
            below.append(f"{indent}+- provider: {provider} is replaced")
        if details and change.op in ("create", "delete") and resource["custom"]:
            # As `pulumi preview --diff` shows what it creates or deletes: every input.
            below += plan_values.rows(resource["inputs"], indent, sort=True)
        plan = "" if change.op == "same" else change.op
        rows.append(
            Row(
                SYMBOLS[change.op],
                prefix + resource["type"],
                resource["name"],
                plan,
                _info(change),
                tuple(below),
            )
        )
    return "\n".join(
        [*header, "", *table(rows), "", *summary(diff), *outputs_diff(diff, details=details)]
    )


def outputs_diff(diff: Diff, *, details: bool = False) -> list[str]:
    """`Outputs:` with what appears (+), changes (~) and goes (-), as `pulumi preview` ends."""
    if not diff.outputs:
        return []
    width = max(len(change.path) for change in diff.outputs)
    lines = ["", "Outputs:"]
    for change in diff.outputs:
        lead = f"  {PREFIXES[change.op].strip()} {change.path.ljust(width)}: "
        if change.op == "update":
            before, after = plan_values.inline(change.before), plan_values.inline(change.after)
            lines.append(f"{lead}{before} => {after}")
            continue
        value = change.after if change.op == "create" else change.before
        if details:
            first, *rest = plan_values.render(value, plan_values.INDENT, sort=True)
            lines += [lead + first, *rest]
        else:
            lines.append(lead + plan_values.inline(value))
    return lines


def diff_as_json(diff: Diff, *, against: str) -> dict[str, Any]:
    return {
        "format": DIFF_FORMAT,
        "stack": diff.stack,
        "against": against,
        "changes": [
            {
                "op": change.op,
                "urn": change.resource["urn"],
                "type": change.resource["type"],
                "name": change.resource["name"],
                "properties": [
                    {
                        "path": p.path,
                        "before": p.before,
                        "after": p.after,
                        "forcesReplacement": p.replaces,
                        **({"from": p.cause} if p.cause else {}),
                    }
                    for p in change.properties
                ],
                **(
                    {"replaceReasons": list(change.replace_reasons)}
                    if change.op == "replace"
                    else {}
                ),
                # What is created or deleted, in full (as `pulumi preview --diff --json`).
                **(
                    {"inputs": change.resource["inputs"]}
                    if change.op in ("create", "delete") and change.resource["custom"]
                    else {}
                ),
            }
            for change in diff.changes
        ],
        "outputs": [
            {"op": change.op, "path": change.path, "before": change.before, "after": change.after}
            for change in diff.outputs
        ],
        "summary": {op: diff.count(op) for op in OPS} | {"same": diff.count("same") + 1},
    }
