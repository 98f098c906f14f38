"""A pause after role assignments, so that Azure applies them before anything relies on them.

AKS checks its control-plane identity's Managed Identity Operator role on the kubelet identity
while it creates the cluster. Right after the assignment is written, that check can still fail
(`CustomKubeletIdentityMissingPermissionError`): the assignment has not propagated yet, and AKS
does not retry. Azure Service Operator retries this error itself (ASO#3267); Terraform users add
a `time_sleep`. Nothing on this project's locked index offers such a wait (pulumiverse-time is
published as a source distribution only, which CI's binary-only installs refuse), so this is a
dynamic resource, which runs in the program's own Python and needs no plugin:

- created, it sleeps `seconds`;
- when a value in `triggers` changes (an assignment it follows was replaced), it is replaced,
  and so sleeps again;
- a new `seconds` is an update that takes no time, and a delete takes none either.

The provider is pickled by reference (this module's path): the dynamic provider host
(`pulumi-resource-pulumi-python`, which runs `python -u -m pulumi.dynamic` from the project's
directory, with the project's environment) imports this same code, as
`tests/test_propagation_wait.py` does from the state's `__provider`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from secretless_aks.components.dynamic_diff import replace_or_update

# Long enough for a new assignment to reach the control plane's checks in practice (Terraform
# setups for this race use 30-60 s), and still short beside the cluster's ~4.5 minutes.
CONTROL_PLANE_GRANT_WAIT_SECONDS = 60


class _WaitProvider(pulumi.dynamic.ResourceProvider):
    # The pickled provider holds no secret; left in clear, a plan can show what it is.
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        time.sleep(float(props["seconds"]))
        return pulumi.dynamic.CreateResult(id_=f"waited-{props['seconds']}s", outs=_own(props))

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return replace_or_update(olds, news, replace_on="triggers", update_on="seconds")

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=_own(news))


def _own(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in ("seconds", "triggers") if key in props}


class PropagationWait(pulumi.dynamic.Resource, module="rbac", name="PropagationWait"):
    """Done `seconds` after the role assignments it follows are (see the module)."""

    def __init__(
        self,
        name: str,
        *,
        seconds: int,
        triggers: Mapping[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            _WaitProvider(), name, {"seconds": seconds, "triggers": dict(triggers)}, opts
        )
