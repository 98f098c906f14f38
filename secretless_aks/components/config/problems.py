"""Config problems in the words of a stack file: each names its key, what was expected and,
unless the key holds a secret, what was found."""

from __future__ import annotations

import difflib
import json
import typing
from typing import Any

import pulumi
from pydantic import BaseModel

from secretless_aks.components.config.models import (
    IMAGE_PATTERN,
    INTERNAL_FIELDS,
    KUBERNETES_VERSION_PATTERN,
    LOCATION_KEY,
    PROJECT,
    REGISTRY_HOST_PATTERN,
    STACK_NAME_LENGTH,
    SUBNET_ID_PATTERN,
    UTC_OFFSET_PATTERN,
    VM_SIZE_PATTERN,
    StackConfig,
)

Key = tuple[int | str, ...]

# What each pattern means, for error messages a person can act on.
PATTERN_HINTS = {
    SUBNET_ID_PATTERN: "a subnet resource id: /subscriptions/<subscription id>/resourceGroups/"
    "<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
    VM_SIZE_PATTERN: "an Azure VM size such as Standard_D4s_v5",
    KUBERNETES_VERSION_PATTERN: "a Kubernetes version such as 1.35 or 1.35.2",
    IMAGE_PATTERN: "a container image reference without spaces",
    UTC_OFFSET_PATTERN: "a UTC offset such as +00:00 or -05:30",
    REGISTRY_HOST_PATTERN: "a registry's login server, a lowercase hostname such as ghcr.io "
    "or contoso.azurecr.io (no scheme, path or wildcard)",
}
# What pydantic's error kinds mean, in the words of a stack file.
KIND_HINTS = {
    "ip_v4_network": "an IPv4 CIDR such as 10.40.0.0/16",
    "ip_v4_address": "an IPv4 address such as 172.16.0.10",
    "uuid_parsing": "an Entra object id (a GUID)",
    "uuid_type": "an Entra object id (a GUID)",
    "bool_type": "true or false (unquoted)",
    "int_type": "a whole number (unquoted)",
    "dict_type": "an object (key: value pairs)",
    "model_type": "an object (key: value pairs)",
    "model_attributes_type": "an object (key: value pairs)",
    "tuple_type": "a list",
}


class ConfigError(pulumi.RunError):
    """Bad stack configuration. Raised before any resource is declared."""


def key_path(loc: Key, project: str = PROJECT) -> str:
    """`("cluster", "nodeCount")` -> `secretless-aks:cluster.nodeCount`."""
    head, *rest = loc
    if head == "stack":
        return "stack name"
    path = LOCATION_KEY if head == "location" else f"{project}:{head}"
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def describe(
    detail: Any,
    *,
    secret: bool,
    model: type[BaseModel] = StackConfig,
    project: str = PROJECT,
) -> str:
    """One pydantic error of `model` as a line naming its key; `secret` hides the value found."""
    loc: Key = tuple(detail["loc"])
    kind: str = detail["type"]
    found = detail.get("input")
    context = detail.get("ctx") or {}
    path = key_path(loc, project)
    if kind == "missing":
        return f"{path}: required key is missing"
    if kind == "extra_forbidden":
        return f"{path}: unknown key{suggestion(loc, model)}"
    if loc == ("stack",):
        return (
            f"stack name {found!r} cannot name Azure resources: use {STACK_NAME_LENGTH[0]}-"
            f"{STACK_NAME_LENGTH[1]} lowercase letters, digits and hyphens, starting with a "
            "letter and not ending with a hyphen"
        )
    shown = "" if secret else f", found {_show(found)}"
    if kind == "name_limit":
        length = context.get("length")
        if length is not None and not secret:
            shown = f", found {length} characters"
        return f"{path}: expected {context['expected']}{shown}"
    if kind == "string_pattern_mismatch":
        expected = PATTERN_HINTS.get(context.get("pattern", ""), f"a value matching {context}")
        return f"{path}: expected {expected}{shown}"
    if kind in KIND_HINTS:
        return f"{path}: expected {KIND_HINTS[kind]}{shown}"
    if kind == "too_long":
        limit = context.get("max_length")
        return f"{path}: at most {limit} entries, found {context.get('actual_length')}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        limit = context.get("ge", context.get("le"))
        return f"{path}: expected {bound} {limit}{shown}"
    if kind == "string_type" and isinstance(found, int | float) and not secret:
        return f"{path}: expected a string, found the number {found} (quote it in the stack file)"
    message: str = detail["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be ", "expected ").replace(
        "Input should ", "expected to "
    )
    return f"{path}: {message[0].lower()}{message[1:]}{shown}"


def _show(found: Any) -> str:
    if isinstance(found, dict | list):
        return json.dumps(found)
    return repr(found)


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, looking through Optional, tuples and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        model = model_in(argument)
        if model is not None:
            return model
    return None


def suggestion(loc: Key, root: type[BaseModel] = StackConfig) -> str:
    """Name the closest known key, or list the known keys, for an unknown key at `loc`."""
    model: type[BaseModel] | None = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # a list index: the element model was found with the list's field
        # Keys are aliases as the stack file spells them (`maintenanceWindow`), not field names.
        fields = {f.alias or name: f for name, f in model.model_fields.items()} if model else {}
        field = fields.get(str(part))
        model = model_in(field.annotation) if field else None
    if model is None:
        return ""
    known = [
        field.alias or name
        for name, field in model.model_fields.items()
        if not (model is root and name in INTERNAL_FIELDS)
    ]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(sorted(known))}"


def misspelled_namespace(full_key: str, project: str) -> str | None:
    """For a key in a namespace that is nearly the project's (`secretles-aks:cluster`), the
    key it was meant to be. Pulumi hands another namespace's keys to that package, so the
    program would otherwise never see the value."""
    namespace, colon, key = full_key.partition(":")
    if not colon or namespace == project:
        return None
    if difflib.get_close_matches(namespace, [project], n=1, cutoff=0.8):
        return f"{project}:{key}"
    return None
