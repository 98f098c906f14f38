"""`secretless-aks:secrets`: application config values seeded into Key Vault, encrypted end to end.

Values are set with `pulumi config set --secret --path 'secrets.Identity.Secret' <value>`,
which nests them (`Identity: {Secret: {secure: ...}}`); a flat key holding `:` works as well.
The path `Identity:Secret` becomes the secret `Identity--Secret`. No value ever appears in an
error message, a repr or a log line: only paths and names do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from secretless_aks.components.secret_names import CONFIG_DELIMITER, SecretNameError, secret_name

SECRETS_KEY = "secretless-aks:secrets"


class SecretText:
    """A plaintext secret held in memory only; it prints as [secret]."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretText([secret])"

    __str__ = __repr__


@dataclass(frozen=True)
class ConfigSecret:
    """One seeded secret: the app's config path, its Key Vault name, and its value."""

    path: str
    name: str
    value: SecretText = field(repr=False)


def config_leaves(
    tree: Mapping[str, Any], trail: tuple[str, ...] = ()
) -> Iterator[tuple[tuple, Any]]:
    """(path segments, value) of each leaf of a `secrets` object; an encrypted value
    ({secure: ...}) is a leaf."""
    for key, value in tree.items():
        # An empty object is a leaf, so that it is reported rather than silently skipped.
        if isinstance(value, dict) and value and not _is_encrypted(value):
            yield from config_leaves(value, (*trail, str(key)))
        else:
            yield (*trail, str(key)), value


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _path_below(trail: tuple[str, ...]) -> str:
    """How `pulumi config set --path` spells a key below `secrets`: `.a.b`, or `["a:b"]`."""
    return "".join(
        f'["{key}"]' if CONFIG_DELIMITER in key or "." in key else f".{key}" for key in trail
    )


def parse_config_secrets(
    raw: Any,
    *,
    stack_file_value: Any,
    is_secret_key: bool,
    source: str,
    key: str = SECRETS_KEY,
) -> tuple[tuple[ConfigSecret, ...], list[str]]:
    """Validate the decrypted `secrets` object (under `key`, the platform's or another
    project's); return the secrets and every problem found.

    `stack_file_value` is the same key as written in the stack file (None when the value came
    from elsewhere, such as a Pulumi ESC environment): each leaf there must be encrypted.
    """
    problems: list[str] = []
    if not isinstance(raw, dict):
        return (), [f"{key}: expected an object of config paths, found {type(raw).__name__}"]

    if not raw:
        # Pulumi.yaml's default for a stack that leaves the key out; written, it is a mistake.
        if stack_file_value is None:
            return (), []
        return (), [f"{key}: an empty object seeds no secret; remove the key"]
    written = dict(config_leaves(stack_file_value)) if isinstance(stack_file_value, dict) else None

    def encrypted(trail: tuple[str, ...]) -> bool:
        if written is None:
            return is_secret_key  # not from the stack file: trust Pulumi's secret marking
        return _is_encrypted(written.get(trail))

    secrets: list[ConfigSecret] = []
    seen: dict[str, str] = {}
    for trail, value in config_leaves(raw):
        path = CONFIG_DELIMITER.join(trail)
        below = _path_below(trail)
        where = f"{key}{below}"
        if value == {}:
            problems.append(f"{where}: an empty object seeds no secret; remove it or set a value")
            continue
        if not encrypted(trail):
            problems.append(
                f"{where}: stored in plaintext in {source}; encrypt it with "
                f"`pulumi config set --secret --path 'secrets{below}' <value>`"
            )
            continue
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string value, found {type(value).__name__}")
            continue
        try:
            name = secret_name(path)
        except SecretNameError as error:
            problems.append(f"{where}: {error}")
            continue
        twin = seen.get(name.lower())
        if twin is not None:
            problems.append(
                f"{where}: config paths {twin!r} and {path!r} both map to the secret name "
                f"{name!r} (Key Vault names are case-insensitive)"
            )
            continue
        seen[name.lower()] = path
        secrets.append(ConfigSecret(path=path, name=name, value=SecretText(value)))
    return tuple(secrets), problems
