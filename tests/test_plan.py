"""The offline plan: the newcomer's main command on a machine without Azure, and the diff a
pull request shows. Changes are tested through the command, as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretless_aks.offline import baseline
from secretless_aks.offline.baseline import BaselineError, plan_at_revision, plans_at_revision
from secretless_aks.offline.diff import diff_plans
from secretless_aks.offline.formats import PLAN_FORMAT, render_dot, render_mermaid, to_json
from secretless_aks.offline.harness import PROJECT_DIR, UNKNOWN, Secret, run_program
from secretless_aks.offline.mocks import SIGNED_IN_ACCOUNT
from secretless_aks.offline.plan import main
from secretless_aks.offline.plan_values import encode
from tests.git_copies import committed_copy
from tests.stack_configs import stack_config

THREE_SERVICES = [
    {"name": "orders", "image": "ghcr.io/contoso/orders:1.0", "port": 8080},
    {"name": "payments", "binding": "both", "secretScope": ["Identity--Secret"]},
    {"name": "reports", "keyVaultRole": "none"},
]
BASE = {
    "services": THREE_SERVICES[:2],
    "secrets": {"Db": {"Password": {"secure": "v1:first-ciphertext"}}},
}
# What the program needs to run from another directory, with a stack file of the test's own.
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "secretless_aks")


class Project:
    """A copy of the program with its own Pulumi.dev.yaml, planned through the command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for name in PROGRAM_FILES:
            (root / name).symlink_to(PROJECT_DIR / name)

    def configure(self, **changes: Any) -> None:
        config = stack_config(**changes)
        (self.root / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))

    def plan(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        code = main(["dev", *args], project_dir=self.root)
        out, err = capsys.readouterr()
        return code, out, err


@pytest.fixture(scope="module")
def saved_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JSON plan of BASE, saved as a user would with --format json --output."""
    project = Project(tmp_path_factory.mktemp("base") / "project")
    project.configure(**BASE)
    saved = project.root.parent / "base.json"
    assert main(["dev", "--format", "json", "--output", str(saved)], project_dir=project.root) == 0
    return saved


def changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved: Path, *args: str, **config: Any
) -> tuple[int, str]:
    """The diff of BASE changed by `config`, through the command (the policy pack's verdict,
    printed under it, left out)."""
    project = Project(tmp_path / "project")
    project.configure(**{**BASE, **config})
    code, out, err = project.plan(capsys, "--against", str(saved), *args)
    # Text has the verdict under the diff; other formats print it to stderr.
    warnings, _, on_stderr = err.partition("Policies:\n")
    assert all(line.startswith("warning: ") for line in warnings.splitlines()), err
    diff, _, on_stdout = out.partition("\n\nPolicies:\n")
    assert (on_stdout or on_stderr).startswith("    secretless-aks (offline): ")
    return code, diff + "\n" if on_stdout else out


def cells(row: str) -> list[str]:
    """A table row's cells: symbol, type, name, plan, info (tree drawing left out)."""
    return [token for token in row.split() if token not in ("├─", "└─", "│")]


def assert_replaced(
    by_name: dict[str, dict[str, Any]], names: tuple[str, ...], *, because_of: str
) -> None:
    for name in names:
        assert by_name[name]["op"] == "replace", name
        assert because_of in by_name[name]["replaceReasons"], name


def ops(document: dict[str, Any]) -> dict[str, str]:
    return {change["name"]: change["op"] for change in document["changes"]}


# --- the plan ----------------------------------------------------------------------------


def test_plan_is_a_preview_table_in_program_order_with_counts_and_aligned_outputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prod"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Plan for stack prod of secretless-aks")
    header = next(line for line in lines if line.lstrip().startswith("Type"))
    assert header.split() == ["Type", "Name", "Plan", "Info"]
    rows = [cells(line) for line in lines if line.startswith(" +   ")]
    assert rows[0] == ["+", "pulumi:pulumi:Stack", "secretless-aks-prod", "create"]
    # Children in the order the program constructs them: the resource group first, the
    # network before the cluster that joins it.
    assert rows[1] == [
        "+",
        "azure-native:resources:ResourceGroup",
        "environment",
        "create",
        "[protect]",
    ]
    names = [row[2] for row in rows]
    assert names.index("network-vnet") < names.index("network-nodes") < names.index("cluster-aks")
    # 18 (the control plane's grants' propagation wait among them), the user pool and its two
    # maintenance configurations.
    assert lines[lines.index("Resources:") + 1] == "    + 31 to create"
    outputs = lines[lines.index("Outputs:") + 1 :]
    assert "    oidcIssuerUrl       : output<string>" in outputs
    assert '    clusterName         : "aks-secretless-prod"' in outputs
    assert "    kubeconfig          : [secret]" in outputs
    assert "    tenantId            : <mocked tenant id>" in outputs


def test_plan_details_print_nested_inputs_over_lines_in_key_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dev", "--details"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if "azure-native:network:VirtualNetwork" in line)
    block = [line.strip() for line in lines[at + 1 : at + 11]]
    assert block == [
        "addressSpace        : {",
        "addressPrefixes: [",
        '[0]: "10.40.0.0/16"',
        "]",
        "}",
        "enableDdosProtection: false",
        "enableVmProtection  : false",
        'location            : "westeurope"',
        'resourceGroupName   : "rg-secretless-dev"',
        'virtualNetworkName  : "vnet-secretless-dev"',
    ]
    assert any(line.strip() == "roleAssignmentName: output<string>" for line in lines)


def test_plan_names_the_known_stacks_when_asked_for_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["staging"]) == 1
    assert "no stack file Pulumi.staging.yaml; stacks here: dev, prod" in capsys.readouterr().err


def test_partly_known_outputs_show_their_known_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(tmp_path / "project")
    project.configure(services=THREE_SERVICES[:1])
    code, out, _ = project.plan(capsys)
    assert code == 0
    lines = out.splitlines()
    at = lines.index("    services            : {")
    assert lines[at + 1 : at + 10] == [
        "        orders: {",
        "            clientId          : output<string>",
        "            principalId       : output<string>",
        "            identityResourceId: output<string>",
        '            namespace         : "orders"',
        '            serviceAccount    : "orders"',
        '            binding           : "workloadIdentity"',
        "        }",
        "    }",
    ]


def test_program_order_is_the_same_run_after_run() -> None:
    config = stack_config(services=THREE_SERVICES, secrets=BASE["secrets"])
    orders = {
        tuple(r.urn for r in run_program("dev", config=config, preview=True).resources)
        for _ in range(5)
    }
    assert len(orders) == 1


# --- values in JSON: markers no script can take for real values -------------------------


def test_json_marks_unknowns_secrets_and_the_mocked_account_as_objects() -> None:
    document = to_json(run_program("dev", config=stack_config(**BASE), preview=True))
    assert document["format"] == "secretless-aks-plan/2"
    by_name = {r["name"]: r for r in document["resources"]}
    cluster = by_name["cluster-aks"]
    assert cluster["inputs"]["identityProfile"]["kubeletidentity"]["clientId"] == {
        "$plan": "unknown"
    }
    value = by_name["keyvault-secret-db--password"]["inputs"]["properties"]["value"]
    assert value["$plan"] == "secret" and set(value) == {"$plan", "digest"}
    assert "cipher" not in json.dumps(document)
    assert document["outputs"]["kubeconfig"] == {"$plan": "secret"}
    assert document["outputs"]["tenantId"] == {"$plan": "mocked", "value": "<mocked tenant id>"}
    assert document["outputs"]["services"]["orders"]["namespace"] == "orders"
    assert document["outputs"]["services"]["orders"]["clientId"] == {"$plan": "unknown"}
    text = json.dumps(document)
    for invented in SIGNED_IN_ACCOUNT.values():
        assert invented not in text, "an invented id shown as if real"


def test_a_value_that_looks_like_a_placeholder_is_still_just_a_value() -> None:
    digests = {"[secret:0123456789ab]": "0123456789ab"}
    assert encode("[secret:0123456789ab]", digests) == "[secret:0123456789ab]"
    assert encode("known after deploy", digests) == "known after deploy"
    assert encode(Secret("[secret:ffffffffffff]"), digests) == {"$plan": "secret"}
    assert encode(Secret("[secret:0123456789ab]"), digests) == {
        "$plan": "secret",
        "digest": "0123456789ab",
    }
    assert encode([UNKNOWN, {"a": Secret(1)}], {}) == [
        {"$plan": "unknown"},
        {"a": {"$plan": "secret"}},
    ]


# --- pictures ---------------------------------------------------------------------------


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


# --- the diff, as `pulumi preview` would show it -----------------------------------------


def test_a_region_move_replaces_everything_regional_and_cascades_to_what_hangs_off_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    code, out = changed(tmp_path, capsys, saved_base, "--format", "json", location="northeurope")
    assert code == 0
    document = json.loads(out)
    by_name = {change["name"]: change for change in document["changes"]}
    assert_replaced(
        by_name,
        (
            "environment",
            "cluster-aks",
            "cluster-controlplane-identity",
            "cluster-kubelet-identity",
            "svc-orders-identity",
        ),
        because_of="location",
    )
    # A vault's location is not create-only in its REST specification (azure-native plans a
    # move as an update, which Azure refuses); it is replaced because its group is, and under a
    # new name: the old one stays reserved while the deleted vault is soft-deleted.
    vault = by_name["keyvault-vault"]
    assert vault["op"] == "replace"
    assert vault["replaceReasons"] == ["resourceGroupName", "vaultName"]
    assert by_name["keyvault-suffix-northeurope"]["op"] == "create"
    assert by_name["keyvault-suffix-westeurope"]["op"] == "delete"
    location = next(p for p in vault["properties"] if p["path"] == "location")
    assert location["forcesReplacement"] is False
    # Cascades: a new identity's principal id replaces its grants, a new identity's name
    # its federated credentials, a new cluster's kubeconfig the provider and its objects.
    grant = by_name["svc-orders-key-vault-secrets-user-on-vault"]
    assert grant["op"] == "replace" and "principalId" in grant["replaceReasons"]
    principal = next(p for p in grant["properties"] if p["path"] == "principalId")
    assert principal["after"] == {"$plan": "unknown"} and principal["from"] == "svc-orders-identity"
    credential = by_name["svc-orders-federated-orders_orders"]
    assert credential["op"] == "replace" and "resourceName" in credential["replaceReasons"]
    assert by_name["kubernetes-provider"]["op"] == "replace"
    assert by_name["svc-orders-deployment"]["replaceReasons"] == ["provider"]
    # The published contract names the new region: an update of the document.
    assert by_name["contract"]["op"] == "update"
    assert set(ops(document).values()) == {"create", "update", "replace", "delete"}
    assert document["summary"] == {
        "create": 1,
        "update": 1,
        "replace": 37,
        "delete": 1,
        "same": 10,
    }


def test_a_region_move_reads_as_a_teardown_in_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    _, out = changed(tmp_path, capsys, saved_base, location="northeurope")
    lines = out.splitlines()
    row = next(line for line in lines if "azure-native:resources:ResourceGroup" in line)
    assert cells(row) == [
        "+-",
        "azure-native:resources:ResourceGroup",
        "environment",
        "replace",
        "[diff:",
        "~location]",
    ]
    assert lines[lines.index(row) + 1].strip() == '+- location: "westeurope" => "northeurope"'
    # Pulumi's own words: one kind of change prints no total, and `+-` has no space after it.
    summary = lines.index("Resources:")
    assert lines[summary : summary + 7] == [
        "Resources:",
        "    + 1 to create",
        "    ~ 1 to update",
        "    - 1 to delete",
        "    +-37 to replace",
        "    40 changes. 10 unchanged",
        "",
    ]
    # The outputs other projects read change too, and the diff ends by saying so.
    outputs = lines[summary + 7 :]
    assert outputs[0] == "Outputs:"
    assert outputs[1:] == ['  ~ location: "westeurope" => "northeurope"']


def test_a_service_rename_deletes_the_old_and_creates_the_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    renamed = [{**THREE_SERVICES[0], "name": "shop"}, THREE_SERVICES[1]]
    _, out = changed(tmp_path, capsys, saved_base, "--format", "json", services=renamed)
    document = json.loads(out)
    by_op: dict[str, set[str]] = {}
    for name, op in ops(document).items():
        by_op.setdefault(op, set()).add(name)
    assert "svc-orders-identity" in by_op["delete"] and "svc-shop-identity" in by_op["create"]
    assert "kubernetes-namespace-shop" in by_op["create"]
    assert set(by_op) == {"create", "delete"}
    assert document["summary"] == {
        "create": 10,
        "update": 0,
        "replace": 0,
        "delete": 10,
        "same": 39,
    }


def test_a_namespace_change_replaces_the_kubernetes_objects_in_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    moved = [{**THREE_SERVICES[0], "namespace": "shop"}, THREE_SERVICES[1]]
    _, out = changed(tmp_path, capsys, saved_base, "--format", "json", services=moved)
    document = json.loads(out)
    by_name = {change["name"]: change for change in document["changes"]}
    assert_replaced(
        by_name,
        (
            "svc-orders-service-account",
            "svc-orders-deployment",
            "svc-orders-service",
            "svc-orders-allow-ingress",
        ),
        because_of="metadata.namespace",
    )
    assert by_name["kubernetes-namespace-shop"]["op"] == "create"
    assert by_name["kubernetes-namespace-orders"]["op"] == "delete"
    assert document["summary"] == {"create": 3, "update": 0, "replace": 4, "delete": 3, "same": 42}


def test_an_image_change_is_one_update(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    bumped = [{**THREE_SERVICES[0], "image": "ghcr.io/contoso/orders:1.1"}, THREE_SERVICES[1]]
    code, out = changed(tmp_path, capsys, saved_base, "--detailed-exitcode", services=bumped)
    assert code == 2
    lines = out.splitlines()
    row = next(line for line in lines if "kubernetes:apps/v1:Deployment" in line)
    assert cells(row) == [
        "~",
        "kubernetes:apps/v1:Deployment",
        "svc-orders-deployment",
        "update",
        "[diff:",
        "~spec]",
    ]
    assert lines[lines.index(row) + 1].strip() == (
        '~ spec.template.spec.containers[0].image: "ghcr.io/contoso/orders:1.0" => '
        '"ghcr.io/contoso/orders:1.1"'
    )
    assert lines[-3:] == ["Resources:", "    ~ 1 to update", "    48 unchanged"]


def test_an_added_secret_is_one_create_and_a_changed_one_shows_no_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    secrets = {
        "Db": {"Password": {"secure": "v1:second-ciphertext"}},
        "Api": {"Key": {"secure": "v1:api-ciphertext"}},
    }
    _, out = changed(tmp_path, capsys, saved_base, secrets=secrets)
    assert "ciphertext" not in out and "[secret:" not in out
    lines = out.splitlines()
    assert ["+", "azure-native:keyvault:Secret", "keyvault-secret-api--key", "create"] in [
        cells(line) for line in lines
    ]
    assert "properties.value: [secret] => [secret]" in out
    assert lines[-4:] == [
        "Resources:",
        "    + 1 to create",
        "    ~ 1 to update",
        "    2 changes. 48 unchanged",
    ]


def test_no_changes_says_so_and_exits_zero_even_with_detailed_exitcode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    code, out = changed(tmp_path, capsys, saved_base, "--detailed-exitcode")
    assert code == 0
    assert out.splitlines()[0] == f"No changes to stack dev against {saved_base}."


def test_the_plan_warns_of_pod_identity_and_advises_against_images_a_push_can_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(tmp_path / "project")
    pinned = "ghcr.io/contoso/orders@sha256:" + "1" * 64
    project.configure(
        services=[
            {"name": "orders", "image": pinned},
            {
                "name": "legacy",
                "binding": "podIdentity",
                "image": "ghcr.io/contoso/legacy:7.0",
                "secretScope": ["Identity--Secret"],
            },
        ]
    )
    code, out, err = project.plan(capsys)
    assert code == 0
    assert err.splitlines() == [
        "warning: secretless-aks:services[1] (legacy) uses AAD Pod Identity: archived since 2023 "
        "with no release, its NMI runs with host networking on every node; move it to "
        "workloadIdentity (docs/security.md: moving a service from pod identity)",
        "warning: secretless-aks:services[0] (orders) sets no secretScope, so its identity reads "
        'every secret in the vault; name the secrets it reads, or write secretScope: ["*"] to '
        "say vault-wide on purpose",
        "warning: monitoring is off: the vault's and the cluster's audit logs are kept nowhere, "
        "so no one can tell which service read which secret (secretless-aks:monitoring; "
        "docs/audit/secret-reads.kql)",
    ]
    # The policy pack's advice, under the plan: the tag only, not the digest; the vault-wide
    # grant of the service that names no secrets.
    scoped = [line for line in out.splitlines() if "key-vault-scoped-access" in line]
    assert scoped == [
        "        - [advisory]  key-vault-scoped-access  "
        "(azure-native:authorization:RoleAssignment: svc-orders-key-vault-secrets-user-on-vault)"
    ]
    advice = [line for line in out.splitlines() if "image-pinned-by-digest" in line]
    assert advice == [
        "        - [advisory]  image-pinned-by-digest-advisory  "
        "(kubernetes:apps/v1:Deployment: svc-legacy-deployment)"
    ]


def test_the_plan_warns_that_a_teams_delegation_needs_its_group_listed_in_bootstrap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(tmp_path / "project")
    group = "2b7c9e4f-1a3d-4c5e-8f6a-9b0c1d2e3f40"
    project.configure(
        appTeams=[
            {"name": "search", "groupObjectId": group.replace("2b", "3c"), "namespaces": ["s"]},
            {
                "name": "payments",
                "groupObjectId": group,
                "namespaces": ["payments"],
                "platformVaultSecrets": ["Payments--ApiKey"],
            },
        ]
    )
    code, _, err = project.plan(capsys)
    assert code == 0
    # Besides dev's image, which the first build has not made yet.
    assert [line for line in err.splitlines() if "names no image yet" not in line] == [
        "warning: secretless-aks:appTeams[1] (payments) sets platformVaultSecrets: CI's deploy "
        f"identity may make group {group} a Role Based Access Control Administrator only once "
        "bootstrap:appTeams lists the team, with this group, for this stack's environment (an "
        "Owner runs the bootstrap again); until then pulumi up fails with AuthorizationFailed",
        "warning: monitoring is off: the vault's and the cluster's audit logs are kept nowhere, "
        "so no one can tell which service read which secret (secretless-aks:monitoring; "
        "docs/audit/secret-reads.kql)",
    ]


# --- the command line ---------------------------------------------------------------------


def test_output_writes_any_format_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("text", "json", "mermaid"):
        target = tmp_path / f"plan.{fmt}"
        assert main(["dev", "--format", fmt, "--output", str(target)]) == 0
        out, err = capsys.readouterr()
        assert out == "" and err.splitlines()[-1] == f"wrote {target}"
        assert target.read_text().strip()
    assert json.loads((tmp_path / "plan.json").read_text())["stack"] == "dev"


def test_detailed_exitcode_without_against_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dev", "--detailed-exitcode"])
    assert exited.value.code == 1  # a usage error, never "changes"
    assert "--detailed-exitcode needs --against" in capsys.readouterr().err


@pytest.mark.parametrize(
    "against", ["--output=/tmp/x", "-h", "no-such-branch", "HEAD~100000", "HEAD:README.md"]
)
def test_against_refuses_what_is_not_a_revision_or_a_saved_plan(
    against: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", f"--against={against}"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"error: {against!r} is not a git revision or a saved plan file"


def test_against_refuses_a_plan_saved_in_another_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "secretless-aks-plan/1", "resources": []}))
    assert main(["dev", "--against", str(old)]) == 1
    err = capsys.readouterr().err
    assert "is not a saved plan of this version (format 'secretless-aks-plan/1'" in err


def test_diff_against_a_git_revision_plans_that_revisions_program(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo", ("secretless_aks/", "__main__.py", "Pulumi."))
    before = plan_at_revision("HEAD", "dev", repo=repo)
    assert before == to_json(run_program("dev", preview=True, project_dir=repo))
    assert plan_at_revision("HEAD", "staging", repo=repo)["resources"] == []


def test_a_revision_is_planned_with_its_own_package_not_the_harnesss(tmp_path: Path) -> None:
    repo = committed_copy(tmp_path / "repo", ("secretless_aks/", "__main__.py", "Pulumi."))
    naming = repo / "secretless_aks" / "components" / "naming.py"
    naming.write_text(naming.read_text().replace('WORKLOAD = "secretless"', 'WORKLOAD = "other"'))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "commit", "-qam", "another workload name"], check=True)
    before = plan_at_revision("HEAD", "dev", repo=repo)
    (group,) = [r for r in before["resources"] if r["name"] == "environment"]
    assert group["inputs"]["resourceGroupName"] == "rg-other-dev"


def test_the_stacks_of_a_revision_are_planned_in_one_process_each_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = committed_copy(tmp_path / "repo", ("secretless_aks/", "__main__.py", "Pulumi."))
    (repo / "Pulumi.broken.yaml").write_text("config: [unclosed\n")
    (repo / "Pulumi.failing.yaml").write_text(
        yaml.safe_dump({"config": {**stack_config(), "secretless-aks:services": "not a list"}})
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "two stacks that do not plan"], check=True)
    children: list[list[str]] = []
    run = subprocess.run

    def counted(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        if command[0] == sys.executable:
            children.append(command)
        return run(command, **options)

    monkeypatch.setattr(baseline.subprocess, "run", counted)
    stacks = ["broken", "dev", "staging", "failing", "prod"]
    plans = plans_at_revision("HEAD", stacks, repo=repo)
    assert len(children) == 1  # staging is new: no stack file at HEAD, nothing to plan
    assert list(plans) == stacks
    assert plans["staging"] == {
        "format": PLAN_FORMAT,
        "stack": "staging",
        "resources": [],
        "outputs": {},
    }
    for stack in ("dev", "prod"):
        assert plans[stack] == to_json(run_program(stack, preview=True, project_dir=repo))
    broken, failing = plans["broken"], plans["failing"]
    assert isinstance(broken, BaselineError)
    assert str(broken).startswith("cannot plan stack broken at HEAD: Pulumi.broken.yaml")
    assert isinstance(failing, BaselineError)
    assert str(failing).startswith("cannot plan stack failing at HEAD: ")
    assert "services" in str(failing)


# The last commit before the package: its program imports `components` and `platform_contract`
# from the repository's root, which the harness in `secretless_aks` must leave it to find.
BEFORE_THE_PACKAGE = "b650adb628817592828a6e98edb634b51f8ad4c7"


def test_diff_against_a_revision_from_before_the_package_plans_that_revisions_program(
    capsys: pytest.CaptureFixture[str],
) -> None:
    present = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "cat-file", "-e", f"{BEFORE_THE_PACKAGE}^{{commit}}"],
        check=False,
    )
    if present.returncode != 0:
        pytest.skip(f"{BEFORE_THE_PACKAGE} is not in this clone (a shallow one)")
    # 1 would be an error (the old program failing to import its modules); 0 or 2 is a diff,
    # whatever later commits change in dev's graph.
    assert main(["dev", "--against", BEFORE_THE_PACKAGE, "--detailed-exitcode"]) in (0, 2)
    assert "\nResources:\n" in capsys.readouterr().out


# --- the exit codes README.md states, each tested ----------------------------------------------


def test_the_exit_codes_the_readme_states(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    saved_base: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readme = " ".join((PROJECT_DIR / "README.md").read_text().split())
    assert (
        "exits 0 when nothing changes, 2 when something does, and 1 on an error, a usage error "
        "or a mandatory policy violation"
    ) in readme
    project = Project(tmp_path / "project")
    project.configure(**BASE)
    assert project.plan(capsys, "--against", str(saved_base), "--detailed-exitcode")[0] == 0
    project.configure(**{**BASE, "services": THREE_SERVICES})
    assert project.plan(capsys, "--against", str(saved_base), "--detailed-exitcode")[0] == 2
    with pytest.raises(SystemExit) as usage:
        project.plan(capsys, "--no-such-option")
    assert usage.value.code == 1  # a usage error, never "changes"
    project.configure(**{**BASE, "services": [{"name": "Orders"}]})
    assert project.plan(capsys)[0] == 1  # an error: the stack file is refused
    # A mandatory violation stops the plan too (the configuration refuses what it can know;
    # this stands in for a rule broken all the same).
    from policy.secretless_policy import Level, Violation

    violation = Violation("a-rule", Level.MANDATORY, "urn:x", "y")
    monkeypatch.setattr(
        "secretless_aks.offline.plan.policy_verdict",
        lambda *_: ("Policies: 1 mandatory", [violation]),
    )
    project.configure(**BASE)
    assert project.plan(capsys)[0] == 1


def test_adding_a_service_shows_what_it_creates_and_the_output_it_adds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], saved_base: Path
) -> None:
    # BASE has orders and payments; a third service, with an image and a port.
    billing = {"name": "billing", "image": "ghcr.io/contoso/billing:1.0.0", "port": 9090}
    code, out = changed(
        tmp_path, capsys, saved_base, "--details", services=[*THREE_SERVICES[:2], billing]
    )
    assert code == 0
    lines = out.splitlines()
    deployment = next(i for i, line in enumerate(lines) if "svc-billing-deployment" in line)
    created = lines[deployment : deployment + 80]
    assert any('image          : "ghcr.io/contoso/billing:1.0.0"' in line for line in created)
    assert any("containerPort: 9090" in line for line in created)
    grant = next(i for i, line in enumerate(lines) if "svc-billing-key-vault-secrets-user" in line)
    assert any(line.strip().startswith("scope ") for line in lines[grant : grant + 8])
    outputs = lines[lines.index("Outputs:") :]
    # The service's own outputs, and the grants its identity holds (names aligned).
    assert re.match(r"  \+ services\.billing *: \{", outputs[1]), outputs[1]
    assert any(re.match(r"  \+ serviceGrants\.billing *: \[", line) for line in outputs)
    assert '        namespace         : "billing"' in outputs


def test_the_plan_refuses_removing_a_protected_service_and_names_the_two_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protected = {**BASE, "protect": True, "services": [THREE_SERVICES[1]]}
    before = Project(tmp_path / "before")
    before.configure(**protected)
    saved = tmp_path / "before.json"
    assert before.plan(capsys, "--format", "json", "--output", str(saved))[0] == 0
    after = Project(tmp_path / "after")
    after.configure(**{**protected, "services": []})
    code, _, err = after.plan(capsys, "--against", str(saved))
    assert code == 1
    refusals = [line for line in err.splitlines() if line.startswith("error: refused: ")]
    assert refusals == [
        "error: refused: svc-payments-identity (azure-native:managedidentity:"
        "UserAssignedIdentity) is protected (protect: true), and this change would delete it: "
        "`pulumi up` would stop there, half-way. Take two steps: first set retire: true on "
        "service payments and deploy, which only drops its protection; then make this change "
        "(docs/operations.md, Removing a protected service)"
    ]
    retiring = Project(tmp_path / "retiring")
    retiring.configure(**{**protected, "services": [{**THREE_SERVICES[1], "retire": True}]})
    assert retiring.plan(capsys, "--against", str(saved))[0] == 0


def test_the_plan_warns_of_a_scope_entry_this_stack_does_not_seed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = Project(tmp_path / "project")
    project.configure(
        services=[{"name": "orders", "secretScope": ["Orders--Db", "Identity--Secret"]}]
    )
    _, _, err = project.plan(capsys)
    assert (
        "warning: secretless-aks:services[0] (orders) secretScope names Orders--Db, which this "
        "stack does not seed: it must already be in the vault (Azure refuses a role on a "
        "secret that does not exist), put there some other way, or the grant fails and the "
        "app gets 403"
    ) in err.splitlines()
    assert "Identity--Secret, which this stack does not seed" not in err


# The last commit before the vault's suffix was kept per region (issue 29).
BEFORE_THE_REGIONAL_SUFFIX = "e3e24fc5ba3fbcf89f118285a2fd5d50bee8e086"


@pytest.fixture(scope="module")
def before_the_regional_suffix() -> dict[str, dict[str, Any] | BaselineError]:
    present = subprocess.run(
        [
            "git",
            "-C",
            str(PROJECT_DIR),
            "cat-file",
            "-e",
            f"{BEFORE_THE_REGIONAL_SUFFIX}^{{commit}}",
        ],
        check=False,
    )
    if present.returncode != 0:
        pytest.skip(f"{BEFORE_THE_REGIONAL_SUFFIX} is not in this clone (a shallow one)")
    return plans_at_revision(BEFORE_THE_REGIONAL_SUFFIX, ["dev", "prod"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_upgrading_the_program_replaces_no_deployed_vault(
    stack: str, before_the_regional_suffix: dict[str, dict[str, Any] | BaselineError]
) -> None:
    before = before_the_regional_suffix[stack]
    assert not isinstance(before, BaselineError), before
    diff = diff_plans(before, to_json(run_program(stack, preview=True)))
    ops = {change.resource["name"]: change.op for change in diff.resources}
    # The suffix is taken over by alias: the vault and its name stay as they are.
    assert ops["keyvault-vault"] == "same"
    assert ops["keyvault-suffix-westeurope"] == "same"
    assert "keyvault-suffix" not in ops
