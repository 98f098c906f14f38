"""The config path <-> secret name mapping, by property: every valid path makes the round trip."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secretless_aks.components.secret_names import SecretNameError, config_path, secret_name

# Azure's rule for Key Vault secret names, written out independently of the module.
AZURE_SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")

alnum = st.text(alphabet="abcXYZ019", min_size=1, max_size=8)
segments = st.lists(alnum, min_size=1, max_size=3).map("-".join)
paths = st.lists(segments, min_size=1, max_size=5).map(":".join)


@given(paths)
def test_every_valid_path_round_trips_through_a_valid_secret_name(path: str) -> None:
    name = secret_name(path)
    assert AZURE_SECRET_NAME.fullmatch(name)
    assert config_path(name) == path


@given(paths)
def test_every_accepted_name_round_trips_through_its_path(path: str) -> None:
    name = secret_name(path)
    assert secret_name(config_path(name)) == name


@given(st.text(max_size=40))
def test_anything_accepted_is_a_valid_azure_secret_name(text: str) -> None:
    try:
        name = secret_name(text)
    except SecretNameError:
        return
    assert AZURE_SECRET_NAME.fullmatch(name)
    assert name.count("--") == text.count(":")


def test_the_dotnet_example_maps_as_documented() -> None:
    assert secret_name("Identity:Secret") == "Identity--Secret"
    assert config_path("Identity--Secret") == "Identity:Secret"
    assert secret_name("ConnectionStrings:Orders-Db") == "ConnectionStrings--Orders-Db"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("Identity::Secret", "config path 'Identity::Secret' has an empty segment"),
        (":Secret", "config path ':Secret' has an empty segment"),
        (
            "Identity:Sec_ret",
            "config path 'Identity:Sec_ret': segment 'Sec_ret' must be letters and digits, "
            "optionally joined by single hyphens",
        ),
        (
            "Identity-:Secret",
            "config path 'Identity-:Secret': segment 'Identity-' must be letters and digits, "
            "optionally joined by single hyphens",
        ),
        (
            "a" * 128,
            f"config path '{'a' * 128}' makes a secret name of 128 characters; "
            "Key Vault allows 127",
        ),
    ],
)
def test_paths_that_cannot_round_trip_are_rejected(path: str, message: str) -> None:
    with pytest.raises(SecretNameError) as error:
        secret_name(path)
    assert str(error.value) == message


@pytest.mark.parametrize("name", ["", "a_b", "a---b", "-a", "a" * 128, "Identity--"])
def test_names_outside_the_rules_are_rejected(name: str) -> None:
    with pytest.raises(SecretNameError):
        config_path(name)
