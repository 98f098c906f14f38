"""The pull-request comment a reviewer reads: at GitHub's width, every change with its
operation, the inputs of what it creates, the outputs it changes, and a picture of only what
it touches; made locally with the same arguments as in CI."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from secretless_aks.offline.diff import diff_plans
from secretless_aks.offline.formats import neighbourhood, to_json
from secretless_aks.offline.harness import PROJECT_DIR, run_program
from secretless_aks.offline.pr_comment import WIDTH, build_comment, fold, shortened
from tests.git_copies import committed_copy

BILLING = {"name": "billing", "image": "ghcr.io/contoso/billing:1.0.0", "port": 8080}


@pytest.fixture(scope="module")
def second_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository at HEAD whose dev stack, uncommitted, adds a second service."""
    repo = committed_copy(
        tmp_path_factory.mktemp("repo"),
        ("secretless_aks/", "__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml"),
    )
    stack_file = repo / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["secretless-aks:services"].append(BILLING)
    document["config"]["secretless-aks:allowedRegistries"] = ["ghcr.io"]
    stack_file.write_text(yaml.safe_dump(document))
    return repo


@pytest.fixture(scope="module")
def comment(second_service: Path) -> str:
    return build_comment(["dev"], "HEAD", project_dir=second_service)


def table_and_block_lines(markdown: str) -> list[str]:
    """The lines of the comment's tables and of its plan blocks (not the picture's code)."""
    lines, fence = [], None
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = None if fence else line[3:] or "text"
            continue
        if (fence and fence != "mermaid") or (not fence and line.startswith("|")):
            lines.append(line)
    return lines


def test_every_table_and_plan_line_fits_githubs_width(comment: str) -> None:
    checked = table_and_block_lines(comment)
    assert len(checked) > 50
    too_wide = [line for line in checked if len(line) > WIDTH]
    assert too_wide == []


def test_every_change_shows_its_operation_first_and_its_name_in_full_below(
    comment: str, second_service: Path
) -> None:
    graph = run_program("dev", preview=True, project_dir=second_service)
    before = run_program("dev", preview=True)  # HEAD's dev stack, as the copy was committed
    changes = diff_plans(to_json(before), to_json(graph)).changes
    assert {change.op for change in changes} == {"create"}
    assert "### Stack `dev`: +10 to create" in comment
    for change in changes:
        name = change.resource["name"]
        assert re.search(
            rf"^\| `\+` create \| \w+ \| `{re.escape(shortened(name))}` \|$", comment, re.M
        )
        assert f"+ create {name}" in comment


def test_the_details_show_what_is_created_and_the_outputs_that_change(comment: str) -> None:
    block = "\n".join(table_and_block_lines(comment))
    # The Deployment's image and port, and the new grant's scope.
    assert 'image          : "ghcr.io/contoso/billing:1.0.0"' in block
    assert "containerPort: 8080" in block
    assert re.search(r"^ {4}scope +: output<string>$", block, re.M)
    # The service's outputs, and the grants its identity holds (serviceGrants).
    changed = comment.split("Outputs that change: ", 1)[1].split("\n", 1)[0]
    assert "`services.billing` (+)" in changed and "`serviceGrants.billing` (+)" in changed
    assert re.search(r"^Outputs:\n  \+ services\.billing *: \{", block, re.M)


def test_the_picture_holds_only_what_changes_and_its_neighbours(
    comment: str, second_service: Path
) -> None:
    graph = run_program("dev", preview=True, project_dir=second_service)
    picture = comment.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    drawn = set(re.findall(r'\["([^<"]+)<br/>', picture))
    changed = {
        r.urn
        for r in graph.resources
        if r.name.startswith(("svc-billing", "kubernetes-namespace-billing"))
    }
    expected = {
        r.name for r in graph.resources if r.custom and r.urn in neighbourhood(graph, changed)
    }
    assert drawn == expected
    assert "svc-billing-deployment" in drawn
    assert "network-vnet" not in drawn and "svc-my-great-service-deployment" not in drawn


def test_long_lines_fold_under_their_indent_and_long_names_shorten_in_the_middle() -> None:
    line = "    roleDefinitionId: " + "/segment" * 20
    pieces = fold(line)
    assert all(len(piece) <= WIDTH for piece in pieces)
    assert "".join(piece.strip() for piece in pieces) == line.strip().replace(" ", "")
    assert all(piece.startswith("        ") for piece in pieces[1:])
    name = "kubernetes-deployer-88888888-7777-4666-8555-444444444444-aks-rbac-cluster-admin"
    short = shortened(name)
    assert len(short) == 56 and short.startswith("kubernetes-deployer-") and short.endswith("admin")
    assert shortened("svc-billing") == "svc-billing"


def test_make_pr_comment_runs_the_module_with_the_same_arguments(tmp_path: Path) -> None:
    command = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(PROJECT_DIR),
            f"VENV={tmp_path}",
            "-n",
            "pr-comment",
            "STACKS=dev prod",
            "BASE=origin/main",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    assert command.split() == [
        f"{tmp_path}/bin/python",
        "-m",
        "secretless_aks.offline.pr_comment",
        "--base",
        "origin/main",
        "--stacks",
        "dev",
        "prod",
    ]
