"""The stack outputs contract: exports, README table and reader are one source of truth (the
consumer template reads it: tests/test_consumer.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from secretless_aks import contract
from secretless_aks.offline.harness import PROJECT_DIR, run_program
from tests.stack_configs import stack_config

SECRET = {"secure": "v1:AAAA"}
STACK_CONFIGS = {
    "dev": stack_config(),
    "prod": stack_config("prod"),
    "existing-vault-three-services": stack_config(
        keyVault={"existing": {"name": "kv-shared", "resourceGroup": "rg-sec"}},
        services=[
            {"name": "orders", "secretScope": ["Orders--Db"]},
            {"name": "payments", "binding": "both"},
            {"name": "legacy", "binding": "podIdentity"},
        ],
    ),
    "seeded-secrets": stack_config(secrets={"Identity": {"Secret": SECRET}}),
}


def shape_holds(spec: contract.OutputSpec, value: Any) -> bool:
    if spec.shape == "string":
        return isinstance(value, str) and value != ""
    if spec.shape == "integer":
        return isinstance(value, int)
    if spec.shape == "object":
        return isinstance(value, dict) and set(value) == set(spec.fields)
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


def test_services_output_lists_every_configured_service() -> None:
    graph = run_program("dev", config=STACK_CONFIGS["existing-vault-three-services"])
    assert set(graph.outputs["services"]) == {"orders", "payments", "legacy"}
    assert graph.outputs["services"]["legacy"]["binding"] == "podIdentity"


def test_readme_output_table_is_the_contract() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    table = readme.split("<!-- contract:begin -->")[1].split("<!-- contract:end -->")[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| (yes|no) \| ([^|]+) \|$", table, re.MULTILINE)
    documented = [
        (name, shape.strip(), secret == "yes", text.strip()) for name, shape, secret, text in rows
    ]
    expected = [
        (
            spec.name,
            spec.shape + (" {" + ", ".join(spec.fields) + "}" if spec.fields else ""),
            spec.secret,
            spec.description,
        )
        for spec in contract.OUTPUTS
    ]
    assert documented == expected


def test_export_refuses_outputs_that_drift_from_the_contract() -> None:
    with pytest.raises(contract.ContractError, match=r"missing \['kubeconfig'\]"):
        contract.export({name: "x" for name in contract.OUTPUT_NAMES if name != "kubeconfig"})
