"""The consumer template (examples/consumer), an application project that reads the platform
through its outputs contract: planned offline against the outputs the platform's own run
records and against a saved v1 outputs file, so that a contract change that breaks consumers
fails here; and planned from a copy outside the repository, as a team uses it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

import secretless_aks
from secretless_aks import contract
from secretless_aks.offline.formats import to_json
from secretless_aks.offline.harness import PROJECT_DIR, RecordedGraph, run_program
from secretless_aks.offline.plan import main
from secretless_aks.offline.plan_values import encode
from tests.consumer_template import (
    CONSUMER,
    TEMPLATE_WHEEL,
    UV,
    copied_template,
    locked_package,
    wheel,
)
from tests.locks import locked_versions
from tests.stack_configs import stack_config
from tests.test_contract import shape_holds

SAMPLE = CONSUMER / "sample-outputs.json"
# The outputs of a v1 platform, as `pulumi stack output --json --show-secrets` printed them:
# kept as they are, so that every later platform and package still serves such a consumer.
SAVED_V1 = PROJECT_DIR / "tests" / "contract" / "outputs-v1.json"
PLATFORM_STACK = "organization/secretless-aks/dev"
# What the dev stack (Pulumi.dev.yaml) creates, by type.
EXPECTED = {
    "azure-native:managedidentity:UserAssignedIdentity": 1,
    "azure-native:managedidentity:FederatedIdentityCredential": 1,
    "azure-native:keyvault:Vault": 1,
    "azure-native:keyvault:Secret": 1,
    # The identity's Key Vault Secrets User, and the deployer's Officer to seed the secret.
    "azure-native:authorization:RoleAssignment": 2,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:apps/v1:Deployment": 1,
    # Its team's namespace, which the platform made.
    "kubernetes:core/v1:Namespace": 0,
}
# The consumer's team, as the platform's stack file would declare it.
INVOICES_TEAM = {
    "name": "invoices",
    "groupObjectId": "4d9e1a6b-3c5f-4e7a-8b9c-1d2e3f4a5b62",
    "namespaces": ["invoices"],
}


# The template's dev stack reads the platform's published contract; these keys make it read
# the platform stack itself instead.
THROUGH_STACK_REFERENCE = {
    "secretless-aks-consumer:platformSource": "stackReference",
    "secretless-aks-consumer:platformStack": PLATFORM_STACK,
    "secretless-aks-consumer:platformContract": None,
}
# The three ways a consumer reads the platform: the contract its environment publishes (as
# the platform's own run writes it), a stack reference to the platform's outputs as its run
# records them now, and one to the outputs a v1 platform had.
SOURCES = ("published", "recorded", "saved-v1")


def through_stack_reference(project: Path, into: Path) -> Path:
    """`project` with its dev stack reading the platform stack (platformSource:
    stackReference), in `into`."""
    into.mkdir(exist_ok=True)
    for name in ("__main__.py", "Pulumi.yaml"):
        (into / name).symlink_to(project / name)
    config = yaml.safe_load((project / "Pulumi.dev.yaml").read_text())["config"]
    changed = {**config, **THROUGH_STACK_REFERENCE}
    config = {key: value for key, value in changed.items() if value is not None}
    (into / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return into


def plan(
    capsys: pytest.CaptureFixture[str], platform: list[str], project: Path = CONSUMER
) -> dict[str, Any]:
    """The dev stack's plan, as `make plan STACK=dev PLATFORM_CONTRACT=<file>` (or
    PLATFORM_OUTPUTS=<file>) makes it: `platform` is its --platform-contract or
    --platform-outputs."""
    argv = ["dev", "--project", str(project), *platform]
    assert main([*argv, "--format", "json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def plan_error(capsys: pytest.CaptureFixture[str], platform: list[str], project: Path) -> str:
    argv = ["dev", "--project", str(project), *platform]
    assert main(argv) == 1
    return capsys.readouterr().err.splitlines()[-1]


def written(tmp_path: Path, outputs: dict[str, Any], name: str = "outputs.json") -> Path:
    """`outputs` as `pulumi stack output --json --show-secrets` prints them (or a contract
    document as the platform publishes it), in a file."""
    path = tmp_path / name
    path.write_text(json.dumps(outputs, indent=2))
    return path


@pytest.fixture(scope="module")
def platform() -> RecordedGraph:
    """The platform's dev stack, with the consumer's team."""
    return run_program("dev", config=stack_config(appTeams=[INVOICES_TEAM]))


def reading(
    source: str, platform: RecordedGraph, tmp_path: Path, project: Path = CONSUMER
) -> tuple[Path, list[str], dict[str, Any]]:
    """The project set to read the platform from `source` (SOURCES), the plan's arguments that
    give it the platform, and what it reads."""
    if source == "published":
        document = json.loads(platform.named("contract").inputs["document"])
        path = written(tmp_path, document, "contract.json")
        return project, ["--platform-contract", str(path)], document
    outputs = platform.outputs if source == "recorded" else json.loads(SAVED_V1.read_text())
    path = written(tmp_path, dict(outputs))
    project = through_stack_reference(project, tmp_path / "through-stack-reference")
    return project, ["--platform-outputs", str(path)], dict(outputs)


@pytest.mark.parametrize("source", SOURCES)
def test_the_consumer_plans_against_the_platform_read_each_way(
    source: str, platform: RecordedGraph, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, platform_args, read = reading(source, platform, tmp_path)
    document = plan(capsys, platform_args, project)
    created = Counter(resource["type"] for resource in document["resources"])
    assert {type_: created[type_] for type_ in EXPECTED} == EXPECTED
    (credential,) = [
        r for r in document["resources"] if r["type"].endswith("FederatedIdentityCredential")
    ]
    # As the plan shows it (a recorded platform's issuer names the mocked tenant).
    assert credential["inputs"]["issuer"] == encode(read["oidcIssuerUrl"], {})
    provider = next(r for r in document["resources"] if r["name"] == "platform-cluster")
    assert provider["inputs"]["kubeconfig"]["$plan"] == "secret"
    # Its own vault: nothing of the platform's vault, on which it holds no right.
    assert read["keyVaultName"] not in json.dumps(document)
    # Only a stack reference reads the platform's stack (its state, with its key).
    references = [r for r in document["resources"] if r["type"] == "pulumi:pulumi:StackReference"]
    assert len(references) == (source != "published")


def test_against_a_1_0_platform_the_team_namespace_is_used_unchecked_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # A 1.0 platform exports no appTeams (and no contractMinorVersion): nothing to check
    # against, so the plan goes on, and `pulumi preview` shows the program's warning (under
    # the mocks, Pulumi logs it).
    saved = json.loads(SAVED_V1.read_text())
    assert "appTeams" not in saved and "contractMinorVersion" not in saved
    project = through_stack_reference(CONSUMER, tmp_path / "project")
    plan(capsys, ["--platform-outputs", str(SAVED_V1)], project)
    assert [record.getMessage() for record in caplog.records if record.levelname == "WARNING"] == [
        f"stack {PLATFORM_STACK!r} exports contract version 1.0, which lists no application "
        "teams: cannot check that invoices belong to team 'invoices'; they must exist, and the "
        "team must be allowed to write there"
    ]


def test_the_sample_outputs_follow_the_contract() -> None:
    sample = json.loads(SAMPLE.read_text())
    assert sorted(sample) == sorted(contract.OUTPUT_NAMES)
    for spec in contract.OUTPUTS:
        assert shape_holds(spec, sample[spec.name]), spec.name
    assert sample["contractVersion"] == contract.CONTRACT_VERSION


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"oidcIssuerUrl": None},
            f"error: stack {PLATFORM_STACK!r} does not export 'oidcIssuerUrl', which contract "
            "version 1 requires",
        ),
        (
            {"contractVersion": 2},
            f"error: stack {PLATFORM_STACK!r} exports contract version 2; this reader "
            "understands version 1. Upgrade the secretless-aks package.",
        ),
        (
            {"contractVersion": None},
            f"error: stack {PLATFORM_STACK!r} exports no contractVersion: it is not a "
            "secretless-aks platform stack, or it predates the output contract",
        ),
        (
            {"appTeams": None},
            f"error: stack {PLATFORM_STACK!r} does not export 'appTeams', which contract "
            "version 1.1 requires",
        ),
        (
            {"appTeams": {"payments": ["payments"]}},
            f"error: stack {PLATFORM_STACK!r} has no application team 'invoices' (appTeams: "
            "payments); ask the platform team to add it",
        ),
        (
            {"appTeams": {"invoices": ["invoices-web", "invoices-jobs"]}},
            f"error: team 'invoices' of stack {PLATFORM_STACK!r} may write only in namespaces "
            "invoices-web, invoices-jobs, not in invoices; use its own, or ask the platform "
            "team to add it to the team",
        ),
    ],
)
def test_outputs_that_break_the_contract_are_one_error_naming_the_output(
    change: dict[str, Any], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = {**json.loads(SAMPLE.read_text()), **change}
    outputs = {name: value for name, value in outputs.items() if value is not None}
    project = through_stack_reference(CONSUMER, tmp_path / "project")
    platform_args = ["--platform-outputs", str(written(tmp_path, outputs))]
    assert plan_error(capsys, platform_args, project) == error
    # The published contract breaks the same way, and says so in the same words.
    published = {name: outputs[name] for name in contract.PUBLISHED_NAMES if name in outputs}
    platform_args = ["--platform-contract", str(written(tmp_path, published, "contract.json"))]
    url = yaml.safe_load((CONSUMER / "Pulumi.dev.yaml").read_text())["config"][
        "secretless-aks-consumer:platformContract"
    ]
    from_contract = error.replace(f"stack {PLATFORM_STACK!r}", f"the published contract {url}")
    assert plan_error(capsys, platform_args, CONSUMER) == from_contract


def test_the_consumer_plans_against_a_saved_platform_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What `make plan STACK=dev ARGS="--format json --output plan.json"` saves for the platform.
    saved = tmp_path / "platform-plan.json"
    planned = run_program("dev", config=stack_config(appTeams=[INVOICES_TEAM]), preview=True)
    saved.write_text(json.dumps(to_json(planned)))
    project = through_stack_reference(CONSUMER, tmp_path / "project")
    argv = ["dev", "--project", str(project), "--platform-outputs", str(saved)]
    assert main([*argv, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    created = Counter(resource["type"] for resource in document["resources"])
    assert {type_: created[type_] for type_ in EXPECTED} == EXPECTED
    (credential,) = [
        r for r in document["resources"] if r["type"].endswith("FederatedIdentityCredential")
    ]
    assert credential["inputs"]["issuer"] == {"$plan": "unknown"}
    assert f"warning: {saved} is a platform plan" in err
    assert "Traceback" not in err


def test_an_outputs_file_that_is_not_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = written(tmp_path, {})
    listed.write_text("[]")
    project = through_stack_reference(CONSUMER, tmp_path / "project")
    assert plan_error(capsys, ["--platform-outputs", str(listed)], project) == (
        f"error: {listed} holds no stack outputs: expected a JSON object of output names and "
        "values, as `pulumi stack output --json --show-secrets` prints them, or a platform "
        "plan saved with --format json"
    )
    listed.write_text("[]")
    assert plan_error(capsys, ["--platform-contract", str(listed)], CONSUMER) == (
        f"error: {listed} is not a platform contract: is not a JSON object"
    )


@pytest.mark.parametrize("source", SOURCES)
def test_the_template_plans_when_copied_out_of_the_repository(
    source: str, platform: RecordedGraph, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "invoices"
    shutil.copytree(
        CONSUMER,
        copy,
        ignore=shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".ruff_cache"),
    )
    # What the package needs, at the platform's releases; the package itself from its wheel.
    template = locked_versions("examples/consumer")
    root = locked_versions()
    assert {name: v for name, v in template.items() if name in root} == {
        name: root[name] for name in template if name in root
    }
    assert "secretless-aks" not in template  # never from a registry
    makefile = (copy / "Makefile").read_text()
    assert f"SECRETLESS_AKS ?= {secretless_aks.__version__}" in makefile
    project, platform_args, _ = reading(source, platform, tmp_path, project=copy)
    document = plan(capsys, platform_args, project)
    created = Counter(resource["type"] for resource in document["resources"])
    assert {type_: created[type_] for type_ in EXPECTED} == EXPECTED


def package_pin(line: str) -> tuple[str, str]:
    name, version = line.split("==")
    return name, version


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(CONSUMER), "-n", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("given", "option"),
    [
        ("PLATFORM_CONTRACT=contract.json", "--platform-contract"),
        ("PLATFORM_OUTPUTS=contract.json", "--platform-outputs"),
    ],
)
def test_make_plan_plans_the_project_against_the_platform_it_is_given(
    given: str, option: str
) -> None:
    commands = make("plan", "VENV=/nowhere", given).stdout.splitlines()
    sync = "UV_PROJECT_ENVIRONMENT=/nowhere .venv-uv/bin/uv sync --locked --quiet --inexact"
    assert any(line.startswith(sync + " ||") for line in commands), commands
    assert commands[-1].split() == [
        "/nowhere/bin/python",
        "-m",
        "secretless_aks.offline.plan",
        "dev",
        "--project",
        ".",
        option,
        "contract.json",
    ]


def make_in(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """make in a copy of the template, with this repository's uv (no download)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(copy), f"UV={UV}", *args],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}},
    )


def test_the_package_comes_from_its_wheel_and_never_from_an_index() -> None:
    """uv asks no index for secretless-aks (a path source, no index configured), and the lock
    holds the wheel's hash, so only the wheel `make lock` pinned is ever installed."""
    pyproject = tomllib.loads((CONSUMER / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["sources"]["secretless-aks"] == {"path": TEMPLATE_WHEEL}
    assert "index" not in pyproject["tool"]["uv"]
    assert pyproject["project"]["dependencies"] == [f"secretless-aks=={secretless_aks.__version__}"]
    package = locked_package()
    assert package["source"] == {"path": TEMPLATE_WHEEL}
    (locked_wheel,) = package["wheels"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", locked_wheel["hash"])
    assert "WHEEL := wheels/secretless_aks-$(SECRETLESS_AKS)-py3-none-any.whl" in (
        (CONSUMER / "Makefile").read_text()
    )


def test_without_its_wheel_make_says_where_it_comes_from_and_installs_nothing(
    tmp_path: Path,
) -> None:
    copy = copied_template(tmp_path)
    missing = make_in(copy, ".venv/.runtime")
    assert missing.returncode != 0
    assert f"secretless-aks {secretless_aks.__version__} is not in wheels/" in missing.stderr
    assert not (copy / ".venv").exists()


def test_a_wheel_other_than_the_locked_one_is_refused_until_make_lock_pins_it(
    tmp_path: Path,
) -> None:
    copy = copied_template(tmp_path)
    wheel(copy / TEMPLATE_WHEEL, "look-alike")
    refused = make_in(copy, ".venv/.runtime")
    assert refused.returncode != 0
    assert "hash" in refused.stderr.lower() and "run make lock" in refused.stderr
    assert not (copy / ".venv" / ".runtime").exists()


def test_the_template_carries_the_repositorys_pin_of_uv() -> None:
    assert (CONSUMER / "requirements-uv.txt").read_text() == (
        PROJECT_DIR / "requirements-uv.txt"
    ).read_text()


def test_make_plan_without_the_platform_says_where_it_comes_from() -> None:
    result = make("plan", "VENV=/nowhere")
    assert result.returncode != 0 and result.stdout == ""
    assert "PLATFORM_CONTRACT=<file> names the platform's published contract: az storage " in (
        result.stderr
    )
    assert "PLATFORM_OUTPUTS=<file> names the platform stack's outputs: pulumi stack output " in (
        result.stderr
    )
