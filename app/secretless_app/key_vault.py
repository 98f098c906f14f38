"""The process's one credential and one SecretClient, with the retries startup can afford.

DefaultAzureCredential, because one chain covers every place this app runs: in a pod with
workload identity it uses the webhook's variables (WorkloadIdentityCredential), in a pod under
AAD Pod Identity it asks the instance-metadata endpoint that NMI intercepts
(ManagedIdentityCredential), and on a laptop after `az login` the Azure CLI. The developer-tool
credentials after managed identity are absent from the image and fail at once. The credential
and the client cache tokens and refresh them before they expire.
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest, HttpResponse
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

from .vault_errors import is_unknown_host

# Up to five retries of a 408, 429, 5xx, timeout or connection error, sleeping 0, 1, 2, 4 and
# 8 s between attempts (azure-core doubles the factor per retry, capped at the maximum; a
# Retry-After header takes precedence): about 15 s before a pod gives up and Kubernetes
# restarts it with its own backoff.
RETRY_TOTAL = 5
RETRY_BACKOFF_FACTOR = 0.5
RETRY_BACKOFF_MAX = 8
# azure-core's defaults are 300 s each; a startup read of one small secret needs far less.
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20


class RetryUnlessHostUnknown(RetryPolicy[HttpRequest, HttpResponse]):
    """azure-core's retry policy, except that a vault name DNS does not know is not retried.

    NXDOMAIN for <vault-name>.vault.azure.net means there is no such vault, which retrying
    cannot fix; a temporary DNS failure (EAI_AGAIN) is still retried.
    """

    def increment(
        self,
        settings: dict[str, Any],
        response: Any = None,  # the base method is generic over the pipeline's request type
        error: Exception | None = None,
    ) -> bool:
        if error is not None and is_unknown_host(error):
            return False
        return super().increment(settings, response=response, error=error)


def create_credential() -> DefaultAzureCredential:
    return DefaultAzureCredential()


def create_secret_client(vault_url: str, credential: TokenCredential) -> SecretClient:
    """The challenge's resource is checked against the vault's host (the SDK's default)."""
    retry_counts = {f"retry_{kind}": RETRY_TOTAL for kind in ("total", "connect", "read", "status")}
    return SecretClient(
        vault_url,
        credential,
        retry_policy=RetryUnlessHostUnknown(
            **retry_counts,
            retry_backoff_factor=RETRY_BACKOFF_FACTOR,
            retry_backoff_max=RETRY_BACKOFF_MAX,
        ),
        connection_timeout=CONNECTION_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
