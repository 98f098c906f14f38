"""The `az provider register` commands each subscription needs (bootstrap's output)."""

from __future__ import annotations

from collections.abc import Mapping

from secretless_aks.components import resource_providers


def register_commands(management: str, environments: Mapping[str, str]) -> str:
    """One line per namespace and subscription: the bootstrap's in the management
    subscription, the platform's in each environment's (`environments`: name -> subscription).
    Registering a registered namespace changes nothing, so the lines are safe to re-run."""
    lines = ["# management subscription (bootstrap)"]
    lines += [
        resource_providers.register_command(namespace, management)
        for namespace in resource_providers.BOOTSTRAP
    ]
    sharing: dict[str, list[str]] = {}
    for environment, subscription in environments.items():
        sharing.setdefault(subscription, []).append(environment)
    for subscription, names in sharing.items():
        lines.append(f"# {' and '.join(names)}")
        lines += [
            resource_providers.register_command(namespace, subscription)
            for namespace in resource_providers.PLATFORM
        ]
    return "\n".join(lines)
