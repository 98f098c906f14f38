"""A loopback stand-in for Azure Blob Storage's REST API, as the published contract uses it:
Put Blob, Get Blob and Delete Blob with an Entra ID bearer token
(https://learn.microsoft.com/rest/api/storageservices/put-blob). It answers as the service
does: 401 without a bearer token or x-ms-version, 403 AuthorizationPermissionMismatch for a
token without the role, 404 BlobNotFound, and 201, 200 or 202 otherwise. Plain HTTP on
127.0.0.1: the client code is the same for https, which the real endpoints are."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The tokens the double knows: who may write, who may only read.
WRITER_TOKEN = "token-of-the-deploy-identity"
READER_TOKEN = "token-of-a-team-identity"


@dataclass
class BlobStore:
    base_url: str = ""
    blobs: dict[str, bytes] = field(default_factory=dict)
    # The GitHub runner's OIDC token endpoint (/_apis/token?...&audience=...): the job's
    # request token -> the ID token it answers with.
    oidc_tokens: dict[str, str] = field(default_factory=dict)
    # Every request as (method, path, headers by lowercase name).
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"


class _Handler(BaseHTTPRequestHandler):
    store: BlobStore

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: bytes = b"", error: str | None = None) -> None:
        self.send_response(status)
        if error:
            self.send_header("x-ms-error-code", error)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> None:
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.store.requests.append((self.command, self.path, headers))

    def _allowed(self, write: bool) -> bool:
        self._record()
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        if not self.headers.get("x-ms-version") or not token:
            self._answer(401, error="NoAuthenticationInformation")
            return False
        if token not in (WRITER_TOKEN, READER_TOKEN) or (write and token != WRITER_TOKEN):
            self._answer(403, error="AuthorizationPermissionMismatch")
            return False
        return True

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._allowed(write=True):
            return
        if self.headers.get("x-ms-blob-type") != "BlockBlob":
            self._answer(400, error="MissingRequiredHeader")
            return
        self.store.blobs[self.path] = body
        self._answer(201)

    def do_GET(self) -> None:
        if self.path.startswith("/_apis/token?"):
            self._record()
            request_token = (self.headers.get("Authorization") or "").removeprefix("bearer ")
            issued = self.store.oidc_tokens.get(request_token)
            if issued is None or "&audience=" not in self.path:
                self._answer(401)
                return
            self._answer(200, json.dumps({"value": issued}).encode())
            return
        if not self._allowed(write=False):
            return
        if self.path not in self.store.blobs:
            self._answer(404, error="BlobNotFound")
            return
        self._answer(200, self.store.blobs[self.path])

    def do_DELETE(self) -> None:
        if not self._allowed(write=True):
            return
        if self.store.blobs.pop(self.path, None) is None:
            self._answer(404, error="BlobNotFound")
            return
        self._answer(202)


@contextmanager
def blob_store() -> Iterator[BlobStore]:
    store = BlobStore()
    handler = type("Handler", (_Handler,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    store.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    # Polled every 50 ms: shutdown() waits for the next poll (half a second by default).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield store
    finally:
        server.shutdown()
        server.server_close()


class FakeCredential:
    """A TokenCredential that hands out one fixed token, and records the scopes asked for."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes.extend(scopes)
        return AccessToken(self.token, 2**31)
