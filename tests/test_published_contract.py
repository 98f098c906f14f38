"""The published contract: what the platform's graph writes (its content from the recorded
inputs, no secret, valid against the committed schema), the publication's lifecycle against a
loopback Blob Storage double, and the reader that application projects use instead of the
platform's state (the consumer template plans through it: tests/test_consumer.py)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from secretless_aks import contract, published_contract
from secretless_aks.components import contract_publication
from secretless_aks.offline.harness import (
    ProgramFailedError,
    RecordedGraph,
    run_program,
)
from secretless_aks.offline.mocks import CI_CONTRACT_URL_STAND_IN
from secretless_aks.offline.replacements import forces_replacement
from tests.blob_double import READER_TOKEN, WRITER_TOKEN, BlobStore, FakeCredential, blob_store
from tests.dynamic_host import in_provider_host
from tests.stack_configs import stack_config

PUBLICATION = "contract"
PUBLICATION_TYPE = "pulumi-python:dynamic/contract:Publication"
SCHEMA = json.loads(published_contract.SCHEMA_PATH.read_text())
TEAM = {
    "name": "search",
    "groupObjectId": "3c8d0f5a-2b4e-4d6f-9a7b-0c1d2e3f4a51",
    "namespaces": ["search", "search-jobs"],
}


def published(graph: RecordedGraph) -> dict[str, Any]:
    return json.loads(graph.named(PUBLICATION).inputs["document"])


def test_the_committed_schema_is_the_one_the_contract_generates() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert published_contract.SCHEMA_PATH.read_text() == published_contract.schema_text(), (
        "regenerate it: python -c 'from secretless_aks import published_contract as p; "
        "p.SCHEMA_PATH.write_text(p.schema_text())'"
    )
    # What a team's project needs, and nothing only the platform's own projects read.
    assert set(SCHEMA["properties"]) == set(contract.PUBLISHED_NAMES)
    assert not {"services", "resourceGroupName", "nodeResourceGroup"} & set(SCHEMA["properties"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_up_publishes_the_contract_from_the_recorded_outputs_and_no_secret(
    stack: str, dev: RecordedGraph, prod: RecordedGraph
) -> None:
    graph = {"dev": dev, "prod": prod}[stack]
    publication = graph.named(PUBLICATION)
    assert publication.type == PUBLICATION_TYPE
    # CI sets the blob (PLATFORM_CONTRACT_URL); the offline plan stands in for it.
    assert publication.inputs["url"] == CI_CONTRACT_URL_STAND_IN
    document = published(graph)
    jsonschema.validate(document, SCHEMA)
    # Exactly the outputs the contract publishes, as the stack exports them.
    assert document == {name: graph.outputs[name] for name in contract.PUBLISHED_NAMES}
    # In clear: the document is no secret, and the kubeconfig in it signs in through
    # kubelogin, with no token, password or key.
    assert isinstance(publication.inputs["document"], str)  # a secret would be wrapped
    kubeconfig = document["kubeconfig"]
    assert "command: kubelogin" in kubeconfig
    for credential in ("client-key-data", "client-certificate-data", "token:", "password"):
        assert credential not in kubeconfig
    assert "services" not in document


def test_a_team_reads_its_namespaces_once_it_may_write_there() -> None:
    graph = run_program("dev", config=stack_config(appTeams=[TEAM]))
    document = published(graph)
    assert document["appTeams"] == {"search": ["search", "search-jobs"]}
    jsonschema.validate(document, SCHEMA)
    # Written after the team's namespaces and its grants there.
    publication = graph.named(PUBLICATION)
    for name in (
        "team-search-namespace-search",
        "team-search-namespace-search-jobs",
        "team-search-azure-kubernetes-service-rbac-writer-on-namespace-search",
        "team-search-azure-kubernetes-service-rbac-writer-on-namespace-search-jobs",
    ):
        assert graph.named(name).urn in publication.dependencies, name


def test_without_a_blob_nothing_is_published() -> None:
    graph = run_program("dev", config=stack_config(publishContractTo=""))
    assert not graph.by_type(PUBLICATION_TYPE)


@pytest.mark.parametrize(
    "url",
    [
        "http://stsecretless.blob.core.windows.net/contract-dev/platform-contract.json",
        "https://stsecretless.blob.core.windows.net/platform-contract.json",
        "https://evil.example.com/contract-dev/platform-contract.json",
        "https://stsecretless.blob.core.windows.net/contract-dev/x.json?sig=abc",
    ],
)
def test_a_blob_url_that_is_not_one_is_refused_naming_the_key(url: str) -> None:
    with pytest.raises(ProgramFailedError) as failed:
        run_program("dev", config=stack_config(publishContractTo=url))
    message = str(failed.value)
    assert "secretless-aks:publishContractTo" in message
    assert "must be a blob's URL" in message


def test_a_new_blob_replaces_the_publication_and_a_new_document_updates_it() -> None:
    assert forces_replacement(PUBLICATION_TYPE, "url")
    assert not forces_replacement(PUBLICATION_TYPE, "document")
    provider = contract_publication._BlobDocumentProvider()
    olds = {"url": "https://a/c/b", "document": "{}", "__provider": "old"}
    same = provider.diff("id", olds, {**olds, "__provider": "new code"})
    assert (same.changes, same.replaces) == (False, [])
    moved = provider.diff("id", olds, {**olds, "url": "https://a/d/b"})
    assert (moved.changes, moved.replaces, moved.delete_before_replace) == (True, ["url"], False)
    rewritten = provider.diff("id", olds, {**olds, "document": '{"a": 1}'})
    assert (rewritten.changes, rewritten.replaces) == (True, [])


# --- the lifecycle, against the loopback Blob Storage double ---------------------------------


@pytest.fixture
def store() -> Any:
    with blob_store() as found:
        yield found


def signed_in_as(monkeypatch: pytest.MonkeyPatch, token: str) -> FakeCredential:
    credential = FakeCredential(token)
    monkeypatch.setattr(published_contract, "credential", lambda: credential)
    return credential


def test_up_writes_the_document_a_later_up_rewrites_it_and_destroy_removes_it(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch, dev: RecordedGraph
) -> None:
    credential = signed_in_as(monkeypatch, WRITER_TOKEN)
    provider = contract_publication._BlobDocumentProvider()
    url = store.url("contract-dev/platform-contract.json")
    document = dev.named(PUBLICATION).inputs["document"]
    created = provider.create({"url": url, "document": document, "__provider": "code"})
    assert created.id == url and created.outs == {"url": url, "document": document}
    method, path, headers = store.requests[-1]
    assert (method, path) == ("PUT", "/contract-dev/platform-contract.json")
    assert headers["authorization"] == f"Bearer {WRITER_TOKEN}"
    assert headers["x-ms-version"] == published_contract.BLOB_API_VERSION
    assert headers["x-ms-blob-type"] == "BlockBlob"
    assert credential.scopes == [published_contract.STORAGE_SCOPE]
    # A team's project reads what the platform wrote, with a token that may only read.
    read = published_contract.fetch(url, FakeCredential(READER_TOKEN))
    assert read == json.loads(document)
    changed = json.dumps({**json.loads(document), "location": "northeurope"})
    provider.update(url, {"url": url, "document": document}, {"url": url, "document": changed})
    assert published_contract.fetch(url, FakeCredential(READER_TOKEN))["location"] == (
        "northeurope"
    )
    provider.delete(url, {"url": url, "document": changed})
    assert store.blobs == {}
    # A blob already gone (deleted by hand, or a retried destroy) is no failure.
    provider.delete(url, {"url": url, "document": changed})


def test_an_identity_that_may_only_read_cannot_publish_and_is_told_who_may(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in_as(monkeypatch, READER_TOKEN)
    provider = contract_publication._BlobDocumentProvider()
    url = store.url("contract-dev/platform-contract.json")
    with pytest.raises(published_contract.PublicationError) as refused:
        provider.create({"url": url, "document": "{}"})
    message = str(refused.value)
    assert "HTTP 403 (AuthorizationPermissionMismatch)" in message
    assert "Only the environment's deploy identity may" in message
    assert store.blobs == {}


def test_a_reader_is_told_what_is_missing_rights_no_document_or_a_broken_one(
    store: BlobStore,
) -> None:
    url = store.url("contract-dev/platform-contract.json")
    with pytest.raises(contract.ContractError, match="no platform contract is published at"):
        published_contract.fetch(url, FakeCredential(READER_TOKEN))
    store.blobs["/contract-dev/platform-contract.json"] = b"{}"
    with pytest.raises(contract.ContractError, match="Storage Blob Data Reader on its container"):
        published_contract.fetch(url, FakeCredential("a-token-with-no-role"))
    store.blobs["/contract-dev/platform-contract.json"] = json.dumps(
        {"contractVersion": 1, "appTeams": {"search": "search"}, "kubeletIdentity": {}}
    ).encode()
    with pytest.raises(contract.ContractError) as broken:
        published_contract.fetch(url, FakeCredential(READER_TOKEN))
    assert str(broken.value) == (
        f"the published contract {url} is not one: 'kubeletIdentity' is not a object; "
        "'appTeams' is not a map of lists"
    )
    store.blobs["/contract-dev/platform-contract.json"] = b"<html>"
    with pytest.raises(contract.ContractError, match="holds no JSON"):
        published_contract.fetch(url, FakeCredential(READER_TOKEN))


def test_in_a_github_job_it_signs_in_with_the_jobs_own_fresh_oidc_token(
    monkeypatch: pytest.MonkeyPatch, store: BlobStore
) -> None:
    from azure.identity import ClientAssertionCredential, DefaultAzureCredential

    for name in ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(published_contract.credential(), DefaultAzureCredential)
    # The runner's token endpoint, as @actions/core calls it: its URL (with its own query)
    # and `&audience=`, the request token as bearer; it answers {"value": <token>}.
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", store.url("_apis/token?api-version=2"))
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "the-jobs-request-token")
    monkeypatch.setenv("AZURE_CLIENT_ID", "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
    monkeypatch.setenv("AZURE_TENANT_ID", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    assert isinstance(published_contract.credential(), ClientAssertionCredential)
    store.oidc_tokens["the-jobs-request-token"] = "github-oidc-token"
    assert published_contract.github_actions_token() == "github-oidc-token"
    method, path, _ = store.requests[-1]
    assert (method, path) == (
        "GET",
        "/_apis/token?api-version=2&audience=api://AzureADTokenExchange",
    )


def test_the_dynamic_provider_host_can_load_the_publication_the_state_holds(
    dev: RecordedGraph,
) -> None:
    moved = "provider.diff('id', {'url': 'https://a/c/b'}, {'url': 'https://a/d/b'}).replaces"
    assert in_provider_host(dev.named(PUBLICATION).inputs["__provider"], moved) == [
        "secretless_aks.components.contract_publication",
        ["url"],
    ]
