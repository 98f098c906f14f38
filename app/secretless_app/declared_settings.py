"""The settings a model declares, each with its key, config path and Key Vault secret name.

The secret names are derived from the model's aliases with `secret_name`, never written a second
time: the loader reads exactly these secrets, and /config reports exactly these keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, SecretStr

from .secret_names import CONFIG_DELIMITER, secret_name


@dataclass(frozen=True)
class DeclaredSetting:
    key: str  # field names joined by ".", e.g. "identity.secret"
    config_path: str  # aliases joined by ":", e.g. "Identity:Secret"
    secret_name: str  # e.g. "Identity--Secret"
    required: bool  # no default: a missing secret stops the app
    is_secret: bool  # a SecretStr: its value is masked in logs


def declared_settings(model: type[BaseModel]) -> tuple[DeclaredSetting, ...]:
    """Every leaf of `model`, depth first in declaration order."""
    return tuple(_walk(model, key_prefix=(), path_prefix=()))


def _walk(
    model: type[BaseModel], key_prefix: tuple[str, ...], path_prefix: tuple[str, ...]
) -> list[DeclaredSetting]:
    found: list[DeclaredSetting] = []
    for field_name, field in model.model_fields.items():
        if field.alias is None:
            raise TypeError(
                f"{model.__name__}.{field_name} has no alias: every setting must declare its "
                "config path segment as its alias"
            )
        key = (*key_prefix, field_name)
        path = (*path_prefix, field.alias)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(_walk(annotation, key, path))
            continue
        config_path = CONFIG_DELIMITER.join(path)
        found.append(
            DeclaredSetting(
                key=".".join(key),
                config_path=config_path,
                secret_name=secret_name(config_path),
                required=field.is_required(),
                is_secret=annotation is SecretStr,
            )
        )
    return found
