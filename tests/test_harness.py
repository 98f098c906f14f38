"""What the recording harness leaves out of a run, and that nothing else changes for it."""

from __future__ import annotations

from typing import Any

from secretless_aks.offline.harness import RecordedGraph, RecordedResource, run_program


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
