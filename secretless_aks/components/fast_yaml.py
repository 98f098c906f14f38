"""YAML loading and dumping with PyYAML's safe classes, the libyaml ones where PyYAML was built
with it: 5-10 times faster than the pure-Python ones on a stack file of many services, which
the program reads on every run and the recording harness writes for it.

Every load is held to two bounds first (`check_limits`, on libyaml's events, before anything is
built): aliases may add at most MAX_ALIAS_NODES nodes in all (a 500-byte file of nested aliases
otherwise expands to millions, and walking it hangs), and no list holds more than
MAX_LIST_ITEMS items (the config's own caps are far lower; this keeps a hostile file from
costing minutes before they apply)."""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeDumper as SafeDumper
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeDumper, SafeLoader  # type: ignore[assignment]


# Nodes that aliases may add to a document, all aliases together: anchors are for a few shared
# settings, never for thousands of nodes.
MAX_ALIAS_NODES = 10_000
# Items in any one list: the config's caps (1,000 services, say) are far below.
MAX_LIST_ITEMS = 5_000


class YamlLimitError(yaml.MarkedYAMLError):
    """A document past MAX_ALIAS_NODES or MAX_LIST_ITEMS, with the mark where it went past."""


def check_limits(text: str) -> None:
    """Raise YamlLimitError for a document past the bounds, before any of it is built. Text that
    is not YAML is left to the loader, whose message its caller knows how to word."""
    try:
        _check_limits(text)
    except YamlLimitError:
        raise
    except yaml.YAMLError:
        return


def _check_limits(text: str) -> None:
    anchors: dict[str, int] = {}
    # Open collections: [anchor, size in nodes, whether a list, items so far].
    open_: list[list[Any]] = []
    added = 0

    def count(size: int, mark: Any) -> None:
        if open_:
            parent = open_[-1]
            parent[1] += size
            parent[3] += 1
            if parent[2] and parent[3] > MAX_LIST_ITEMS:
                raise YamlLimitError(
                    problem=f"a list of more than {MAX_LIST_ITEMS:,} items, more than any "
                    "stack file holds",
                    problem_mark=mark,
                )

    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            open_.append([event.anchor, 1, isinstance(event, yaml.SequenceStartEvent), 0])
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            anchor, size, _, _ = open_.pop()
            if anchor:
                anchors[anchor] = size
            count(size, event.start_mark)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                anchors[event.anchor] = 1
            count(1, event.start_mark)
        elif isinstance(event, yaml.AliasEvent):
            size = anchors.get(event.anchor or "", 1)
            added += size
            if added > MAX_ALIAS_NODES:
                raise YamlLimitError(
                    problem=f"aliases expand past {MAX_ALIAS_NODES:,} nodes here; write the "
                    "values out, or share fewer of them",
                    problem_mark=event.start_mark,
                )
            count(size, event.start_mark)


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, with libyaml's parser, within the bounds of `check_limits`."""
    check_limits(text)
    return yaml.load(text, Loader=SafeLoader)


def safe_dump(value: Any, *, sort_keys: bool = True) -> str:
    """`yaml.safe_dump`, with libyaml's emitter."""
    return yaml.dump(value, Dumper=SafeDumper, sort_keys=sort_keys)
