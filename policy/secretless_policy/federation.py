"""Federated identity credentials: the token exchange's audience, a ServiceAccount subject,
the stack's own cluster as issuer, Azure's limit per identity, one write at a time."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .cluster import CLUSTER
from .model import Resource, Rule, Settings, Stack, applies_to, known
from .role_assignments import IDENTITY
from .sources import FEDERATED_LIMIT_WORDS

FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
AUDIENCE = "api://AzureADTokenExchange"
MAX_PER_IDENTITY = 20
# A namespace is a DNS label, a ServiceAccount name a DNS subdomain (Kubernetes).
SUBJECT = re.compile(
    r"system:serviceaccount:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:"
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)


@applies_to(FEDERATED_CREDENTIAL)
def _audience(credential: Resource, _: Settings) -> Iterable[str]:
    audiences = credential.get("audiences")
    if known(audiences) and list(audiences or ()) != [AUDIENCE]:
        yield f"set audiences to exactly [{AUDIENCE}]: the audience workload identity tokens carry"


@applies_to(FEDERATED_CREDENTIAL)
def _subject(credential: Resource, _: Settings) -> Iterable[str]:
    subject = credential.get("subject")
    if known(subject) and not (isinstance(subject, str) and SUBJECT.fullmatch(subject)):
        yield (
            f"set subject to system:serviceaccount:<namespace>:<service account>, not "
            f"{subject!r}: one ServiceAccount's tokens, and no one else's, sign in"
        )


def _identity_key(stack: Stack, credential: Resource) -> str:
    """The identity a credential belongs to: the declared one it names, else its name."""
    for identity in stack.sources(credential, "resourceName", IDENTITY):
        return identity.urn
    return f"{credential.get('resourceGroupName')}/{credential.get('resourceName')}"


def _by_identity(stack: Stack) -> dict[str, list[Resource]]:
    groups: dict[str, list[Resource]] = {}
    for credential in stack.of_type(FEDERATED_CREDENTIAL):
        groups.setdefault(_identity_key(stack, credential), []).append(credential)
    return groups


def _issuer(stack: Stack, _: Settings) -> Iterator[tuple[Resource, str]]:
    for credential in stack.of_type(FEDERATED_CREDENTIAL):
        if not stack.sources(credential, "issuer", CLUSTER):
            yield (
                credential,
                (
                    "take issuer from the stack's cluster (oidcIssuerProfile.issuerURL), not a "
                    "literal: a copied URL is one trailing slash from AADSTS70021"
                ),
            )


def _limit(stack: Stack, _: Settings) -> Iterator[tuple[Resource, str]]:
    for credentials in _by_identity(stack).values():
        if len(credentials) > MAX_PER_IDENTITY:
            for credential in credentials[MAX_PER_IDENTITY:]:
                yield (
                    credential,
                    (
                        f"{FEDERATED_LIMIT_WORDS}; this one has {len(credentials)}: split the "
                        "service accounts across identities"
                    ),
                )


def _waits_for(group: dict[str, Resource], urn: str) -> set[str]:
    """The credentials of `group` that `urn` waits for, directly or through others."""
    found: set[str] = set()
    pending = [urn]
    while pending:
        for dependency in group[pending.pop()].dependencies:
            if dependency in group and dependency not in found:
                found.add(dependency)
                pending.append(dependency)
    return found


def _chained(stack: Stack, _: Settings) -> Iterator[tuple[Resource, str]]:
    for credentials in _by_identity(stack).values():
        group = {credential.urn: credential for credential in credentials}
        # Chained means one order: the i-th credential waits for exactly i of the others.
        depths = sorted(len(_waits_for(group, urn)) for urn in group)
        if depths != list(range(len(group))):
            for credential in credentials:
                yield (
                    credential,
                    (
                        "make each federated credential on this identity depend on the previous "
                        "one (depends_on): Azure rejects concurrent writes "
                        "(ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity)"
                    ),
                )


RULES = (
    Rule(
        "federated-credential-audience",
        f"The audience is exactly {AUDIENCE}.",
        "tokens minted for other audiences being accepted, or none being accepted",
        check_resource=_audience,
    ),
    Rule(
        "federated-credential-subject",
        "The subject is one Kubernetes ServiceAccount.",
        "an identity that anything else the issuer signs for can sign in as",
        check_resource=_subject,
    ),
    Rule(
        "federated-credential-issuer",
        "The issuer comes from the stack's own cluster.",
        "trusting another cluster's tokens, or a mistyped issuer (AADSTS70021)",
        check_stack=_issuer,
    ),
    Rule(
        "federated-credential-limit",
        f"At most {MAX_PER_IDENTITY} federated credentials per identity.",
        "a deployment Azure rejects half-way",
        check_stack=_limit,
    ),
    Rule(
        "federated-credential-chained",
        "Credentials on one identity are created one after another.",
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity failures",
        check_stack=_chained,
    ),
)
