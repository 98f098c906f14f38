"""The Pulumi project file: what the CLI knows of this project's configuration, and what the
docs say of it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from secretless_aks.components.config import INTERNAL_FIELDS, StackConfig
from secretless_aks.components.config.models import PROJECT
from tests.locks import locked_versions

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"
README = PROJECT_DIR / "README.md"
CONFIGURATION = PROJECT_DIR / "docs" / "configuration.md"
CONFIG_TABLE_HEADER = ["Key", "Field", "Required / default", "Meaning"]


def cells(row: str) -> list[str]:
    """The cells of a Markdown table row; `\\|` is a pipe inside a cell, not a border."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def markdown_table(text: str, header: list[str]) -> tuple[list[list[str]], list[str]]:
    """The body rows of the one table with this header, and the lines after the table."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("|") and cells(line) == header]
    assert len(starts) == 1, f"{len(starts)} tables with the header {header}"
    delimiter, *rest = lines[starts[0] + 1 :]
    assert re.fullmatch(r"\|( *:?-+:? *\|)+", delimiter.strip()), delimiter
    assert len(cells(delimiter)) == len(header), delimiter
    rows: list[list[str]] = []
    while rest and rest[0].startswith("|"):
        rows.append(cells(rest.pop(0)))
    return rows, rest


def test_project_is_a_python_project_with_a_local_backend() -> None:
    project = yaml.safe_load(PROJECT_FILE.read_text())
    assert project["name"] == "secretless-aks"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["backend"]["url"].startswith("file://")


def test_every_config_key_the_program_reads_is_declared_with_a_description() -> None:
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    keys = {
        field.alias or name
        for name, field in StackConfig.model_fields.items()
        if name not in INTERNAL_FIELDS
    }
    assert set(declared) == keys
    for key, declaration in declared.items():
        assert declaration["type"] in {"string", "integer", "boolean", "array", "object"}, key
        assert declaration["description"], key


def test_the_configuration_page_is_one_table_with_a_row_for_every_declared_key() -> None:
    rows, after = markdown_table(CONFIGURATION.read_text(), CONFIG_TABLE_HEADER)
    for row in rows:
        assert len(row) == len(CONFIG_TABLE_HEADER), row
    # A blank line ends a Markdown table: rows after it render as plain text.
    next_text = next((line for line in after if line.strip()), "")
    assert not next_text.startswith("|"), f"a blank line splits the table before {next_text}"
    documented = {row[0] for row in rows}
    for key in yaml.safe_load(PROJECT_FILE.read_text())["config"]:
        assert f"`{PROJECT}:{key}`" in documented, f"{PROJECT}:{key} has no row in the table"


def test_required_pulumi_cli_is_the_readmes_minimum_and_the_pinned_sdks_release() -> None:
    required = yaml.safe_load(PROJECT_FILE.read_text())["requiredPulumiVersion"]
    match = re.fullmatch(r">=(\d+\.\d+\.\d+)", required)
    assert match, f"requiredPulumiVersion {required!r} is not a plain minimum"
    stated = re.findall(r"\[Pulumi CLI\]\([^)]*\) (\S+) or later", README.read_text())
    assert stated == [match.group(1)]
    # The CLI is at least as new as the SDK the program runs with.
    sdk = locked_versions()["pulumi"]
    assert match.group(1) == sdk
