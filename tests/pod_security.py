"""The Pod Security Standards' `restricted` profile, as checks on a rendered pod spec.

Each check follows https://kubernetes.io/docs/concepts/security/pod-security-standards/
(the Baseline controls, which Restricted includes, then the Restricted ones). What the API
server's admission would refuse in a namespace labelled `enforce: restricted` is returned as a
list of reasons, empty when the pod is admitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Restricted: only these volume types.
ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
# Restricted allows adding this capability only.
ADDABLE_CAPABILITIES = {"NET_BIND_SERVICE"}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    return list(_violations(pod))


def _violations(pod: dict[str, Any]) -> Iterator[str]:
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            yield f"{host} is set"
    pod_context = pod.get("securityContext") or {}
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            yield f"volume {volume['name']} is of type {sorted(kinds)}"
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    for container in containers:
        context = container.get("securityContext") or {}
        name = container["name"]
        if context.get("privileged"):
            yield f"{name}: privileged"
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"{name}: allowPrivilegeEscalation is not false"
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield f"{name}: capabilities do not drop ALL"
        if not set(capabilities.get("add") or []) <= ADDABLE_CAPABILITIES:
            yield f"{name}: adds capabilities {capabilities.get('add')}"
        if any(port.get("hostPort") for port in container.get("ports") or []):
            yield f"{name}: uses a hostPort"
        if _effective(context, pod_context, "runAsNonRoot") is not True:
            yield f"{name}: runAsNonRoot is not true"
        if _effective(context, pod_context, "runAsUser") == 0:
            yield f"{name}: runs as user 0"
        seccomp = _effective(context, pod_context, "seccompProfile") or {}
        if seccomp.get("type") not in ALLOWED_SECCOMP:
            yield f"{name}: seccompProfile is not RuntimeDefault or Localhost"


def _effective(container: dict[str, Any], pod: dict[str, Any], key: str) -> Any:
    """A container's setting, or the pod's when the container does not set it."""
    return container[key] if key in container else pod.get(key)
