"""Kubernetes: pods that use workload identity run as an annotated ServiceAccount, no
credential sits in a manifest, containers run locked down, images are pinned and come from the
registries the stack names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .model import Level, Resource, Rule, Settings, Stack, is_unknown
from .sources import IMAGE_DIGEST_WORDS, KNOWN_REGISTRIES_WORDS, TOKEN_CREDENTIALS_WORDS

SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
KUBERNETES_SECRET = "kubernetes:core/v1:Secret"
USE_LABEL = "azure.workload.identity/use"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
# Kind -> where its pod template is. A Pod is its own template.
POD_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": (),
    "kubernetes:apps/v1:Deployment": ("spec", "template"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template"),
    "kubernetes:batch/v1:Job": ("spec", "template"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template"),
}
# Names that say "credential", after camelCase and hyphens become SNAKE_CASE.
CREDENTIAL_NAME = re.compile(r".*(SECRET|PASSWORD|CONNECTION_STRING|CLIENT_CERTIFICATE).*|.*_KEY")


def credential_like(name: str) -> bool:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").upper()
    return bool(CREDENTIAL_NAME.fullmatch(snake))


def pod_template(resource: Resource) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """A workload's pod metadata and spec (empty while unknown); None for other kinds."""
    path = POD_TEMPLATES.get(resource.type)
    if path is None:
        return None
    template = resource.get(*path) if path else resource.props
    if not isinstance(template, Mapping) or is_unknown(template):
        return {}, {}
    metadata, spec = template.get("metadata"), template.get("spec")
    return (
        metadata if isinstance(metadata, Mapping) else {},
        spec if isinstance(spec, Mapping) else {},
    )


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or ():
            if isinstance(container, Mapping):
                yield container


def _namespace(resource: Resource) -> Any:
    return resource.get("metadata", "namespace") or "default"


def _service_accounts(stack: Stack, _: Settings) -> Iterator[tuple[Resource, str]]:
    annotated = {
        (_namespace(account), account.get("metadata", "name"))
        for account in stack.of_type(SERVICE_ACCOUNT)
        if CLIENT_ID_ANNOTATION in (account.get("metadata", "annotations") or {})
    }
    for workload in stack.resources:
        template = pod_template(workload)
        if template is None:
            continue
        metadata, spec = template
        if (metadata.get("labels") or {}).get(USE_LABEL) != "true":
            continue
        account = spec.get("serviceAccountName") or "default"
        if is_unknown(account) or (_namespace(workload), account) in annotated:
            continue
        yield (
            workload,
            (
                f"run these pods as a ServiceAccount this stack declares in namespace "
                f"{_namespace(workload)} with the {CLIENT_ID_ANNOTATION} annotation; "
                f"{account!r} has none, so the webhook has no identity to inject"
            ),
        )


def _env_literals(resource: Resource, _: Settings) -> Iterable[str]:
    template = pod_template(resource)
    if template is None:
        return
    for container in containers(template[1]):
        for variable in container.get("env") or ():
            name = variable.get("name") if isinstance(variable, Mapping) else None
            if isinstance(name, str) and "value" in variable and credential_like(name):
                yield (
                    f"container {container.get('name')}: remove env {name}'s literal value; "
                    "the service signs in with its identity and reads secrets from Key Vault"
                )


def _credential_secrets(resource: Resource, _: Settings) -> Iterable[str]:
    if resource.type != KUBERNETES_SECRET:
        return
    for field in ("data", "stringData"):
        keys = resource.get(field)
        for key in keys if isinstance(keys, Mapping) and not is_unknown(keys) else ():
            if credential_like(key):
                yield (
                    f"remove {field}.{key}: a Kubernetes Secret holding a credential is what "
                    "workload identity replaces (the secret lives in Key Vault)"
                )


def _effective(container: Mapping[str, Any], pod: Mapping[str, Any], key: str) -> Any:
    """A securityContext setting, the container's overriding the pod's."""
    own = container.get("securityContext") or {}
    return own[key] if key in own else (pod.get("securityContext") or {}).get(key)


def _locked_down(resource: Resource, _: Settings) -> Iterable[str]:
    template = pod_template(resource)
    if template is None:
        return
    spec = template[1]
    for container in containers(spec):
        own = container.get("securityContext") or {}
        wrong = [
            setting
            for setting, ok in (
                ("runAsNonRoot: true", _effective(container, spec, "runAsNonRoot") is True),
                ("privileged: false", own.get("privileged") is not True),
                ("allowPrivilegeEscalation: false", own.get("allowPrivilegeEscalation") is False),
                ("readOnlyRootFilesystem: true", own.get("readOnlyRootFilesystem") is True),
            )
            if not ok
        ]
        if wrong:
            yield f"container {container.get('name')}: set securityContext {', '.join(wrong)}"


POD_IDENTITY_LABEL = "aadpodidbinding"
TOKEN_CREDENTIALS = "AZURE_TOKEN_CREDENTIALS"


def _pinned_credential(labels: Mapping[str, Any]) -> str | None:
    """What a pod's binding pins AZURE_TOKEN_CREDENTIALS to, by its labels (the platform's
    config/models.py TOKEN_CREDENTIALS); None for a pod bound to no identity."""
    workload = str(labels.get(USE_LABEL, "")).lower() == "true"
    pod_identity = POD_IDENTITY_LABEL in labels
    if workload and pod_identity:
        return "prod"
    if workload:
        return "WorkloadIdentityCredential"
    return "ManagedIdentityCredential" if pod_identity else None


def _token_credentials_pinned(resource: Resource, _: Settings) -> Iterable[str]:
    template = pod_template(resource)
    if template is None:
        return
    metadata, spec = template
    labels = metadata.get("labels")
    expected = _pinned_credential(labels if isinstance(labels, Mapping) else {})
    if expected is None:
        return
    for container in containers(spec):
        found = {
            entry.get("name"): entry.get("value")
            for entry in container.get("env") or ()
            if isinstance(entry, Mapping)
        }
        if found.get(TOKEN_CREDENTIALS) != expected:
            yield (
                f"container {container.get('name')}: set env {TOKEN_CREDENTIALS} to "
                f"{expected}: {TOKEN_CREDENTIALS_WORDS}"
            )


DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# Where an image without a registry host comes from.
DOCKER_HUB = "docker.io"


def image_registry(image: str) -> str:
    """The registry host of an image reference, as Docker reads it: the first path segment
    when it looks like a host (a `.` or `:`, or `localhost`), else Docker Hub. The
    configuration holds the same (config/models.py); a test compares them."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def _images(resource: Resource) -> Iterator[tuple[Any, str]]:
    """(container name, image) of every container with a known image."""
    template = pod_template(resource)
    for container in containers(template[1]) if template is not None else ():
        image = container.get("image")
        if isinstance(image, str):
            yield container.get("name"), image


def _pinned_by_digest(protected: bool) -> Rule:
    def check(resource: Resource, settings: Settings) -> Iterable[str]:
        if settings.protect != protected:
            return
        for name, image in _images(resource):
            if not DIGEST.search(image):
                yield (
                    f"container {name}: pin {image} by digest (image@sha256:...): "
                    f"{IMAGE_DIGEST_WORDS}"
                )

    if protected:
        return Rule(
            "image-pinned-by-digest",
            "A protected stack's images are pinned by digest.",
            "a tag moved under a running production service",
            check_resource=check,
        )
    return Rule(
        "image-pinned-by-digest-advisory",
        "Images are pinned by digest outside production too.",
        "a tag moved under a running service",
        level=Level.ADVISORY,
        check_resource=check,
    )


def _from_known_registries(resource: Resource, settings: Settings) -> Iterable[str]:
    login_server = settings.registry_login_server
    # As in the configuration: a stack that names no registry holds images to none.
    if login_server is None and not settings.allowed_registries:
        return
    for name, image in _images(resource):
        # By prefix: a plan's stand-in login server is no hostname.
        platform = login_server is not None and image.startswith(f"{login_server}/")
        host = image_registry(image)
        if not platform and host not in settings.allowed_registries:
            yield f"container {name}: {image} comes from {host}: {KNOWN_REGISTRIES_WORDS}"


RULES = (
    Rule(
        "workload-identity-service-account",
        f"Pods labelled {USE_LABEL} run as a ServiceAccount with the client-id annotation.",
        "pods that expect an identity and get none (or the default ServiceAccount)",
        check_stack=_service_accounts,
    ),
    Rule(
        "pod-token-credentials-pinned",
        f"Pods bound to an identity set {TOKEN_CREDENTIALS} to their binding's credential.",
        "an SDK walking its whole credential chain in production, and signing in as whatever "
        "answers first",
        check_resource=_token_credentials_pinned,
    ),
    Rule(
        "no-credential-env-literals",
        "No container env var that looks like a credential has a literal value.",
        "client secrets, passwords and connection strings in manifests",
        check_resource=_env_literals,
    ),
    Rule(
        "no-azure-credential-secrets",
        "No Kubernetes Secret carries Azure credentials.",
        "the static secrets workload identity exists to remove",
        check_resource=_credential_secrets,
    ),
    Rule(
        "container-security-context",
        "Containers run as non-root, unprivileged, without privilege escalation, on a "
        "read-only root filesystem.",
        "a compromised container taking the node, or its identity's token, further",
        check_resource=_locked_down,
    ),
    _pinned_by_digest(protected=True),
    _pinned_by_digest(protected=False),
    Rule(
        "pod-images-from-known-registries",
        "Container images come from the platform's registry or one allowedRegistries lists.",
        "code from a registry nobody reviewed for the stack running with a service's identity",
        check_resource=_from_known_registries,
    ),
)
