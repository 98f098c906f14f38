"""An azure-core pipeline signed in for one Azure audience with the process's one credential,
as an Azure SDK client builds it: for the services this app calls without an SDK of their own
(App Configuration's key-values, Blob Storage's List Blobs), so no new dependency."""

from __future__ import annotations

from azure.core import PipelineClient
from azure.core.credentials import TokenCredential
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy
from azure.core.rest import HttpRequest, HttpResponse


def signed_client(
    base_url: str, credential: TokenCredential, scope: str, headers: dict[str, str]
) -> PipelineClient[HttpRequest, HttpResponse]:
    """A client that sends `headers` and a bearer token for `scope`, retrying twice."""
    return PipelineClient(
        base_url=base_url,
        policies=[
            HeadersPolicy(headers),
            RetryPolicy(retry_total=2, retry_backoff_factor=0.5),
            BearerTokenCredentialPolicy(credential, scope),
        ],
    )
