"""`secretless-aks:generatedSecrets`: settings whose values `random` makes, secret in state,
seeded into the vault under the `--` name, marked generated in the plan and never printed."""

from __future__ import annotations

import json

import pytest

from secretless_aks.offline import formats
from secretless_aks.offline.harness import RecordedGraph, Secret, run_program
from tests.graph_queries import DEPLOYER_SECRETS_OFFICER, grant
from tests.stack_configs import stack_config

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GENERATOR = "keyvault-generated-identity--secret"
SEEDED = "keyvault-secret-identity--secret"
GRANT = "svc-my-great-service-key-vault-secrets-user-on-secret-identity--secret"


@pytest.fixture(scope="module")
def previewed() -> RecordedGraph:
    """dev as `pulumi preview` sees it: the generated value is not known yet."""
    return run_program("dev", preview=True)


def test_dev_generates_the_sample_apps_required_setting(dev: RecordedGraph) -> None:
    generator = dev.named(GENERATOR)
    assert generator.type == RANDOM_PASSWORD
    # Letters and digits only: a value any application's config reader takes as it is.
    assert dict(generator.inputs) == {"length": 32, "special": False}
    # The engine encrypts the result in state (pulumi-random's schema marks it secret).
    assert "result" in generator.options["additionalSecretOutputs"]
    seeded = dev.named(SEEDED)
    assert seeded.inputs["secretName"] == "Identity--Secret"
    assert seeded.inputs["properties"] == {"value": Secret(generator.outputs["result"])}
    assert generator.urn in seeded.property_dependencies["properties"]


def test_the_generated_secret_is_written_by_the_deployer_and_read_by_the_service(
    dev: RecordedGraph,
) -> None:
    seeded = dev.named(SEEDED)
    assert dev.named(DEPLOYER_SECRETS_OFFICER).urn in seeded.dependencies
    # The service's grant is on the seeded secret's id, so it waits for the secret to exist.
    assert grant(dev.named(GRANT)).scope == seeded.outputs["id"]
    assert seeded.urn in dev.named(GRANT).property_dependencies["scope"]


def test_the_plan_marks_the_value_generated_and_never_shows_it(
    dev: RecordedGraph, previewed: RecordedGraph
) -> None:
    for graph in (dev, previewed):
        document = formats.to_json(graph)
        (seeded,) = [r for r in document["resources"] if r["name"] == SEEDED]
        assert seeded["inputs"]["properties"]["value"] == {"$plan": "secret", "generated": True}
        assert "value: [secret, generated]" in formats.render_plan(document, details=True)
    value = dev.named(GENERATOR).outputs["result"]
    assert len(value) == 32  # the harness's stand-in: known after a mocked deploy
    for shown in (
        json.dumps(formats.to_json(dev)),
        formats.render_tree(dev, details=True),
        json.dumps(dev.outputs, default=str),
    ):
        assert value not in shown


def test_a_config_secret_is_not_marked_generated() -> None:
    config = stack_config(
        secrets={"Orders": {"DbPassword": {"secure": "v1:orders-db"}}},
        generatedSecrets=[{"path": "Identity:Secret", "length": 32}],
    )
    document = formats.to_json(run_program("dev", config=config))
    values = {
        r["inputs"]["secretName"]: r["inputs"]["properties"]["value"]
        for r in document["resources"]
        if r["type"] == "azure-native:keyvault:Secret"
    }
    assert values["Identity--Secret"] == {"$plan": "secret", "generated": True}
    assert values["Orders--DbPassword"]["$plan"] == "secret"
    assert "generated" not in values["Orders--DbPassword"]


def test_without_generated_secrets_only_the_canary_is_generated() -> None:
    graph = run_program("dev", config=stack_config(generatedSecrets=[]))
    (canary,) = graph.by_type(RANDOM_PASSWORD)
    assert canary.name == "keyvault-generated-secretless-verify--canary"
    existing = {"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}}
    graph = run_program("dev", config=stack_config(generatedSecrets=[], keyVault=existing))
    assert not graph.by_type(RANDOM_PASSWORD)
