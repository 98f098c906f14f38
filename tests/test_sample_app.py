"""The platform side of the sample application (app/): the dev stack runs it end to end with no
secret, and what the app and the platform assume of each other agrees."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from secretless_aks.components import secret_names
from secretless_aks.offline import app_contract
from secretless_aks.offline.harness import (
    OFFLINE_STAND_IN,
    PROJECT_DIR,
    RecordedGraph,
    Secret,
    run_program,
)
from secretless_aks.offline.plan import main
from tests.graph_queries import grants_to
from tests.stack_configs import stack_config

SERVICE = "my-great-service"
APP_DIR = PROJECT_DIR / "app"


@pytest.fixture(scope="module")
def app_modules() -> Iterator[dict[str, ModuleType]]:
    """The app's own name rules and settings, imported from app/ (they need no Azure SDK)."""
    sys.path.insert(0, str(APP_DIR))
    try:
        yield {
            name: importlib.import_module(f"secretless_app.{name}")
            for name in ("secret_names", "declared_settings", "settings", "environment")
        }
    finally:
        sys.path.remove(str(APP_DIR))


PATHS = [
    "Identity:Secret",
    "Greeting:Message",
    "a",
    "A1:b-2:C3",
    "Orders:Db-Password",
    "x" * 127,
    "x" * 128,
    "a:" * 42 + "a",
    "Identity::Secret",
    ":Secret",
    "Identity:",
    "Sec_ret",
    "Ends-:With",
    "Double--Hyphen",
    "Spaces here",
    "",
]
NAMES = ["Identity--Secret", "a", "A-b--C", "a---b", "-a", "a-", "a--", "bad_name", "x" * 128, ""]


def _outcome(function: Callable[[str], str], argument: str) -> tuple[str, str]:
    try:
        return "ok", function(argument)
    except ValueError as error:
        return type(error).__name__, str(error)


def test_the_app_and_the_platform_map_names_alike(app_modules: dict[str, ModuleType]) -> None:
    # The app is a template teams copy, so it cannot import the platform: the same rules live
    # in both, and this keeps them one rule.
    app = app_modules["secret_names"]
    for path in PATHS:
        assert _outcome(app.secret_name, path) == _outcome(secret_names.secret_name, path), path
    for name in NAMES:
        assert _outcome(app.config_path, name) == _outcome(secret_names.config_path, name), name


def test_every_secret_the_app_reads_is_one_the_platform_can_seed(
    app_modules: dict[str, ModuleType],
) -> None:
    declared = app_modules["declared_settings"].declared_settings(
        app_modules["settings"].AppSettings
    )
    by_key = {setting.key: setting for setting in declared}
    assert by_key["identity.secret"].secret_name == "Identity--Secret"
    assert by_key["identity.secret"].required
    for setting in declared:
        assert secret_names.validate_secret_name(setting.secret_name) == setting.secret_name
        assert secret_names.secret_name(setting.config_path) == setting.secret_name


def test_the_dev_stack_runs_the_app_from_the_platforms_registry_by_digest() -> None:
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
    (service,) = [s for s in config["secretless-aks:services"] if s["name"] == SERVICE]
    assert re.fullmatch(r"registry/secretless-app@sha256:[0-9a-f]{64}", service["image"])


def test_the_dev_plan_shows_the_whole_secretless_path(dev: RecordedGraph) -> None:
    identity = dev.named(f"svc-{SERVICE}-identity")
    vault = dev.named("keyvault-vault")
    cluster = dev.named("cluster-aks")
    # Its own identity, reading the one secret it names...
    secret = f"{vault.outputs['id']}/secrets/Identity--Secret"
    assert grants_to(dev, identity) == {("Key Vault Secrets User", secret)}
    # ... federated with the cluster's issuer for its own ServiceAccount only...
    credential = dev.named(f"svc-{SERVICE}-federated-{SERVICE}_{SERVICE}")
    assert credential.inputs["issuer"] == cluster.outputs["oidcIssuerProfile"]["issuerURL"]
    assert credential.inputs["subject"] == f"system:serviceaccount:{SERVICE}:{SERVICE}"
    # ... whose annotation names that identity...
    account = dev.named(f"svc-{SERVICE}-service-account")
    annotations = account.inputs["metadata"]["annotations"]
    assert annotations["azure.workload.identity/client-id"] == identity.outputs["clientId"]
    # ... and pods that use it, told where the vault is and which secrets they may read there
    # (the app reads no other: Key Vault would answer 403), and nothing else.
    pod = dev.named(f"svc-{SERVICE}-deployment").inputs["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert pod["spec"]["serviceAccountName"] == SERVICE
    (container,) = pod["spec"]["containers"]
    assert container["env"] == [
        # The SDK tries the binding's credential only: workload identity's.
        {"name": "AZURE_TOKEN_CREDENTIALS", "value": "WorkloadIdentityCredential"},
        {"name": "KEY_VAULT_URL", "value": vault.outputs["properties"]["vaultUri"]},
        {"name": "KEY_VAULT_GRANTED_NAMES", "value": "Identity--Secret"},
    ]
    assert not any(isinstance(variable["value"], Secret) for variable in container["env"])
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]


@pytest.mark.parametrize(
    ("scope", "granted"),
    [
        (["Orders--DbPassword", "Shared--ApiKey"], "Orders--DbPassword,Shared--ApiKey"),
        (["*"], None),  # the whole vault: every name may be read
        (None, None),
    ],
)
def test_pods_are_told_the_secrets_their_identity_is_granted(
    scope: list[str] | None, granted: str | None
) -> None:
    service = {"name": "orders", "image": "ghcr.io/contoso/orders:1.0", "secretScope": scope}
    graph = run_program("dev", config=stack_config(services=[service]))
    (container,) = graph.named("svc-orders-deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ]
    told = {variable["name"]: variable["value"] for variable in container["env"]}
    assert told.get("KEY_VAULT_GRANTED_NAMES") == granted


def test_a_service_without_a_key_vault_role_is_told_only_its_credential() -> None:
    services = [{"name": "web", "image": "ghcr.io/contoso/web:1.0", "keyVaultRole": "none"}]
    graph = run_program("dev", config=stack_config(services=services))
    (container,) = graph.named("svc-web-deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["env"] == [
        {"name": "AZURE_TOKEN_CREDENTIALS", "value": "WorkloadIdentityCredential"}
    ]


@pytest.mark.parametrize(
    ("binding", "pinned"),
    [
        ("workloadIdentity", "WorkloadIdentityCredential"),
        ("podIdentity", "ManagedIdentityCredential"),
        # While a migration needs both: workload identity, then the managed identity endpoint.
        ("both", "prod"),
    ],
)
def test_each_binding_pins_the_credential_it_provides(binding: str, pinned: str) -> None:
    services = [
        {
            "name": "web",
            "image": "ghcr.io/contoso/web:1.0",
            "binding": binding,
            "secretScope": ["Identity--Secret"],
        }
    ]
    graph = run_program("dev", config=stack_config(services=services))
    (container,) = graph.named("svc-web-deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["env"][0] == {"name": "AZURE_TOKEN_CREDENTIALS", "value": pinned}


def test_the_offline_plan_takes_a_stand_in_for_a_ciphertext_and_says_it_never_deploys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("__main__.py", "Pulumi.yaml", "secretless_aks"):
        (project / name).symlink_to(PROJECT_DIR / name)
    secrets = {"Identity": {"Secret": {"secure": OFFLINE_STAND_IN}}}
    services = [
        {
            "name": SERVICE,
            "image": "ghcr.io/x/app:1",
            "port": 8080,
            "secretScope": ["Identity--Secret"],
        }
    ]
    config = stack_config(secrets=secrets, services=services, generatedSecrets=None)
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    assert main(["dev"], project_dir=project) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[0] == (
        f"warning: secretless-aks:secrets.Identity.Secret holds {OFFLINE_STAND_IN}, a stand-in "
        "for the offline plan that `pulumi up` cannot decrypt; this stack file is never "
        "deployable until you run `pulumi config set --secret --path "
        "'secretless-aks:secrets.Identity.Secret' <value>`"
    )
    assert "keyvault-secret-identity--secret" in out
    assert f"svc-{SERVICE}-key-vault-secrets-user-on-secret-identity--secret" in out


def test_the_apps_tests_run_it_as_the_dev_stack_deploys_it_now(dev: RecordedGraph) -> None:
    # app/tests/test_dev_deployment.py starts the app with this file's Deployment and grants.
    assert app_contract.CONTRACT_FILE.read_text() == app_contract.render(dev), (
        "app/tests/fixtures/dev-deployment.json is not what the dev stack renders: run "
        "`make app-contract` and commit it"
    )
    contract = json.loads(app_contract.CONTRACT_FILE.read_text())
    assert contract["grantedSecrets"] == ["Identity--Secret"]
    # and the verifier's canary, which no service is granted.
    assert contract["seededSecrets"] == ["Identity--Secret", "secretless-verify--canary"]


def test_the_dev_deployment_probes_the_app_and_waits_out_its_startup_grace(
    dev: RecordedGraph, app_modules: dict[str, ModuleType]
) -> None:
    deployment = dev.named(f"svc-{SERVICE}-deployment")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    startup, readiness, liveness = (
        container[probe] for probe in ("startupProbe", "readinessProbe", "livenessProbe")
    )
    assert startup["httpGet"] == readiness["httpGet"] == {"path": "/readyz", "port": "http"}
    assert liveness["httpGet"] == {"path": "/healthz", "port": "http"}
    # The kubelet never restarts the app while it waits for its role to take effect...
    grace = app_modules["environment"].DEFAULT_FORBIDDEN_GRACE_SECONDS
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    assert budget >= grace
    # ... and pulumi up waits at least that long for the Deployment to be ready.
    timeouts = deployment.options["customTimeouts"]
    assert timeouts["create"] == timeouts["update"]
    assert int(timeouts["create"].removesuffix("s")) > budget
