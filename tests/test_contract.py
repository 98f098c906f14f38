"""The stack outputs contract: exports, the table in docs/contract.md and reader are one
source of truth (the consumer template reads it: tests/test_consumer.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from secretless_aks import contract
from secretless_aks.offline.harness import (
    PROJECT_DIR,
    ProgramFailedError,
    RecordedGraph,
    run_program,
)
from secretless_aks.offline.mocks import AzureMocks, ReferencedStack
from tests.stack_configs import stack_config

SECRET = {"secure": "v1:AAAA"}
STACK_CONFIGS = {
    "dev": stack_config(),
    "prod": stack_config("prod"),
    "existing-vault-three-services": stack_config(
        keyVault={"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}},
        services=[
            {"name": "orders", "secretScope": ["Orders--Db"]},
            {"name": "payments", "binding": "both", "secretScope": ["Identity--Secret"]},
            {"name": "legacy", "binding": "podIdentity", "secretScope": ["Identity--Secret"]},
        ],
    ),
    "seeded-secrets": stack_config(secrets={"Identity": {"Secret": SECRET}}, generatedSecrets=None),
    "app-teams": stack_config(
        appTeams=[
            {
                "name": "payments",
                "groupObjectId": "2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40",
                "namespaces": ["payments", "payments-jobs"],
            }
        ]
    ),
}


def shape_holds(spec: contract.OutputSpec, value: Any) -> bool:
    if spec.shape == "string":
        return isinstance(value, str) and value != ""
    if spec.shape == "integer":
        return isinstance(value, int)
    if spec.shape == "object":
        return isinstance(value, dict) and set(value) == set(spec.fields)
    if spec.shape == "map of grant lists":
        return isinstance(value, dict) and all(
            isinstance(entry, list)
            and all(isinstance(item, dict) and set(item) == set(spec.fields) for item in entry)
            for entry in value.values()
        )
    if spec.shape == "map of lists":
        return isinstance(value, dict) and all(
            isinstance(entry, list) and all(isinstance(item, str) for item in entry)
            for entry in value.values()
        )
    return isinstance(value, dict) and all(
        isinstance(entry, dict) and set(entry) == set(spec.fields) for entry in value.values()
    )


@pytest.mark.parametrize("name", STACK_CONFIGS)
def test_exports_match_the_contract_in_names_shapes_and_secrecy(name: str) -> None:
    graph = run_program("prod" if name == "prod" else "dev", config=STACK_CONFIGS[name])
    assert tuple(graph.outputs) == contract.OUTPUT_NAMES
    for spec in contract.OUTPUTS:
        assert shape_holds(spec, graph.outputs[spec.name]), (spec.name, graph.outputs[spec.name])
    assert graph.secret_outputs == {s.name for s in contract.OUTPUTS if s.secret}
    assert graph.outputs["contractVersion"] == contract.CONTRACT_VERSION
    assert graph.outputs["contractMinorVersion"] == contract.CONTRACT_MINOR_VERSION


def test_app_teams_output_lists_each_teams_namespaces_in_order() -> None:
    graph = run_program("dev", config=STACK_CONFIGS["app-teams"])
    assert graph.outputs["appTeams"] == {"payments": ["payments", "payments-jobs"]}


def test_a_minor_version_only_adds_outputs() -> None:
    # What a 1.0 reader knows is still there, unchanged; a reader of 1.0 stacks reads the
    # additions as empty.
    assert contract.CONTRACT_VERSION == 1
    assert set(contract.SUPPORTED_CONTRACT_VERSIONS) == {1}
    added = {spec.name: spec.since for spec in contract.OUTPUTS if spec.since > 0}
    assert added == {
        "contractMinorVersion": 1,
        "appTeams": 1,
        "registryLoginServer": 2,
        "serviceGrants": 3,
    }
    assert max(added.values()) == contract.CONTRACT_MINOR_VERSION
    assert not any(spec.secret for spec in contract.OUTPUTS if spec.name in added)


def test_services_output_lists_every_configured_service() -> None:
    graph = run_program("dev", config=STACK_CONFIGS["existing-vault-three-services"])
    assert set(graph.outputs["services"]) == {"orders", "payments", "legacy"}
    assert graph.outputs["services"]["legacy"]["binding"] == "podIdentity"


def test_the_contract_pages_output_table_is_the_contract() -> None:
    readme = (PROJECT_DIR / "docs" / "contract.md").read_text()
    table = readme.split("<!-- contract:begin -->")[1].split("<!-- contract:end -->")[0]
    rows = re.findall(
        r"^\| `(\w+)` \| ([^|]+) \| (yes|no) \| ([\d.]+) \| ([^|]+) \|$", table, re.MULTILINE
    )
    documented = [
        (name, shape.strip(), secret == "yes", since, text.strip())
        for name, shape, secret, since, text in rows
    ]
    expected = [
        (
            spec.name,
            spec.shape + (" {" + ", ".join(spec.fields) + "}" if spec.fields else ""),
            spec.secret,
            spec.version,
            spec.description,
        )
        for spec in contract.OUTPUTS
    ]
    assert documented == expected


def test_export_refuses_outputs_that_drift_from_the_contract() -> None:
    with pytest.raises(contract.ContractError, match=r"missing \['kubeconfig'\]"):
        contract.export({name: "x" for name in contract.OUTPUT_NAMES if name != "kubeconfig"})


# --- reading 1.3 (serviceGrants), and what older stacks give ------------------------------------

READER = """
import pulumi
from secretless_aks import PlatformStack

platform = PlatformStack("organization/secretless-aks/dev")
pulumi.export("minor", platform.contract_minor_version)
pulumi.export(
    "grants",
    platform.service_grants.apply(
        lambda services: {
            name: [[grant.resource, grant.role] for grant in grants]
            for name, grants in services.items()
        }
    ),
)
"""


def read_through_the_contract(tmp_path: Path, outputs: dict[str, Any]) -> RecordedGraph:
    """A program that reads a platform stack with `outputs` through PlatformStack."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: reader\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(READER)
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    mocks = AzureMocks(preview=False, any_stack=ReferencedStack(outputs=outputs))
    return run_program("dev", mocks=mocks, project_dir=tmp_path)


def test_a_1_3_stack_lists_each_services_grants(tmp_path: Path) -> None:
    platform = run_program("dev", config=STACK_CONFIGS["existing-vault-three-services"])
    grants = platform.outputs["serviceGrants"]
    vault = platform.outputs["keyVaultResourceId"]
    assert grants["orders"] == [
        {"resource": f"{vault}/secrets/Orders--Db", "role": "Key Vault Secrets User"}
    ]
    read = read_through_the_contract(tmp_path, dict(platform.outputs))
    assert read.outputs["minor"] == 3
    assert read.outputs["grants"]["orders"] == [
        [f"{vault}/secrets/Orders--Db", "Key Vault Secrets User"]
    ]


def test_a_1_2_stack_has_no_grants_to_read_and_a_1_3_stack_must_have_them(
    tmp_path: Path,
) -> None:
    platform = run_program("dev")
    older = {name: value for name, value in platform.outputs.items() if name != "serviceGrants"}
    read = read_through_the_contract(tmp_path / "1.2", {**older, "contractMinorVersion": 2})
    assert read.outputs == {"minor": 2, "grants": {}}
    with pytest.raises(ProgramFailedError) as failed:
        read_through_the_contract(tmp_path / "1.3", older)
    assert str(failed.value.error) == (
        "stack 'organization/secretless-aks/dev' does not export 'serviceGrants', which "
        "contract version 1.3 requires"
    )
