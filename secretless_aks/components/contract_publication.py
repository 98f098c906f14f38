"""The environment's contract document, written to its blob by each `pulumi up`
(published_contract.py says what it holds and why a blob written from the graph).

A dynamic resource, as propagation_wait.py is, pickled by reference to this module:
- created or updated, it writes `document` to `url` (a new document is an update, which a
  preview shows as one);
- a new `url` replaces it: the new blob is written, then the old one removed;
- deleted (the stack destroyed, or publishContractTo unset), it removes the blob.
It reads nothing back: a refresh keeps what it wrote.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic

from secretless_aks import published_contract
from secretless_aks.components.dynamic_diff import replace_or_update

_PROPERTIES = ("url", "document")


class _BlobDocumentProvider(pulumi.dynamic.ResourceProvider):
    # The document holds no secret (contract.PUBLISHED_NAMES), so neither does the provider.
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        published_contract.publish(props["url"], props["document"])
        return pulumi.dynamic.CreateResult(id_=props["url"], outs=_own(props))

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        return replace_or_update(olds, news, replace_on="url", update_on="document")

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        published_contract.publish(news["url"], news["document"])
        return pulumi.dynamic.UpdateResult(outs=_own(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        published_contract.unpublish(props["url"])


def _own(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in _PROPERTIES}


class ContractPublication(pulumi.dynamic.Resource, module="contract", name="Publication"):
    """The published contract at `url`: `document`, a JSON text (see the module)."""

    def __init__(
        self,
        name: str,
        *,
        url: str,
        document: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(_BlobDocumentProvider(), name, {"url": url, "document": document}, opts)
