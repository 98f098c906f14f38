"""A loopback HTTPS test double of Azure's APIs. It is not Azure, and it does not talk to Azure.

One server on 127.0.0.1, with a certificate made at test time by trustme, answers as:

- Entra ID's token endpoint, `POST /{tenant}/oauth2/v2.0/token`: the client-assertion grant
  that WorkloadIdentityCredential sends with the pod's federated service-account token;
- the instance-metadata (IMDS) endpoint, `GET /metadata/identity/oauth2/token`: what
  ManagedIdentityCredential asks, and what NMI answers for a pod under AAD Pod Identity;
- Key Vault's data plane: `GET /secrets/{name}` (with the 401 challenge that SecretClient
  expects first) and `GET /secrets`, the list call, which always answers 403 as it does for an
  identity holding Key Vault Secrets User on single secrets only;
- Blob Storage's List Blobs, `GET /{container}?restype=container&comp=list`, with a token for
  Storage's audience (https://storage.azure.com), which both token paths also issue;
- App Configuration's Get Key-Value, `GET /kv/{key}?label=...`, with a token for its audience
  (https://azconfig.io): a value, or a Key Vault reference.

The request and response shapes follow what azure-identity 1.27.0 and azure-keyvault-secrets
4.12.0 send and parse (read from their sources). Every request is recorded for the tests to
inspect, and a `Script` sets what each test needs: which secrets exist, which are forbidden,
which the identity is granted and from when, which fail transiently first, whether the vault or
an identity exists at all.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import trustme

TENANT_ID = "72f988bf-0000-4000-8000-00000000d0b1"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Anything a test needs to see never leaks: the tokens this double issues are random per run.
_TOKEN_PATTERN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
_SECRET_PATTERN = re.compile(r"^/secrets/([^/]+)(?:/([^/]*))?$")
_CONTAINER_PATTERN = re.compile(r"^/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])$")
# Azure Storage's Entra ID audience, and the suffix of the tokens this double issues for it.
STORAGE_RESOURCE = "https://storage.azure.com"
STORAGE_TOKEN_SUFFIX = "-storage"
# And App Configuration's.
APP_CONFIGURATION_RESOURCE = "https://azconfig.io"
APP_CONFIGURATION_TOKEN_SUFFIX = "-appconfig"
# The suffix of each audience's tokens (Key Vault's have none).
_AUDIENCE_SUFFIXES = {
    STORAGE_RESOURCE: STORAGE_TOKEN_SUFFIX,
    APP_CONFIGURATION_RESOURCE: APP_CONFIGURATION_TOKEN_SUFFIX,
}
_KEY_VALUE_PATTERN = re.compile(r"^/kv/([^/]+)$")
HOLD_TIMEOUT_SECONDS = 30


@dataclass
class Script:
    """What the double answers; tests change it before starting the app."""

    secrets: dict[str, str] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    # The secrets the identity holds a role on one by one, as a per-secret grant gives: Key
    # Vault answers 403 for any other name, existing or not. None: a vault-wide role.
    granted: set[str] | None = None
    # The grants take effect only from this time on (`clock`): 403 for every secret before,
    # as while a new role assignment propagates.
    granted_from: float = float("-inf")
    clock: Callable[[], float] = time.monotonic
    # The tenant: the one Entra ID's token endpoint answers for and the vault's challenge names.
    tenant_id: str = TENANT_ID
    # Forbidden by the vault's network rules rather than by RBAC.
    firewalled: bool = False
    # Statuses to answer for a secret, one per authenticated GET, before its real answer.
    transient_failures: dict[str, list[int]] = field(default_factory=dict)
    vault_exists: bool = True
    # False: IMDS answers 400 "Identity not found", as it does where no identity is assigned.
    imds_has_identity: bool = True
    # When set, authenticated secret GETs wait for it: the app is "still loading" meanwhile.
    release_secrets: threading.Event | None = None
    # The challenge's resource, when a test needs one that does not match the vault's host.
    challenge_resource: str | None = None
    # Blob containers: those that exist, and those the identity may list (a blob data role).
    blob_containers: set[str] = field(default_factory=set)
    blob_readers: set[str] = field(default_factory=set)
    # App Configuration: (key, label) -> (value, content type); whether the identity may read.
    key_values: dict[tuple[str, str | None], tuple[str, str]] = field(default_factory=dict)
    app_configuration_reader: bool = True


@dataclass(frozen=True)
class RecordedRequest:
    service: str  # "entra", "imds", "keyvault", "blob", "appconfig" or "unknown"
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    form: dict[str, str]  # the urlencoded body of a POST


class AzureDouble:
    """Use as a context manager: the server runs inside the `with` block."""

    def __init__(self, workdir: Path) -> None:
        self.script = Script()
        self.workload_token = "wi-token-" + secrets.token_urlsafe(24)
        self.imds_token = "imds-token-" + secrets.token_urlsafe(24)
        self._ca = trustme.CA()
        self.ca_bundle = workdir / "double-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_bundle))
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._context)
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = _DoubleServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The vault URL, the authority host and the IMDS host alike."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def resource(self) -> str:
        """The resource named in the Key Vault challenge.

        SecretClient accepts a challenge only when the vault's host, port included, ends with
        "." + the resource's authority (challenge_auth_policy._validate_challenge_resource);
        for a vault at 127.0.0.1:<port>, "0.0.1:<port>" is such a suffix, as "vault.azure.net"
        is for <name>.vault.azure.net.
        """
        return f"https://0.0.1:{self.port}"

    def requests(self, service: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if service is None or r.service == service]

    def __enter__(self) -> AzureDouble:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.script.release_secrets is not None:
            self.script.release_secrets.set()  # never leave a handler thread waiting
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        form = dict(parse_qsl(body)) if handler.command == "POST" else {}
        query = dict(parse_qsl(parts.query))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        service, answer = self._route(handler.command, parts.path, query, headers, form)
        with self._lock:
            self._requests.append(
                RecordedRequest(service, handler.command, parts.path, query, headers, form)
            )
        answer(handler)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        form: dict[str, str],
    ) -> tuple[str, _Answer]:
        if method == "POST" and (match := _TOKEN_PATTERN.match(path)):
            return "entra", self._entra_token(match.group(1), form)
        if method == "GET" and path == "/metadata/identity/oauth2/token":
            return "imds", self._imds_token(query, headers)
        if method == "GET" and path == "/secrets":
            return "keyvault", self._key_vault_list(headers)
        if method == "GET" and (match := _SECRET_PATTERN.match(path)):
            return "keyvault", self._key_vault_secret(match.group(1), headers)
        if method == "GET" and (match := _KEY_VALUE_PATTERN.match(path)):
            return "appconfig", self._key_value(unquote(match.group(1)), query, headers)
        if method == "GET" and (match := _CONTAINER_PATTERN.match(path)):
            return "blob", self._list_blobs(match.group(1), query, headers)
        return "unknown", _Answer(404, {"error": "no such endpoint on the test double"})

    # -- Entra ID ------------------------------------------------------------------------------

    def _entra_token(self, tenant: str, form: dict[str, str]) -> _Answer:
        well_formed = (
            tenant == self.script.tenant_id
            and form.get("grant_type") == "client_credentials"
            and form.get("client_assertion_type") == JWT_BEARER
            and form.get("client_assertion")
            and form.get("client_id")
            and form.get("scope")
            in {f"{audience}/.default" for audience in (self.resource, *_AUDIENCE_SUFFIXES)}
        )
        if not well_formed:
            return _Answer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS900144: the test double expected a "
                    "client-assertion grant for its tenant and resource",
                },
            )
        return _Answer(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": self.workload_token
                + _AUDIENCE_SUFFIXES.get(form["scope"].removesuffix("/.default"), ""),
            },
        )

    # -- IMDS ----------------------------------------------------------------------------------

    def _imds_token(self, query: dict[str, str], headers: dict[str, str]) -> _Answer:
        if headers.get("metadata") != "true":
            return _Answer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Required metadata header not specified",
                },
            )
        if not self.script.imds_has_identity:
            return _Answer(
                400, {"error": "invalid_request", "error_description": "Identity not found"}
            )
        return _Answer(
            200,
            {
                "access_token": self.imds_token
                + _AUDIENCE_SUFFIXES.get(query.get("resource", ""), ""),
                "expires_in": "86399",
                "expires_on": str(int(time.time()) + 86399),
                "resource": query.get("resource", ""),
                "token_type": "Bearer",
            },
        )

    # -- Key Vault -----------------------------------------------------------------------------

    def _challenge(self) -> _Answer:
        return _Answer(
            401,
            {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer"}},
            {
                "WWW-Authenticate": f'Bearer authorization="{self.url}/{self.script.tenant_id}", '
                f'resource="{self.script.challenge_resource or self.resource}"'
            },
        )

    def _authenticated(self, headers: dict[str, str]) -> bool:
        issued = {f"Bearer {self.workload_token}", f"Bearer {self.imds_token}"}
        return headers.get("authorization") in issued

    def _key_vault_list(self, headers: dict[str, str]) -> _Answer:
        if not self.script.vault_exists:
            return _NOT_A_VAULT
        if not self._authenticated(headers):
            return self._challenge()
        return _forbidden("Microsoft.KeyVault/vaults/secrets/readMetadata/action")

    def _granted(self, name: str) -> bool:
        script = self.script
        if script.clock() < script.granted_from:
            return False
        # Key Vault names are case-insensitive.
        return script.granted is None or name.lower() in {g.lower() for g in script.granted}

    def _key_vault_secret(self, name: str, headers: dict[str, str]) -> _Answer:
        if not self.script.vault_exists:
            return _NOT_A_VAULT
        if not self._authenticated(headers):
            return self._challenge()
        if self.script.release_secrets is not None:
            self.script.release_secrets.wait(timeout=HOLD_TIMEOUT_SECONDS)
        with self._lock:
            pending = self.script.transient_failures.get(name, [])
            status = pending.pop(0) if pending else None
        if status is not None:
            return _Answer(
                status,
                {"error": {"code": "ServiceUnavailable", "message": "try again later"}},
            )
        if self.script.firewalled:
            return _FIREWALLED
        if name in self.script.forbidden or not self._granted(name):
            return _forbidden("Microsoft.KeyVault/vaults/secrets/getSecret/action")
        value = self.script.secrets.get(name)
        if value is None:
            return _Answer(
                404,
                {
                    "error": {
                        "code": "SecretNotFound",
                        "message": f"A secret with (name/id) {name} was not found in this key "
                        "vault.",
                    }
                },
            )
        version = version_of(value)
        return _Answer(
            200,
            {
                "value": value,
                "id": f"{self.url}/secrets/{name}/{version}",
                "attributes": {
                    "enabled": True,
                    "created": 1700000000,
                    "updated": 1700000000,
                    "recoveryLevel": "Recoverable+Purgeable",
                },
            },
        )

    # -- App Configuration ---------------------------------------------------------------------

    def _key_value(self, key: str, query: dict[str, str], headers: dict[str, str]) -> _Answer:
        tokens = {
            f"Bearer {issued}{APP_CONFIGURATION_TOKEN_SUFFIX}"
            for issued in (self.workload_token, self.imds_token)
        }
        if not query.get("api-version"):
            return _Answer(400, {"title": "The api-version query parameter is required"})
        if headers.get("authorization") not in tokens:
            return _Answer(401, {"title": "Unauthorized"}, {"WWW-Authenticate": "Bearer"})
        if not self.script.app_configuration_reader:
            return _Answer(403, {"title": "Forbidden", "status": 403})
        found = self.script.key_values.get((key, query.get("label")))
        if found is None:
            return _Answer(404, {"title": "Not Found", "status": 404})
        value, content_type = found
        body = {"key": key, "label": query.get("label"), "value": value}
        return _Answer(200, body | {"content_type": content_type, "etag": "double-etag"})

    # -- Blob Storage --------------------------------------------------------------------------

    def _list_blobs(
        self, container: str, query: dict[str, str], headers: dict[str, str]
    ) -> _Answer:
        storage_tokens = {
            f"Bearer {self.workload_token}{STORAGE_TOKEN_SUFFIX}",
            f"Bearer {self.imds_token}{STORAGE_TOKEN_SUFFIX}",
        }
        if query.get("restype") != "container" or query.get("comp") != "list":
            return _storage_error(400, "InvalidQueryParameterValue")
        if not headers.get("x-ms-version"):
            return _storage_error(400, "MissingRequiredHeader")
        if headers.get("authorization") not in storage_tokens:
            # A Key Vault token, or none: the wrong audience is a 401 there too.
            return _storage_error(401, "InvalidAuthenticationInfo")
        if container not in self.script.blob_containers:
            return _storage_error(404, "ContainerNotFound")
        if container not in self.script.blob_readers:
            return _storage_error(403, "AuthorizationPermissionMismatch")
        listing = (
            '<?xml version="1.0" encoding="utf-8"?><EnumerationResults '
            f'ServiceEndpoint="{self.url}/" ContainerName="{container}"><Blobs /><NextMarker />'
            "</EnumerationResults>"
        )
        return _Answer(200, listing, {"Content-Type": "application/xml"})


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any  # JSON-serialisable, or a str sent as text/plain
    headers: dict[str, str] = field(default_factory=dict)

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        if isinstance(self.body, str):
            payload, content_type = self.body.encode(), "text/plain"
        else:
            payload, content_type = json.dumps(self.body).encode(), "application/json"
        handler.send_response(self.status)
        for name, value in {"Content-Type": content_type, **self.headers}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def _storage_error(status: int, code: str) -> _Answer:
    # Storage answers in XML and names the error in a header, which azure-core reads.
    body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code></Error>'
    return _Answer(status, body, {"x-ms-error-code": code})


# What a host that is not a Key Vault (or no longer one) answers: a 404 without Key Vault's
# SecretNotFound error code.
_NOT_A_VAULT = _Answer(404, "The resource you are looking for has been removed.")

_FIREWALLED = _Answer(
    403,
    {
        "error": {
            "code": "Forbidden",
            "message": "Client address is not authorized and caller is not a trusted service.",
            "innererror": {"code": "ForbiddenByFirewall"},
        }
    },
)


def _forbidden(action: str) -> _Answer:
    return _Answer(
        403,
        {
            "error": {
                "code": "Forbidden",
                "message": "Caller is not authorized to perform action on resource.\r\nIf role "
                "assignments, deny assignments or role definitions were changed recently, please "
                f"observe propagation time.\r\nAction: '{action}'",
                "innererror": {"code": "ForbiddenByRbac"},
            }
        },
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._double().handle(self)

    def do_POST(self) -> None:
        self._double().handle(self)

    def _double(self) -> AzureDouble:
        assert isinstance(self.server, _DoubleServer)
        return self.server.double

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded, not printed."""


class _DoubleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, double: AzureDouble) -> None:
        self.double = double
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the request's own thread, so a slow client
        # cannot hold up the accept loop.
        tls = self.double._context.wrap_socket(request, server_side=True)
        super().finish_request(tls, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (a stopped app) is not a test failure; a bug in
        # the double is, and keeps its traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError | TimeoutError):
            super().handle_error(request, client_address)


def version_of(value: str) -> str:
    """The version id the double gives a secret's value: a new value, a new version, as Key
    Vault's 32 hex digits."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


# The app's ports come from a block of their own per test worker (pytest-xdist's gw0, gw1, ...),
# below the ports the kernel hands out for port 0 (from 32768 on Linux, 49152 on macOS), where
# the doubles listen: a port the kernel gave one worker and took back could go to another
# worker's double before the app bound it.
FIRST_APP_PORT = 20_000
APP_PORTS_PER_WORKER = 1_000
_app_ports = itertools.count()


def free_port() -> int:
    """A port nothing listens on right now, for the app under test: the next of this worker's."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    first = FIRST_APP_PORT + worker * APP_PORTS_PER_WORKER
    for _ in range(APP_PORTS_PER_WORKER):
        port = first + next(_app_ports) % APP_PORTS_PER_WORKER
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # something else of this machine's listens there
            return port
    raise RuntimeError(f"no free port from {first} to {first + APP_PORTS_PER_WORKER - 1}")
