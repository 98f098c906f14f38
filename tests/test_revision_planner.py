"""The planner of other revisions: one warm child per process, a fresh copy of it per plan.

Each plan must see only its own revision's package, whatever was planned before it in the same
planner, and a plan that fails or a planner that dies must not stop the next plan."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretless_aks.offline import revision_planner
from secretless_aks.offline.baseline import BaselineError, plan_at_revision
from tests.git_copies import committed_copy

# HEAD~1 is the program as it is; HEAD names its workload "other".
GROUPS = {"HEAD~1": "rg-secretless-dev", "HEAD": "rg-other-dev"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = committed_copy(
        tmp_path_factory.mktemp("planner") / "repo", ("secretless_aks/", "__main__.py", "Pulumi.")
    )
    naming = repo / "secretless_aks" / "components" / "naming.py"
    naming.write_text(naming.read_text().replace('WORKLOAD = "secretless"', 'WORKLOAD = "other"'))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "commit", "-qam", "another workload name"], check=True)
    return repo


@pytest.fixture
def no_planner() -> Iterator[None]:
    """The test starts from no planner, and leaves none behind."""
    revision_planner.stop()
    yield
    revision_planner.stop()


def _group(repo: Path, revision: str) -> str:
    plan = plan_at_revision(revision, "dev", repo=repo)
    (group,) = [r for r in plan["resources"] if r["name"] == "environment"]
    return group["inputs"]["resourceGroupName"]


def _planner_pid() -> int:
    planner = revision_planner.running_planner()
    assert planner is not None
    return planner.pid


def test_one_planner_plans_each_revision_with_only_its_own_package(repo: Path) -> None:
    assert _group(repo, "HEAD") == GROUPS["HEAD"]
    pid = _planner_pid()
    assert _group(repo, "HEAD~1") == GROUPS["HEAD~1"]
    assert _group(repo, "HEAD") == GROUPS["HEAD"]
    assert _planner_pid() == pid


def test_a_failed_plan_leaves_the_planner_serving(repo: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    git = ["git", "-C", str(broken), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "broken"], check=True)
    assert _group(repo, "HEAD") == GROUPS["HEAD"]
    pid = _planner_pid()
    with pytest.raises(BaselineError, match=r"^cannot plan stack dev at HEAD: \S"):
        plan_at_revision("HEAD", "dev", repo=broken)
    assert _group(repo, "HEAD~1") == GROUPS["HEAD~1"]
    assert _planner_pid() == pid


def test_a_planner_that_died_is_replaced(repo: Path) -> None:
    assert _group(repo, "HEAD") == GROUPS["HEAD"]
    pid = _planner_pid()
    os.kill(pid, signal.SIGKILL)
    planner = revision_planner.running_planner()
    assert planner is not None
    assert planner.wait() == -signal.SIGKILL
    assert _group(repo, "HEAD~1") == GROUPS["HEAD~1"]
    assert _planner_pid() != pid


def test_without_fork_each_plan_has_a_planner_of_its_own(
    repo: Path, no_planner: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on Windows: the planner plans once, in itself, and exits."""
    monkeypatch.setattr(revision_planner, "FORKS", False)
    for revision in ["HEAD", "HEAD~1"]:
        assert _group(repo, revision) == GROUPS[revision]
        assert revision_planner.running_planner() is None
