"""The offline plan: the newcomer's main command on a machine without Azure."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from offline.diff import ResourceChange, diff_plans, plan_at_revision, render_diff
from offline.formats import display_value, render_dot, render_mermaid, to_json
from offline.harness import PROJECT_DIR, UNKNOWN, Secret, run_program
from offline.plan import main
from tests.stack_configs import stack_config


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
    assert "    + 17 to create" in lines
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


# --- formats and the structural diff -------------------------------------------------------

THREE_SERVICES = [
    {"name": "orders", "image": "ghcr.io/contoso/orders:1.0", "port": 8080},
    {"name": "payments", "binding": "both"},
    {"name": "reports", "keyVaultRole": "none"},
]


def plan(**changes: Any) -> dict[str, Any]:
    return to_json(run_program("dev", config=stack_config(**changes), preview=True))


def test_json_plan_holds_the_whole_graph_with_secrets_redacted() -> None:
    document = plan(secrets={"Db": {"Password": {"secure": "v1:cipher"}}})
    assert document["format"] == "secretless-aks-plan/1"
    (secret,) = [r for r in document["resources"] if r["type"] == "azure-native:keyvault:Secret"]
    value = secret["inputs"]["properties"]["value"]
    assert value.startswith("[secret:") and "cipher" not in value
    cluster = next(r for r in document["resources"] if r["name"] == "cluster-aks")
    assert cluster["parent"].endswith("::cluster")
    assert cluster["dependencies"] and cluster["propertyDependencies"]["identity"]
    assert cluster["inputs"]["identityProfile"]["kubeletidentity"]["clientId"] == (
        "known after deploy"
    )
    assert document["outputs"]["kubeconfig"] == "[secret]"
    json.dumps(document)  # serialisable as it is


def test_mermaid_picture_groups_by_component_and_stays_small_for_three_services() -> None:
    graph = run_program("dev", config=stack_config(services=THREE_SERVICES), preview=True)
    picture = render_mermaid(graph)
    assert picture.startswith("flowchart LR")
    assert '["svc-orders (ServiceIdentity)"]' in picture
    assert '["cluster (Cluster)"]' in picture
    # Every node is a custom resource; arrows never start at the resource group.
    environment = next(line for line in picture.splitlines() if '"environment<br/>' in line)
    node_id = environment.split("[")[0].strip()
    assert f"  {node_id} -->" not in picture
    assert picture.count("-->") < 3 * len(graph.resources)


def test_dot_picture_is_a_digraph_with_clusters() -> None:
    dot = render_dot(run_program("dev", preview=True))
    assert dot.startswith('digraph "secretless-aks-dev" {')
    assert 'label="cluster (Cluster)";' in dot
    assert dot.rstrip().endswith("}")


def _changes(
    before: dict[str, Any], after: dict[str, Any]
) -> dict[tuple[str, str], ResourceChange]:
    return {(c.kind, c.name): c for c in diff_plans(before, after)}


def test_diff_lists_an_added_service() -> None:
    changes = _changes(plan(), plan(services=[{"name": "orders"}]))
    assert ("add", "svc-orders-identity") in changes
    assert ("add", "svc-orders-federated-orders_orders") in changes
    assert all(kind == "add" for kind, _ in changes)


def test_diff_lists_a_removed_service() -> None:
    changes = _changes(plan(services=THREE_SERVICES), plan(services=THREE_SERVICES[:2]))
    removed = {name for kind, name in changes if kind == "remove"}
    assert "svc-reports-identity" in removed
    assert not any(name.startswith("svc-orders") for _, name in changes)


def test_diff_names_the_changed_properties() -> None:
    changes = _changes(plan(), plan(cluster={"nodeCount": 2, "nodeVmSize": "Standard_D4s_v5"}))
    cluster = changes[("change", "cluster-aks")]
    assert {(p.path, p.before, p.after) for p in cluster.properties} == {
        ("agentPoolProfiles[0].count", 1, 2),
        ("agentPoolProfiles[0].vmSize", "Standard_D2s_v5", "Standard_D4s_v5"),
    }
    assert set(changes) == {("change", "cluster-aks")}


def test_diff_shows_a_changed_secret_without_its_value() -> None:
    before = plan(secrets={"Db": {"Password": {"secure": "v1:first-ciphertext"}}})
    after = plan(secrets={"Db": {"Password": {"secure": "v1:second-ciphertext"}}})
    changes = diff_plans(before, after)
    (change,) = changes
    assert change.name == "keyvault-secret-db--password"
    text = render_diff(changes, against="main", stack="dev")
    assert "properties.value: [secret] => [secret]" in text
    assert "ciphertext" not in text and "[secret:" not in text
    assert text.endswith("0 to add, 1 to change, 0 to remove")


def test_no_changes_says_so_and_exits_zero_even_with_detailed_exitcode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "dev.json"
    saved.write_text(json.dumps(plan()))
    assert main(["dev", "--against", str(saved), "--detailed-exitcode"]) == 0
    assert "No changes to stack dev" in capsys.readouterr().out


def test_detailed_exitcode_reports_changes(tmp_path: Path) -> None:
    saved = tmp_path / "dev.json"
    saved.write_text(json.dumps(plan(protect=True)))
    assert main(["dev", "--against", str(saved), "--detailed-exitcode"]) == 2
    assert main(["dev", "--against", str(saved)]) == 0


def test_diff_against_a_git_revision_plans_that_revisions_program(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    tracked = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        if name.startswith(("components/", "offline/", "__main__.py", "Pulumi.", "platform_")):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(PROJECT_DIR / name, repo / name)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    before = plan_at_revision("HEAD", "dev", repo=repo)
    assert before["stack"] == "dev"
    assert diff_plans(before, plan()) == []
    assert plan_at_revision("HEAD", "staging", repo=repo) == {"resources": [], "outputs": {}}
