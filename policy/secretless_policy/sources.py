"""One source of truth for what is allowed: for every mandatory rule, who else judges it.

- CONFIG: the stack's configuration refuses, before anything is declared, every value that
  would break the rule, naming `key`; its message and the rule's share `words`. A stack file
  the program accepts therefore never meets this rule's violation at `pulumi up`.
- INVARIANT: no configuration value can break it; the program guarantees it (`why`).
- ADVISORY: the rule only advises; a stack may choose otherwise.

Rules added later take a row here; tests/test_policy.py checks the table against the rules and
the configuration, and docs/policy.md shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

CONFIG = "config"
INVARIANT = "invariant"
ADVISORY = "advisory"


@dataclass(frozen=True)
class Source:
    kind: str
    # CONFIG: the config key that refuses it (below `secretless-aks:`) and the shared words.
    key: str = ""
    words: str = ""
    # INVARIANT: what in the program guarantees it.
    why: str = ""


# Shared with the configuration's rules (secretless_aks/components/config/rules.py), word for
# word; a test compares them.
LOCAL_ACCOUNTS_WORDS = "a local admin kubeconfig is a static cluster credential"
PURGE_PROTECTION_WORDS = (
    "a deleted vault and its secrets then stay recoverable for the retention period"
)
FEDERATED_LIMIT_WORDS = "Azure allows 20 federated credentials per identity"
IMAGE_DIGEST_WORDS = (
    "a tag can be moved to other bytes; a digest keeps every node on the reviewed ones"
)
KNOWN_REGISTRIES_WORDS = (
    "images come from the platform's registry (secretless-aks:registry) or one listed in "
    "secretless-aks:allowedRegistries"
)
MONITORING_WORDS = (
    "a protected stack keeps the vault's and the cluster's audit logs, which say who read what"
)
TOKEN_CREDENTIALS_WORDS = (
    "DefaultAzureCredential then tries its binding's credential only, never the whole chain"
)

SOURCES: dict[str, Source] = {
    "key-vault-rbac-authorization": Source(
        INVARIANT,
        why="a created vault sets enableRbacAuthorization; an existing vault on access "
        "policies is refused before any grant is declared",
    ),
    "key-vault-no-access-policies": Source(
        INVARIANT, why="the program declares no access policy and sends accessPolicies: []"
    ),
    "key-vault-soft-delete": Source(INVARIANT, why="a created vault always sets enableSoftDelete"),
    "key-vault-purge-protection": Source(
        CONFIG, key="keyVault.purgeProtection", words=PURGE_PROTECTION_WORDS
    ),
    "key-vault-purge-protection-advisory": Source(ADVISORY),
    "key-vault-network-restricted": Source(
        INVARIANT, why="the vault's network settings are the stack's own, sent as configured"
    ),
    "key-vault-secret-is-secret": Source(
        INVARIANT,
        why="seeded values come only from encrypted config (a plaintext one is refused) and "
        "travel as secret Outputs",
    ),
    "key-vault-secret-name": Source(
        INVARIANT,
        why="secret names derive from config paths, which the configuration checks make the "
        "round trip (secret_names.py)",
    ),
    "key-vault-scoped-access": Source(ADVISORY),
    "aks-user-assigned-identities": Source(
        INVARIANT, why="the cluster component always creates both identities"
    ),
    "aks-workload-identity": Source(
        INVARIANT, why="the cluster always enables the OIDC issuer and workload identity"
    ),
    "aks-entra-rbac": Source(INVARIANT, why="the cluster always sets aadProfile with Azure RBAC"),
    "aks-local-accounts-disabled": Source(
        CONFIG, key="cluster.disableLocalAccounts", words=LOCAL_ACCOUNTS_WORDS
    ),
    "aks-no-pod-identity-addon": Source(
        INVARIANT, why="the cluster never sets podIdentityProfile (the chart is used instead)"
    ),
    "aks-network-policy": Source(
        INVARIANT, why="cluster.networkPolicy admits only azure and calico"
    ),
    "aks-upgrade-channel": Source(ADVISORY),
    "role-assignment-principal-type": Source(
        INVARIANT, why="roles.assign_role names ServicePrincipal for every identity it creates"
    ),
    "role-assignment-below-subscription": Source(
        INVARIANT, why="every scope the program grants on is a resource group or below"
    ),
    "role-assignment-forbidden-roles": Source(
        INVARIANT,
        why="the role catalogue holds no such role for the program, and RBAC Administrator "
        "always carries its condition",
    ),
    "role-assignment-known-principals": Source(
        INVARIANT,
        why="every principal outside the stack comes from config: deployers, admin and team groups",
    ),
    "kubelet-managed-identity-operator-scope": Source(
        INVARIANT, why="the kubelet's grant is made per pod-identity service only"
    ),
    "federated-credential-audience": Source(
        INVARIANT, why="manifests.TOKEN_EXCHANGE_AUDIENCE is the only audience sent"
    ),
    "federated-credential-subject": Source(
        INVARIANT, why="subjects derive from validated namespaces and ServiceAccounts"
    ),
    "federated-credential-issuer": Source(INVARIANT, why="the issuer is the cluster's own output"),
    "federated-credential-limit": Source(
        CONFIG, key="services.additionalServiceAccounts", words=FEDERATED_LIMIT_WORDS
    ),
    "federated-credential-chained": Source(
        INVARIANT, why="a service's credentials are declared one after another (depends_on)"
    ),
    "workload-identity-service-account": Source(
        INVARIANT, why="a workload-identity service's pods run as its annotated ServiceAccount"
    ),
    "no-credential-env-literals": Source(
        INVARIANT, why="the program sets no credential-like environment variable"
    ),
    "no-azure-credential-secrets": Source(
        INVARIANT, why="the program declares no Kubernetes Secret"
    ),
    "container-security-context": Source(
        INVARIANT, why="manifests.py sets the restricted security context on every container"
    ),
    "audit-logs-kept": Source(CONFIG, key="monitoring.off", words=MONITORING_WORDS),
    "pod-token-credentials-pinned": Source(
        CONFIG, key="services.pinCredential", words=TOKEN_CREDENTIALS_WORDS
    ),
    "image-pinned-by-digest": Source(CONFIG, key="services.image", words=IMAGE_DIGEST_WORDS),
    "image-pinned-by-digest-advisory": Source(ADVISORY),
    "pod-images-from-known-registries": Source(
        CONFIG, key="services.image", words=KNOWN_REGISTRIES_WORDS
    ),
    "no-application-credentials": Source(
        INVARIANT, why="the program declares no app registration or service principal credential"
    ),
    "data-role-on-its-resource": Source(
        INVARIANT,
        why="the program grants a catalogue data role only on a resource id the catalogue "
        "admits for it (access_catalogue.refusal), never on a group",
    ),
    "cosmos-built-in-data-role": Source(
        INVARIANT,
        why="the program names the built-in definitions of the account it grants in only",
    ),
    "container-registry-locked-down": Source(
        INVARIANT,
        why="the program declares no registry; bootstrap's sets both false",
    ),
}
