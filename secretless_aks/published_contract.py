"""The platform's contract, published: one JSON document per environment, which application
teams read without the platform's state or key.

Why: on this project's self-managed blob backend a StackReference reads the referenced stack's
whole checkpoint and decrypts it with that stack's key, so a team that read the platform that
way could also rewrite its state and decrypt every platform secret. Each platform `pulumi up`
therefore writes the outputs a team's project needs (contract.PUBLISHED_NAMES, none of them
secret) to a blob of its environment's contract container, which bootstrap makes: the
environment's deploy identity may write it (Storage Blob Data Contributor), the environment's
team identities may only read it (Storage Blob Data Reader), each on that container alone.

Why a blob written by the program itself (components/contract_publication.py): azure-native's
`storage.Blob` signs with the account key, which the state account refuses (shared-key access
is off; pulumi/pulumi-azure-native#2015); App Configuration caps a key-value at 10 KB, which a
kubeconfig and many teams outgrow, and would be one more store per environment; a workflow
step would publish for CI's runs only, after the graph, and a preview could not show the new
document. Written from the graph, the document is an input a preview diffs and every
`pulumi up` publishes.

The document is the contract's outputs under their own names, with `contractVersion` and
`contractMinorVersion`; its JSON schema (`SCHEMA_PATH`) is generated from the contract
(`schema()`, which a test holds equal to the committed file).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretless_aks import contract

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

SCHEMA_PATH = Path(__file__).with_name("platform-contract-v1.schema.json")
SCHEMA_ID = "secretless-aks/platform-contract/v1"
# The blob in the environment's contract container (bootstrap: contract-<stack>).
BLOB_NAME = "platform-contract.json"
# Where a contract may be published or read from: a blob of an Azure Storage account, in the
# public or a sovereign cloud. Account names: 3-24 lowercase letters and digits; containers:
# 3-63 of lowercase letters, digits and single hyphens
# (https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata).
BLOB_URL = re.compile(
    r"https://[a-z0-9]{3,24}\.blob\.core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)"
    r"/[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}/[^?#]+"
)
# Entra ID tokens for Blob Storage, and the REST version that accepts them (2017-11-09 or
# later: https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory).
STORAGE_SCOPE = "https://storage.azure.com/.default"
BLOB_API_VERSION = "2023-11-03"
TIMEOUT_SECONDS = 30


def document(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The published document: the platform's outputs that the contract publishes."""
    return {name: outputs[name] for name in contract.PUBLISHED_NAMES}


def _value_schema(spec: contract.OutputSpec) -> dict[str, Any]:
    if spec.shape == "integer":
        return {"type": "integer", "minimum": 0}
    if spec.shape == "string":
        return {"type": "string"} | ({} if spec.may_be_empty else {"minLength": 1})
    if spec.shape == "object":
        return {
            "type": "object",
            "required": list(spec.fields),
            "properties": {field: {"type": "string", "minLength": 1} for field in spec.fields},
        }
    if spec.shape == "map of grant lists":
        grant = {
            "type": "object",
            "required": list(spec.fields),
            "properties": {field: {"type": "string", "minLength": 1} for field in spec.fields},
        }
        return {"type": "object", "additionalProperties": {"type": "array", "items": grant}}
    if spec.shape == "map of lists":
        return {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    raise ValueError(f"{spec.name}: a {spec.shape} is not published")


# The minor version the first published documents carry: what they all hold.
FIRST_PUBLISHED_MINOR_VERSION = 2


def schema() -> dict[str, Any]:
    """The document's JSON schema, from the contract. Fields a later minor version adds are
    optional in it, and unknown fields are allowed: a newer platform's document stays valid."""
    published = [spec for spec in contract.OUTPUTS if spec.published]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "secretless-aks platform contract, version 1",
        "description": "What an application project reads from a secretless-aks platform "
        "environment (docs/contract.md, The published contract). Holds no secret.",
        "type": "object",
        "required": [
            spec.name for spec in published if spec.since <= FIRST_PUBLISHED_MINOR_VERSION
        ],
        "properties": {
            spec.name: {"description": spec.description}
            | _value_schema(spec)
            | ({"const": contract.CONTRACT_VERSION} if spec.name == "contractVersion" else {})
            for spec in published
        },
    }


def schema_text() -> str:
    """The schema as SCHEMA_PATH holds it."""
    return json.dumps(schema(), indent=2) + "\n"


def problems(found: Any) -> list[str]:
    """What keeps `found` from being a published contract of a version this reader knows the
    shape of (the version check itself is the reader's). Each names the field."""
    if not isinstance(found, dict):
        return ["is not a JSON object"]
    wrong = []
    for spec in contract.OUTPUTS:
        if spec.published and spec.name in found:
            value = found[spec.name]
            if not _holds(_value_schema(spec), value):
                wrong.append(f"{spec.name!r} is not a {spec.shape}")
    return wrong


def _holds(rule: Mapping[str, Any], value: Any) -> bool:
    """The few JSON schema rules `_value_schema` writes, checked without a schema library."""
    kind = rule["type"]
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "string":
        return isinstance(value, str) and len(value) >= rule.get("minLength", 0)
    if kind == "array":
        return isinstance(value, list) and all(_holds(rule["items"], item) for item in value)
    if not isinstance(value, dict):
        return False
    fields = rule.get("properties", {})
    entries = rule.get("additionalProperties")
    return all(name in value for name in rule.get("required", ())) and all(
        _holds(fields[name], item) if name in fields else entries is None or _holds(entries, item)
        for name, item in value.items()
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a contract's blob, or None."""
    if BLOB_URL.fullmatch(url):
        return None
    return (
        "must be a blob's URL, https://<account>.blob.core.windows.net/<container>/<blob> "
        "(bootstrap's PLATFORM_CONTRACT_URL)"
    )


def credential() -> TokenCredential:
    """Who signs in. In a GitHub Actions job that may request an OIDC token and names its
    identity (AZURE_CLIENT_ID, AZURE_TENANT_ID, as the pulumi-azure action sets them): the job's
    own token, requested afresh for each sign-in. The Azure CLI's sign-in from azure/login
    holds a GitHub token that expires after about ten minutes and cannot be renewed
    (Azure/azure-cli#28708), and a contract is published at the end of a longer `pulumi up`.
    Anywhere else: DefaultAzureCredential (workload identity, managed identity, `az login`)."""
    from azure.identity import ClientAssertionCredential, DefaultAzureCredential

    env = os.environ
    needed = (
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
    )
    if all(env.get(name) for name in needed):
        return ClientAssertionCredential(
            env["AZURE_TENANT_ID"], env["AZURE_CLIENT_ID"], github_actions_token
        )
    return DefaultAzureCredential()


# Entra ID's audience for federated credentials (what bootstrap's identities trust).
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


def github_actions_token() -> str:
    """A fresh OIDC token of the running GitHub job, for Entra ID: as @actions/core's
    getIDToken asks for it (the request URL, `&audience=`, the request token as bearer)."""
    request = urllib.request.Request(  # noqa: S310 - the runner's own https endpoint
        f"{os.environ['ACTIONS_ID_TOKEN_REQUEST_URL']}&audience={FEDERATION_AUDIENCE}",
        headers={"Authorization": f"bearer {os.environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return str(json.load(response)["value"])


class PublicationError(Exception):
    """A contract could not be written, read or removed; says why and what to do."""


def _request(
    method: str, url: str, token: Callable[[], str], body: bytes | None = None
) -> bytes | None:
    """One Blob Storage request, signed in; None for a blob that does not exist."""
    headers = {"Authorization": f"Bearer {token()}", "x-ms-version": BLOB_API_VERSION}
    if body is not None:
        headers |= {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        code = error.headers.get("x-ms-error-code") or error.reason
        raise PublicationError(f"{method} {url}: HTTP {error.code} ({code})") from None
    except urllib.error.URLError as error:
        raise PublicationError(f"{method} {url}: {error.reason}") from None


def _token(credential_: TokenCredential | None) -> Callable[[], str]:
    def get() -> str:
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return (credential_ or credential()).get_token(STORAGE_SCOPE).token
        except ClientAuthenticationError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise PublicationError(
                f"cannot sign in to Azure Storage ({first}): run `az login` first, or run in "
                "a GitHub job of an environment that bootstrap made"
            ) from None

    return get


def publish(url: str, body: str, credential_: TokenCredential | None = None) -> None:
    try:
        _request("PUT", url, _token(credential_), body.encode())
    except PublicationError as error:
        raise PublicationError(
            f"cannot publish the platform contract: {error}. Only the environment's deploy "
            "identity may (Storage Blob Data Contributor on the contract container, which "
            "bootstrap grants): run `pulumi up` in the environment's deploy job"
        ) from None


def unpublish(url: str, credential_: TokenCredential | None = None) -> None:
    """Removes the document; one that is already gone is fine."""
    _request("DELETE", url, _token(credential_))


class _Offline:
    """What the offline plan answers with instead of reading a blob (`offline_document`)."""

    active = False
    document: dict[str, Any] | None = None


@contextmanager
def offline_document(found: dict[str, Any] | None) -> Iterator[None]:
    """While open, `fetch` reaches no network: it answers every URL with `found`, as the
    offline plan's --platform-contract FILE says, or without one says to give it."""
    _Offline.active, _Offline.document = True, found
    try:
        yield
    finally:
        _Offline.active, _Offline.document = False, None


def read_document_file(path: Path) -> dict[str, Any]:
    """A saved contract document (--platform-contract FILE), checked as `fetch` checks one."""
    try:
        found = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise contract.ContractError(
            f"cannot read a platform contract from {path}: {error}"
        ) from None
    wrong = problems(found)
    if wrong:
        raise contract.ContractError(f"{path} is not a platform contract: {'; '.join(wrong)}")
    return dict(found)


def fetch(url: str, credential_: TokenCredential | None = None) -> dict[str, Any]:
    """The contract document at `url`, checked for shape; a ContractError says what is wrong
    and what to do."""
    if _Offline.active:
        if _Offline.document is None:
            raise contract.ContractError(
                f"the project reads the platform's published contract ({url}), which the "
                "offline plan does not download: give it a saved copy with "
                "--platform-contract FILE"
            )
        found: Any = _Offline.document
    else:
        try:
            body = _request("GET", url, _token(credential_))
        except PublicationError as error:
            raise contract.ContractError(
                f"cannot read the platform contract: {error}. The identity running needs "
                "Storage Blob Data Reader on its container: bootstrap grants it to each "
                "application team's deploy identity in the team's environments"
            ) from None
        if body is None:
            raise contract.ContractError(
                f"no platform contract is published at {url}: the platform stack publishes it "
                "with each `pulumi up` (secretless-aks:publishContractTo, which CI sets)"
            )
        try:
            found = json.loads(body)
        except ValueError:
            raise contract.ContractError(f"{url} holds no JSON: it is not a contract") from None
    wrong = problems(found)
    if wrong:
        raise contract.ContractError(f"the published contract {url} is not one: {'; '.join(wrong)}")
    return dict(found)
