"""Container registries: pulled from with Entra ID identities only, never a shared password or
anonymously."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Resource, Rule, Settings, applies_to

REGISTRY = "azure-native:containerregistry:Registry"


@applies_to(REGISTRY)
def _locked_down(registry: Resource, _: Settings) -> Iterable[str]:
    # Azure leaves both off unless asked: only a true turns one on.
    if registry.get("adminUserEnabled") is True:
        yield (
            "set adminUserEnabled to false: the admin user is a shared password to the whole "
            "registry; grant AcrPull or AcrPush to identities instead"
        )
    if registry.get("anonymousPullEnabled") is True:
        yield (
            "set anonymousPullEnabled to false: anyone on the internet could pull the images; "
            "grant AcrPull to the identities that need them"
        )


RULES = (
    Rule(
        "container-registry-locked-down",
        "A container registry has no admin user and no anonymous pull.",
        "a registry password that never expires, and images anyone can pull",
        check_resource=_locked_down,
    ),
)
