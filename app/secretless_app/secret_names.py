"""Settings config paths <-> Key Vault secret names, by the "--" convention.

The config path `Identity:Secret` is stored as the secret `Identity--Secret`, as .NET's
`AddAzureKeyVault` (KeyVaultSecretManager) reads it. Key Vault secret names are 1-127 letters,
digits and hyphens. For the mapping to round-trip, a path segment is letters and digits,
optionally joined by single hyphens: a segment ending in a hyphen or holding `--` would read back
differently.

The platform seeds the secrets with the same rules (secretless_aks/components/secret_names.py);
its tests load this file by path and check that the two agree, so this module imports nothing
outside the standard library and keeps the same names, signatures and messages.
"""

from __future__ import annotations

import re

CONFIG_DELIMITER = ":"
VAULT_DELIMITER = "--"
MAX_SECRET_NAME_LENGTH = 127
SEGMENT_PATTERN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
SECRET_NAME_PATTERN = re.compile(r"[A-Za-z0-9-]{1,127}")


class SecretNameError(ValueError):
    """A config path or secret name that cannot make the round trip."""


def secret_name(path: str) -> str:
    """`Identity:Secret` -> `Identity--Secret`."""
    segments = path.split(CONFIG_DELIMITER)
    for segment in segments:
        if not segment:
            raise SecretNameError(f"config path {path!r} has an empty segment")
        if not SEGMENT_PATTERN.fullmatch(segment):
            raise SecretNameError(
                f"config path {path!r}: segment {segment!r} must be letters and digits, "
                "optionally joined by single hyphens"
            )
    name = VAULT_DELIMITER.join(segments)
    if len(name) > MAX_SECRET_NAME_LENGTH:
        raise SecretNameError(
            f"config path {path!r} makes a secret name of {len(name)} characters; "
            f"Key Vault allows {MAX_SECRET_NAME_LENGTH}"
        )
    return name


def config_path(name: str) -> str:
    """`Identity--Secret` -> `Identity:Secret`."""
    if not SECRET_NAME_PATTERN.fullmatch(name):
        raise SecretNameError(
            f"secret name {name!r} must be 1-{MAX_SECRET_NAME_LENGTH} letters, digits and hyphens"
        )
    path = CONFIG_DELIMITER.join(name.split(VAULT_DELIMITER))
    secret_name(path)  # the same rules both ways, so every accepted name round-trips
    return path
