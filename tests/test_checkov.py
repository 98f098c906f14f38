"""What `make checkov` reads: every stack's Kubernetes objects, rendered, and the skips file."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

from secretless_aks.offline.harness import OFFLINE_STAND_IN, PROJECT_DIR
from secretless_aks.offline.render_manifests import render

RICH_STACK = PROJECT_DIR / "tests/stacks/Pulumi.rich.yaml"


def test_every_skip_names_a_kubernetes_check_and_says_why() -> None:
    skips = yaml.safe_load((PROJECT_DIR / "checkov/skips.yaml").read_text())
    assert skips, "an empty file would skip nothing: delete it instead"
    for check, reason in skips.items():
        assert re.fullmatch(r"CKV_K8S_\d+", check), check
        assert len(reason.split()) >= 8, f"{check}: say why it is skipped"


def test_the_rich_stack_renders_every_kind_the_program_declares(tmp_path: Path) -> None:
    written = render(str(RICH_STACK), tmp_path)
    assert written == tmp_path / "rich.yaml"
    objects = list(yaml.safe_load_all(written.read_text()))
    kinds = Counter(manifest["kind"] for manifest in objects)
    assert kinds == {
        # The services' four and the application teams' three, each with a deny-ingress policy.
        "Namespace": 7,
        "NetworkPolicy": 10,
        "ServiceAccount": 5,
        "Deployment": 5,
        "Service": 3,
        "AzureIdentity": 2,
        "AzureIdentityBinding": 2,
    }
    text = written.read_text()
    assert OFFLINE_STAND_IN not in text and "[secret:" not in text


def test_the_verifiers_jobs_are_rendered_beside_them_one_per_service(tmp_path: Path) -> None:
    render(str(RICH_STACK), tmp_path)
    jobs = list(yaml.safe_load_all((tmp_path / "rich.verify.yaml").read_text()))
    objects = list(yaml.safe_load_all((tmp_path / "rich.yaml").read_text()))
    deployments = [m for m in objects if m["kind"] == "Deployment"]
    assert {job["kind"] for job in jobs} == {"Job"}
    assert sorted(job["metadata"]["name"] for job in jobs) == sorted(
        f"secretless-verify-{d['metadata']['name']}" for d in deployments
    )


def test_a_stack_by_name_renders_its_own_stack_file(tmp_path: Path) -> None:
    objects = list(yaml.safe_load_all(render("dev", tmp_path).read_text()))
    assert [m["metadata"]["name"] for m in objects if m["kind"] == "Deployment"] == [
        "my-great-service"
    ]
