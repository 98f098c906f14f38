"""The Pulumi project file: what the CLI knows of this project's configuration."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.config import INTERNAL_FIELDS, StackConfig

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"


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
