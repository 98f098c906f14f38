"""The offline plan: the newcomer's main command on a machine without Azure."""

from __future__ import annotations

import pytest

from offline.harness import UNKNOWN, Secret
from offline.formats import display_value
from offline.plan import main


def test_plan_prints_every_resource_under_its_parent_and_counts_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prod"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Plan for stack prod of secretless-aks")
    assert " +   pulumi:pulumi:Stack" in out
    assert (
        " +      └─ azure-native:network:VirtualNetwork                network-vnet  [protect]"
        in out
    )
    assert "cluster-aks  [protect]" in out
    assert "    + 18 to create" in lines
    assert '    oidcIssuerUrl: "known after deploy"' in lines
    assert '    clusterName: "aks-secretless-prod"' in lines


def test_plan_details_show_inputs_with_unknowns_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "--details"]) == 0
    out = capsys.readouterr().out
    assert 'resourceName: "aks-secretless-dev"' in out
    assert 'roleAssignmentName: "known after deploy"' in out


def test_plan_names_the_known_stacks_when_asked_for_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["staging"]) == 1
    assert "no stack file Pulumi.staging.yaml; stacks here: dev, prod" in capsys.readouterr().err


def test_display_hides_secrets_and_names_unknowns() -> None:
    shown = display_value({"a": Secret("hunter2"), "b": [UNKNOWN, 1], "c": {"d": Secret({"x": 1})}})
    assert shown == {"a": "[secret]", "b": ["known after deploy", 1], "c": {"d": "[secret]"}}
