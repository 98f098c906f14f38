"""`make audit-query STACK=<stack>`: the secret-read attribution query, with the stack's
services and their identities, from `pulumi stack output` or, without it, as placeholders."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from secretless_aks.offline import audit_query
from secretless_aks.offline.harness import PROJECT_DIR, RecordedGraph

GOLDEN = PROJECT_DIR / "tests" / "fixtures" / "audit-query-dev.kql"


def test_without_the_stacks_outputs_it_prints_the_golden_query_with_placeholders(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no pulumi
    assert audit_query.main(["dev"]) == 0
    out, err = capsys.readouterr()
    assert out == GOLDEN.read_text()
    assert err == (
        "-- the Pulumi CLI is not on PATH: the principal ids are placeholders; fill them in "
        "from the stack's services output\n"
    )
    # Over SecretGet operations, attributing each by the caller's object id.
    assert '| where OperationName == "SecretGet"' in out
    assert '"my-great-service", "<principal id of my-great-service>",' in out


def test_with_the_stacks_outputs_each_service_has_its_principal_id(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dev: RecordedGraph,
) -> None:
    (tmp_path / "outputs.json").write_text(json.dumps(dev.outputs))
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\ncat {tmp_path / 'outputs.json'}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    assert audit_query.main(["dev"]) == 0
    out, err = capsys.readouterr()
    principal = dev.outputs["services"]["my-great-service"]["principalId"]
    assert f'    "my-great-service", "{principal}",\n' in out
    assert err == "-- principal ids from `pulumi stack output -s dev`\n"


def test_make_audit_query_runs_it_for_the_stack() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(PROJECT_DIR), "audit-query", "STACK=prod"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().endswith("-m secretless_aks.offline.audit_query prod")
