"""Whether the service can list its blob container (BLOB_CONTAINER_URL, which the platform
renders from the service's blob grant): part of /readyz, so that a missing grant shows as not
ready, with the reason, rather than as a failure on first use.

One List Blobs call (at most one blob), signed in with the process's one credential for Azure
Storage's audience (signed_client.py). Never fatal: a grant can still be taking effect.
"""

from __future__ import annotations

from collections.abc import Callable

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.core.rest import HttpRequest

from .signed_client import signed_client

STORAGE_SCOPE = "https://storage.azure.com/.default"
# Entra ID tokens need 2017-11-09 or later (learn.microsoft.com/rest/api/storageservices/
# authorize-with-azure-active-directory); the newest the Storage SDKs send as of this writing.
STORAGE_API_VERSION = "2025-11-05"
LIST_QUERY = {"restype": "container", "comp": "list", "maxresults": "1"}


def create_container_check(
    container_url: str, credential: TokenCredential
) -> Callable[[], str | None]:
    """A call that answers None when the container can be listed, or why it cannot."""
    client = signed_client(
        container_url, credential, STORAGE_SCOPE, {"x-ms-version": STORAGE_API_VERSION}
    )

    def check() -> str | None:
        request = HttpRequest("GET", container_url, params=LIST_QUERY)
        try:
            response = client.send_request(request)
        except ClientAuthenticationError as error:
            return f"no token for Azure Storage to list {container_url}: {_first_line(error)}"
        except AzureError as error:
            return f"cannot reach {container_url}: {_first_line(error)}"
        if response.status_code == 200:
            return None
        code = response.headers.get("x-ms-error-code") or "no error code"
        advice = {
            403: ": give the identity Storage Blob Data Reader on it (azureAccess); a new "
            "role assignment can take a few minutes to apply",
            404: ": check BLOB_CONTAINER_URL",
        }.get(response.status_code, "")
        return f"cannot list blob container {container_url} ({response.status_code} {code}){advice}"

    return check


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
