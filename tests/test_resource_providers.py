"""The resource providers a subscription must have registered: the list follows from what the
platform declares, and the deploy workflow's check names the command to run."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path

import pytest

from secretless_aks.components import resource_providers
from secretless_aks.offline.harness import run_program
from tests.stack_configs import RICH_CONFIG

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000d1"


def test_the_platform_list_is_what_the_richest_stack_declares() -> None:
    graph = run_program("dev", config=RICH_CONFIG, preview=True)
    declared = [r.type for r in graph.resources if r.custom and r.type.startswith("azure-native:")]
    assert resource_providers.required(declared) == resource_providers.PLATFORM
    assert not set(resource_providers.PLATFORM) & resource_providers.REGISTERED_BY_DEFAULT


def fake_az(tmp_path: Path, registered: Collection[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An `az` on the PATH that answers `az provider show` from `registered`."""
    script = tmp_path / "az"
    script.write_text(
        "#!/bin/sh\n"
        "for namespace in " + " ".join(sorted(registered)) + "; do\n"
        '  [ "$4" = "$namespace" ] && echo Registered && exit 0\n'
        "done\n"
        "echo NotRegistered\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


def test_the_check_passes_when_every_namespace_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_az(tmp_path, set(resource_providers.PLATFORM), monkeypatch)
    assert resource_providers.main(["--subscription", SUBSCRIPTION]) == 0


def test_the_check_fails_with_the_command_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    registered = set(resource_providers.PLATFORM) - {"Microsoft.ContainerService"}
    fake_az(tmp_path, registered, monkeypatch)
    assert resource_providers.main(["--subscription", SUBSCRIPTION]) == 1
    assert capsys.readouterr().err == (
        "::error::not registered; an Owner runs: az provider register --namespace "
        f"Microsoft.ContainerService --subscription {SUBSCRIPTION}\n"
    )
