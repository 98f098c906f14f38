"""Stack configurations for tests: a stack file's `config:` block, copied and changed."""

from __future__ import annotations

import copy
from typing import Any

from secretless_aks.offline.harness import PROJECT_DIR, read_stack_file
from secretless_aks.offline.stack_file import read_config

# The richest stack: every binding, admin groups, a shared namespace, extra ServiceAccounts,
# seeded secrets, per-secret scopes, pod identity, application teams.
RICH_CONFIG = read_config(PROJECT_DIR / "tests" / "stacks" / "Pulumi.rich.yaml")


# The tests' images are on GitHub's registry, beside the one the harness stands in for CI.
TEST_REGISTRIES = ["ghcr.io"]


def stack_config(from_stack: str = "dev", **changes: Any) -> dict[str, Any]:
    """The stack file's config, with allowedRegistries TEST_REGISTRIES, and `changes` applied.

    Keys are config keys without the project prefix (`cluster`, `network`); a dict value is
    merged into the existing object, `None` removes the key. `location` sets
    azure-native:location.
    """
    config = copy.deepcopy(read_stack_file(from_stack))
    config.setdefault("secretless-aks:allowedRegistries", list(TEST_REGISTRIES))
    for key, value in changes.items():
        full_key = "azure-native:location" if key == "location" else f"secretless-aks:{key}"
        if value is None:
            config.pop(full_key, None)
        elif isinstance(value, dict) and isinstance(config.get(full_key), dict):
            merged = {**config[full_key], **value}
            config[full_key] = {k: v for k, v in merged.items() if v is not None}
        else:
            config[full_key] = value
    return config
