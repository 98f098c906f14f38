"""What the recording harness leaves out of a run, and that nothing else changes for it."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from secretless_aks.offline.harness import (
    ProgramFailedError,
    RecordedGraph,
    RecordedResource,
    run_program,
)
from tests.stack_configs import stack_config
from tests.test_key_vault import AccessPolicyVault


def type_aliases(resource: RecordedResource) -> list[str]:
    return [a["spec"]["type"] for a in resource.options.get("aliases", []) if "type" in a["spec"]]


def without_type_aliases(resource: RecordedResource) -> dict[str, Any]:
    options = dict(resource.options)
    options["aliases"] = [a for a in options.get("aliases", []) if "type" not in a["spec"]]
    return {**vars(resource), "options": options}


def test_the_providers_type_aliases_are_left_out_and_nothing_else(dev: RecordedGraph) -> None:
    # As `pulumi up` evaluates it: the SDK classes' aliases to the type's earlier tokens.
    full = run_program("dev", provider_aliases=True)
    (cluster,) = full.by_type("azure-native:containerservice:ManagedCluster")
    assert "azure-native:containerservice/v20170831:ManagedCluster" in type_aliases(cluster)
    assert len(type_aliases(cluster)) > 100
    # Left out by default: no resource has one, and the program's own (name) aliases stay.
    assert not [r.urn for r in dev.resources if type_aliases(r)]
    renamed = [r for r in dev.resources if r.options.get("aliases")]
    assert {a["spec"]["name"] for r in renamed for a in r.options["aliases"]} >= {
        "keyvault-suffix",
        "keyvault-deployer-secrets-officer",
    }
    # Everything else recorded is the same, in the same order.
    assert [without_type_aliases(r) for r in dev.resources] == [
        without_type_aliases(r) for r in full.resources
    ]
    assert (dev.outputs, dev.warnings) == (full.outputs, full.warnings)


def test_a_failed_program_leaves_no_error_to_be_logged_after_the_next_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An existing vault on access policies fails the program in an Output, after many
    # resources are registered: the SDK raises the first failure and awaits no other.
    with pytest.raises(ProgramFailedError, match="uses access policies"):
        run_program(
            "dev",
            config=stack_config(keyVault={"existing": {"name": "kv-old", "resourceGroup": "rg"}}),
            mocks=AccessPolicyVault(preview=False),
        )
    # asyncio logs a failed future nothing awaited when it is freed: after the next run.
    run_program("dev")
    gc.collect()
    assert not [record.getMessage() for record in caplog.records if record.name == "asyncio"]
