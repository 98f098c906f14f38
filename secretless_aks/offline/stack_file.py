"""Read a stack file (Pulumi.<stack>.yaml) strictly, failing with one clear error.

Any stack file the harness cannot hand to the program as Pulumi config (text that is not YAML,
a document that is not a mapping, a `config:` that is not one, keys that are not strings,
values JSON cannot carry, nesting past MAX_NESTING, an encrypted value without its ciphertext)
raises StackFileError: one line naming the file, the line where there is one, what is wrong and
what was expected. Messages name keys, never values.

An empty stack file (or one holding only comments, or a `config:` with nothing under it) is a
stack without config, as it is for the Pulumi CLI: the program then says which keys it needs.

Independent of the components but for fast_yaml's bounds (see harness.py): `--against` runs
this module on older revisions of the program.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from secretless_aks.components import fast_yaml

# How deep a config value may nest, in lists and mappings; deeper is a mistake.
MAX_NESTING = 32

_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _INT, _FLOAT, _BOOL = (
    f"{_TAG}{name}" for name in ("str", "null", "int", "float", "bool")
)
_SEQ, _MAP, _MERGE = f"{_TAG}seq", f"{_TAG}map", f"{_TAG}merge"
# What a YAML type reads as, and what to do instead, for types a config value cannot hold: the
# CLI hands config to the program as strings and JSON.
_NOT_CONFIG = {
    f"{_TAG}timestamp": ("a date", "quote it to keep it as text"),
    f"{_TAG}binary": ("binary data (!!binary)", "drop the tag to keep the base64 text"),
    f"{_TAG}set": ("a set (!!set)", "use a list"),
    f"{_TAG}omap": ("an ordered map (!!omap)", "use a mapping"),
    f"{_TAG}pairs": ("a list of pairs (!!pairs)", "use a mapping"),
}
_KINDS = {
    _STR: "a string",
    _NULL: "null",
    _INT: "a number",
    _FLOAT: "a number",
    _BOOL: "a boolean",
    **{tag: kind for tag, (kind, _) in _NOT_CONFIG.items()},
}
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_EXPECTED = "a stack file is a YAML mapping whose `config:` maps config keys to values"


class StackFileError(Exception):
    """A stack file that cannot be read as Pulumi config; the message is one line."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        where = f"{path.name}, line {line}" if line is not None else path.name
        super().__init__(" ".join(f"{where}: {problem}".split()))
        self.path = path
        self.line = line


def read_config(path: Path) -> dict[str, Any]:
    """The `config:` block of the stack file at `path`, as written (secure values encrypted)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StackFileError(path, f"cannot be read ({error.strerror or error})") from None
    text = _decode(path, data)
    try:
        fast_yaml.check_limits(text)
        loader = yaml.SafeLoader(text)  # which refuses control characters already
        try:
            config = _config_node(path, loader, loader.get_single_node())
            if config is None:
                return {}
            _Checker(path, loader).mapping(config, (), depth=0)
            return loader.construct_document(config)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise StackFileError(path, _yaml_problem(error), _yaml_line(error, text)) from None
    except RecursionError:
        raise StackFileError(
            path,
            f"nested too deeply for YAML to read; config values may nest at most {MAX_NESTING} "
            "levels of lists and mappings",
        ) from None


def _decode(path: Path, data: bytes) -> str:
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1 if encoding == "utf-8" else None
        raise StackFileError(
            path, f"not {encoding.upper()} text ({error.reason}); save the file as UTF-8", line
        ) from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, fast_yaml.YamlLimitError):
        return f"{error.problem}; {_EXPECTED}"
    if isinstance(error, yaml.MarkedYAMLError):
        said = ", ".join(part for part in (error.context, error.problem) if part)
        if error.problem == "second occurrence" and error.context and error.context_mark:
            # "found duplicate anchor 'a'; first occurrence", then the second one's mark
            first = error.context.split(";")[0]
            said = f"{first} (first on line {error.context_mark.line + 1})"
    elif isinstance(error, ReaderError):
        said = f"unacceptable character #x{error.character:04x}: {error.reason}"
    else:
        said = str(error)
    hint = "; indent with spaces, not tabs" if "'\\t'" in said else ""
    return f"not valid YAML ({said}){hint}; {_EXPECTED}"


def _yaml_line(error: yaml.YAMLError, text: str) -> int | None:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        return mark.line + 1 if mark is not None else None
    if isinstance(error, ReaderError) and isinstance(error.position, int):
        return text.count("\n", 0, error.position) + 1
    return None


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _tag(node: Node) -> str:
    """A tag as written: !!int for the standard ones, !name for local ones."""
    return f"!!{node.tag[len(_TAG) :]}" if node.tag.startswith(_TAG) else node.tag


def _kind(node: Node) -> str:
    if node.tag == _MAP and isinstance(node, MappingNode):
        return "a mapping"
    if node.tag == _SEQ and isinstance(node, SequenceNode):
        return "a list"
    return _KINDS.get(node.tag, f"tagged {_tag(node)}")


def _config_node(path: Path, loader: yaml.SafeLoader, root: Node | None) -> MappingNode | None:
    """The node under the document's `config:` key, or None when there is no config."""
    if root is None:
        return None
    if not isinstance(root, MappingNode) or root.tag != _MAP:
        raise StackFileError(path, f"the file holds {_kind(root)}, not a mapping; {_EXPECTED}", 1)
    _no_duplicates(path, root, "at the top level")
    loader.flatten_mapping(root)
    found = [value for key, value in root.value if _is_string(key) and key.value == "config"]
    if not found or (isinstance(found[-1], ScalarNode) and found[-1].tag == _NULL):
        return None
    config = found[-1]
    if not isinstance(config, MappingNode) or config.tag != _MAP:
        raise StackFileError(
            path,
            f"`config:` holds {_kind(config)}, not a mapping; write each setting as "
            "`key: value` under it, e.g. `azure-native:location: westeurope`",
            _line(config),
        )
    return config


def _is_string(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _STR


def _no_duplicates(path: Path, mapping: MappingNode, where: str) -> None:
    # PyYAML keeps the last of two equal keys; the Pulumi CLI refuses the file. Merged keys
    # (`<<: *base`) are meant to be overridden and are not compared.
    first: dict[str, int] = {}
    for key, _ in mapping.value:
        if not _is_string(key):
            continue
        if key.value in first:
            raise StackFileError(
                path,
                f"the key {key.value} {where} appears twice (first on line {first[key.value]}); "
                "keep one",
                _line(key),
            )
        first[key.value] = _line(key)


def _shown(trail: tuple[str | int, ...]) -> str:
    """A config path the way `pulumi config --path` spells it: key.a["b:c"][0]."""
    head, *rest = trail
    parts = [str(head)]
    for step in rest:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _PLAIN_KEY.fullmatch(step):
            parts.append(f".{step}")
        else:
            parts.append(f"[{json.dumps(step)}]")
    return "".join(parts)


class _Checker:
    """Walks the `config:` node tree, raising at the first thing config cannot hold."""

    def __init__(self, path: Path, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader

    def fail(self, node: Node, problem: str) -> StackFileError:
        return StackFileError(self.path, problem, _line(node))

    def value(self, node: Node, trail: tuple[str | int, ...], depth: int) -> None:
        if isinstance(node, MappingNode | SequenceNode) and depth > MAX_NESTING:
            raise self.fail(
                node,
                f"{_shown(trail[:1])} nests deeper than {MAX_NESTING} levels; config values may "
                f"nest at most {MAX_NESTING} levels of lists and mappings",
            )
        if isinstance(node, MappingNode) and node.tag == _MAP:
            self.mapping(node, trail, depth)
        elif isinstance(node, SequenceNode) and node.tag == _SEQ:
            for index, item in enumerate(node.value):
                self.value(item, (*trail, index), depth + 1)
        elif isinstance(node, ScalarNode) and node.tag in (_STR, _NULL, _INT, _FLOAT, _BOOL):
            self.scalar(node, trail)
        else:
            kind, remedy = _NOT_CONFIG.get(node.tag, (f"tagged {_tag(node)}", "drop the tag"))
            raise self.fail(
                node,
                f"{_shown(trail)} is {kind}, which a config value cannot be (strings, numbers, "
                f"booleans, lists and mappings only); {remedy}",
            )

    def mapping(self, node: MappingNode, trail: tuple[str | int, ...], depth: int) -> None:
        where = f"under {_shown(trail)}" if trail else "under `config:`"
        _no_duplicates(self.path, node, where)
        self.loader.flatten_mapping(node)
        for key, _ in node.value:
            if _is_string(key):
                continue
            if isinstance(key, ScalarNode) and key.value:
                raise self.fail(
                    key,
                    f"the key {key.value} {where} is read as {_kind(key)}, not a "
                    f'string; quote it ("{key.value}"): config keys are strings',
                )
            kind = "empty" if isinstance(key, ScalarNode) else _kind(key)
            raise self.fail(key, f"a key {where} is {kind}; config keys are strings")
        if trail and len(node.value) == 1 and node.value[0][0].value == "secure":
            ciphertext = node.value[0][1]
            if not _is_string(ciphertext) or not ciphertext.value:
                raise self.fail(
                    node,
                    f"{_shown(trail)} has `secure:` without a ciphertext; `secure:` holds the "
                    "encrypted string that `pulumi config set --secret` writes: set the value "
                    "again that way",
                )
            return
        for key, value in node.value:
            self.value(value, (*trail, key.value), depth + 1)

    def scalar(self, node: ScalarNode, trail: tuple[str | int, ...]) -> None:
        if node.tag not in (_INT, _FLOAT, _BOOL):
            return
        try:  # an explicit tag may not fit its text: `!!int ten`
            value = self.loader.construct_object(node)
        except (ValueError, KeyError):
            raise self.fail(
                node, f"{_shown(trail)} is tagged {_tag(node)} but is not one; drop the tag"
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(
                node,
                f"{_shown(trail)} is an infinite or not-a-number float, which JSON cannot carry; "
                "quote it to keep it as text",
            )
