"""Key Vault: authorization by Azure RBAC alone, recoverable, reachable only as configured;
secrets kept as Pulumi secrets under names applications can read back."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .model import Level, Resource, Rule, Settings, Stack, applies_to, differs, is_secret, known
from .sources import PURGE_PROTECTION_WORDS

VAULT = "azure-native:keyvault:Vault"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ACCESS_POLICY = "azure-native:keyvault:AccessPolicy"
SECRET = "azure-native:keyvault:Secret"

# Azure: 1-127 letters, digits and hyphens. The `--` convention: `--` joins config path
# segments, each letters and digits joined by single hyphens, so the name reads back as
# `Section:Key` (secretless_aks/components/secret_names.py; tests/test_policy.py holds this
# to it).
MAX_SECRET_NAME_LENGTH = 127
SEGMENT = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


def readable_secret_name(name: str) -> bool:
    return 0 < len(name) <= MAX_SECRET_NAME_LENGTH and all(
        SEGMENT.fullmatch(segment) for segment in name.split("--")
    )


@applies_to(VAULT)
def _rbac_authorization(vault: Resource, _: Settings) -> Iterable[str]:
    if differs(vault.get("properties", "enableRbacAuthorization"), True):
        yield (
            "set properties.enableRbacAuthorization to true: access comes from Azure role "
            "assignments (Key Vault Secrets User per identity), never from access policies"
        )


@applies_to(VAULT, ACCESS_POLICY)
def _no_access_policies(resource: Resource, _: Settings) -> Iterable[str]:
    if resource.type == ACCESS_POLICY:
        yield "remove this access policy: grant a Key Vault role to the identity instead"
    elif resource.get("properties", "accessPolicies"):
        yield "remove properties.accessPolicies: grant Key Vault roles to identities instead"


@applies_to(VAULT)
def _soft_delete(vault: Resource, _: Settings) -> Iterable[str]:
    if vault.get("properties", "enableSoftDelete") is False:
        yield "set properties.enableSoftDelete to true (or leave it out: Azure keeps it on)"


def _purge_protection(protected: bool) -> Rule:
    @applies_to(VAULT)
    def check(vault: Resource, settings: Settings) -> Iterable[str]:
        purge_protection = vault.get("properties", "enablePurgeProtection")
        if settings.protect == protected and differs(purge_protection, True):
            yield (
                "set properties.enablePurgeProtection to true (secretless-aks:keyVault."
                f"purgeProtection): {PURGE_PROTECTION_WORDS}"
            )

    if protected:
        return Rule(
            "key-vault-purge-protection",
            "A protected stack's vault has purge protection on.",
            "a deleted secret or vault in production being purged before anyone can recover it",
            check_resource=check,
        )
    return Rule(
        "key-vault-purge-protection-advisory",
        "Purge protection is recommended outside production too (it cannot be turned off).",
        "losing secrets in an environment someone relies on",
        level=Level.ADVISORY,
        check_resource=check,
    )


@applies_to(VAULT)
def _network_restricted(vault: Resource, settings: Settings) -> Iterable[str]:
    closed = settings.key_vault_public_network_access == "Disabled"
    if closed and differs(vault.get("properties", "publicNetworkAccess"), "Disabled"):
        yield (
            "set properties.publicNetworkAccess to Disabled, as secretless-aks:keyVault."
            "publicNetworkAccess says"
        )
    if settings.key_vault_allowed_ip_ranges:
        if differs(vault.get("properties", "networkAcls", "defaultAction"), "Deny"):
            yield (
                "set properties.networkAcls.defaultAction to Deny: secretless-aks:keyVault."
                "allowedIpRanges closes the vault to every other address"
            )
        rules = vault.get("properties", "networkAcls", "ipRules") or []
        allowed = {rule.get("value") for rule in rules if isinstance(rule, dict)}
        missing = [cidr for cidr in settings.key_vault_allowed_ip_ranges if cidr not in allowed]
        if missing:
            yield f"add {', '.join(missing)} to properties.networkAcls.ipRules (allowedIpRanges)"


@applies_to(SECRET)
def _secret_value(secret: Resource, _: Settings) -> Iterable[str]:
    value = secret.get("properties", "value")
    if known(value) and not is_secret(value):
        yield (
            "pass properties.value as a Pulumi secret (pulumi.Output.secret, or "
            "`pulumi config set --secret`): a plain value is stored readable in the state"
        )


@applies_to(SECRET)
def _secret_name(secret: Resource, _: Settings) -> Iterable[str]:
    name = secret.get("secretName")
    if known(name) and not (isinstance(name, str) and readable_secret_name(name)):
        yield (
            f"rename secret {name!r}: 1-127 letters, digits and hyphens, with `--` only "
            "between config path segments (Section--Key reads back as Section:Key)"
        )


# A service's Key Vault role on the whole vault (ServiceIdentity names it `-on-vault`; one on a
# secret is `-on-secret-<name>`).
VAULT_WIDE_GRANT = re.compile(r"svc-(.+)-key-vault-secrets-(?:user|officer)-on-vault")


def _vault_wide_access(stack: Stack, settings: Settings) -> Iterator[tuple[Resource, str]]:
    for assignment in stack.of_type(ROLE_ASSIGNMENT):
        match = VAULT_WIDE_GRANT.fullmatch(assignment.name)
        if match and match.group(1) not in settings.vault_wide_services:
            yield (
                assignment,
                f"name the secrets service {match.group(1)} reads in its secretScope: on the "
                'vault its identity reads every secret; secretScope: ["*"] says vault-wide on '
                "purpose",
            )


RULES = (
    Rule(
        "key-vault-rbac-authorization",
        "The vault authorizes with Azure RBAC.",
        "grants that bypass role assignments and their audit trail",
        check_resource=_rbac_authorization,
    ),
    Rule(
        "key-vault-no-access-policies",
        "No access policies, on the vault or as resources of their own.",
        "vault-wide secret access that no role assignment shows",
        check_resource=_no_access_policies,
    ),
    Rule(
        "key-vault-soft-delete",
        "Soft delete stays on.",
        "a deleted secret being gone at once",
        check_resource=_soft_delete,
    ),
    _purge_protection(protected=True),
    _purge_protection(protected=False),
    Rule(
        "key-vault-network-restricted",
        "The vault's network access is as restricted as the stack configures.",
        "a vault the stack closed being reachable from the internet",
        check_resource=_network_restricted,
    ),
    Rule(
        "key-vault-secret-is-secret",
        "A seeded secret's value is a Pulumi secret.",
        "secret values in plain text in the Pulumi state and in previews",
        check_resource=_secret_value,
    ),
    Rule(
        "key-vault-secret-name",
        "Secret names follow Azure's rules and the `--` convention.",
        "secrets an application cannot map back to a config key",
        check_resource=_secret_name,
    ),
    Rule(
        "key-vault-scoped-access",
        'A service names the secrets it reads, or says secretScope: ["*"].',
        "an identity that reads every secret in the vault when it needs one",
        level=Level.ADVISORY,
        check_stack=_vault_wide_access,
    ),
)
