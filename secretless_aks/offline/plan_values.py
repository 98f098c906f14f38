"""Values in a plan: what is real, what only Azure can know, what is secret, what is invented.

A plan document (JSON) holds plain JSON values, and three kinds of marker, each an object with
the key MARKER that no input of this program has (secret names, the only user-chosen keys,
cannot contain `$`):

    {"$plan": "unknown"}                     only Azure can know it; text: output<string>
    {"$plan": "secret", "digest": "..."}     a secret; text: [secret]. The digest, of the
                                             stack file's ciphertext, is only there for a
                                             secret from an encrypted config value
    {"$plan": "secret", "generated": true}   a secret made from a generator's result
                                             (`random`, for generatedSecrets); text:
                                             [secret, generated]
    {"$plan": "mocked", "value": "..."}      holds the mocked signed-in account (tenant,
                                             subscription, deployer) or the stand-in for the
                                             deployer CI sets; the value names it, as in
                                             "/subscriptions/<mocked subscription id>"

so a script reading the JSON cannot mistake an unknown, a secret or an invented id for a real
value. Text renders values the way `pulumi preview` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from secretless_aks.offline.harness import UNKNOWN, Secret
from secretless_aks.offline.mocks import (
    CI_CONTRACT_URL_STAND_IN,
    CI_DEPLOYER_STAND_IN,
    CI_REGISTRY_STAND_IN,
    SIGNED_IN_ACCOUNT,
)

MARKER = "$plan"
UNKNOWN_TEXT = "output<string>"
SECRET_TEXT = "[secret]"
GENERATED_SECRET_TEXT = "[secret, generated]"
# Each invented value of the signed-in account, and how a plan names it.
_MOCKED = {
    SIGNED_IN_ACCOUNT["subscriptionId"]: "<mocked subscription id>",
    SIGNED_IN_ACCOUNT["tenantId"]: "<mocked tenant id>",
    SIGNED_IN_ACCOUNT["objectId"]: "<mocked deployer object id>",
    SIGNED_IN_ACCOUNT["clientId"]: "<mocked deployer client id>",
    CI_DEPLOYER_STAND_IN: "<set by CI from DEPLOYER_OBJECT_ID>",
    CI_REGISTRY_STAND_IN["id"]: "<set by CI from REGISTRY_ID>",
    CI_REGISTRY_STAND_IN["loginServer"]: "<set by CI from REGISTRY_LOGIN_SERVER>",
    CI_CONTRACT_URL_STAND_IN: "<set by CI from PLATFORM_CONTRACT_URL>",
}
INDENT = "    "


def unknown() -> dict[str, Any]:
    return {MARKER: "unknown"}


def secret(digest: str | None = None, *, generated: bool = False) -> dict[str, Any]:
    return (
        {MARKER: "secret"}
        | ({"digest": digest} if digest else {})
        | ({"generated": True} if generated else {})
    )


def marker(value: Any) -> str | None:
    """ "unknown", "secret" or "mocked" for a marker, None for a plain value."""
    if isinstance(value, dict) and isinstance(value.get(MARKER), str):
        return value[MARKER]
    return None


def with_mocks_named(text: str) -> str:
    """`text` with each invented value of the signed-in account named as the plan names it."""
    for invented, name in _MOCKED.items():
        text = text.replace(invented, name)
    return text


def encode(value: Any, secret_digests: Mapping[str, str], *, generated: bool = False) -> Any:
    """A recorded value (UNKNOWN, Secret, the mocked account) as plan JSON with markers;
    `generated`: the value comes from a generator, so its secrets are marked generated."""
    if value is UNKNOWN:
        return unknown()
    if isinstance(value, Secret):
        inner = value.value
        digest = secret_digests.get(inner) if isinstance(inner, str) else None
        return secret(digest, generated=generated)
    if isinstance(value, str):
        named = with_mocks_named(value)
        return value if named == value else {MARKER: "mocked", "value": named}
    if isinstance(value, dict):
        return {
            key: encode(item, secret_digests, generated=generated) for key, item in value.items()
        }
    if isinstance(value, list):
        return [encode(item, secret_digests, generated=generated) for item in value]
    return value


def render(value: Any, indent: str = "", *, sort: bool = False) -> list[str]:
    """A plan value as `pulumi preview` prints it: the first line continues the caller's
    `key: `, nested objects and arrays follow on lines indented from `indent`; `sort` orders
    object keys at every level."""
    kind = marker(value)
    if kind == "unknown":
        return [UNKNOWN_TEXT]
    if kind == "secret":
        return [GENERATED_SECRET_TEXT if value.get("generated") else SECRET_TEXT]
    if kind == "mocked":
        text = value["value"]
        return [text if text in _MOCKED.values() else json.dumps(text)]
    if isinstance(value, dict) and value:
        return ["{", *rows(value, indent + INDENT, sort=sort), f"{indent}}}"]
    if isinstance(value, list) and value:
        items = {f"[{index}]": item for index, item in enumerate(value)}
        return ["[", *rows(items, indent + INDENT, sort=sort, in_order=True), f"{indent}]"]
    return [json.dumps(value)]


def rows(
    mapping: Mapping[str, Any], indent: str, *, sort: bool = False, in_order: bool = False
) -> list[str]:
    """`key: value` lines, keys padded so the colons align (an array's `[i]` stay in order)."""
    width = max((len(key) for key in mapping), default=0)
    lines: list[str] = []
    for key in sorted(mapping) if sort and not in_order else mapping:
        first, *rest = render(mapping[key], indent, sort=sort)
        lines.append(f"{indent}{key:<{width}}: {first}")
        lines += rest
    return lines


def inline(value: Any) -> str:
    """A value on one line: markers as in `render`, objects and arrays as compact JSON."""
    kind = marker(value)
    if kind is not None or not isinstance(value, dict | list):
        return render(value)[0]
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {inline(item)}" for key, item in value.items()) + "}"
    return "[" + ", ".join(inline(item) for item in value) + "]"
