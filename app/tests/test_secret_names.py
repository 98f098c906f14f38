"""The "--" convention, with the exact messages the platform's copy of the rules gives."""

from __future__ import annotations

import subprocess
import sys

import pytest

from secretless_app import secret_names
from secretless_app.secret_names import SecretNameError, config_path, secret_name


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("Identity:Secret", "Identity--Secret"),
        ("Greeting:Message", "Greeting--Message"),
        ("ConnectionStrings:orders-db", "ConnectionStrings--orders-db"),
        ("Flat", "Flat"),
        ("A:B:C", "A--B--C"),
    ],
)
def test_path_and_name_map_both_ways(path: str, name: str) -> None:
    assert secret_name(path) == name
    assert config_path(name) == path


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("Identity::Secret", "config path 'Identity::Secret' has an empty segment"),
        (
            "Identity:Secret-",
            "config path 'Identity:Secret-': segment 'Secret-' must be letters and digits, "
            "optionally joined by single hyphens",
        ),
        (
            "Identity:Sec_ret",
            "config path 'Identity:Sec_ret': segment 'Sec_ret' must be letters and digits, "
            "optionally joined by single hyphens",
        ),
        (
            "A:" + "b" * 125,
            f"config path 'A:{'b' * 125}' makes a secret name of 128 characters; "
            "Key Vault allows 127",
        ),
    ],
)
def test_paths_that_cannot_round_trip_are_refused(path: str, message: str) -> None:
    with pytest.raises(SecretNameError) as caught:
        secret_name(path)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "secret name '' must be 1-127 letters, digits and hyphens"),
        (
            "Identity_Secret",
            "secret name 'Identity_Secret' must be 1-127 letters, digits and hyphens",
        ),
        (
            "Identity---Secret",
            "config path 'Identity:-Secret': segment '-Secret' must be letters "
            "and digits, optionally joined by single hyphens",
        ),
        (
            "-Identity",
            "config path '-Identity': segment '-Identity' must be letters and digits, "
            "optionally joined by single hyphens",
        ),
    ],
)
def test_names_that_cannot_round_trip_are_refused(name: str, message: str) -> None:
    with pytest.raises(SecretNameError) as caught:
        config_path(name)
    assert str(caught.value) == message


def test_module_loads_by_path_with_the_standard_library_alone() -> None:
    """The platform's tests import this file by path, without the app's dependencies."""
    probe = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('names', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert module.secret_name('Identity:Secret') == 'Identity--Secret'\n"
        "third_party = {'pydantic', 'azure', 'starlette', 'uvicorn'} & set(sys.modules)\n"
        "assert not third_party, third_party\n"
    )
    # -I: isolated mode, no user site; -S: no site-packages at all.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, secret_names.__file__],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
