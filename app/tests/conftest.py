"""Fixtures for the in-process tests: the test double, trusted, and a fixed-token credential."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo

from secretless_app.environment import AppEnvironment
from tests.azure_double import AzureDouble

CLIENT_ID = "0b5c7e11-0000-4000-8000-0000000c1e17"


class DoubleToken:
    """A credential that hands out the token the double issued, as a real one would."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, **_: Any) -> AccessTokenInfo:
        self.scopes.append(scopes)
        return AccessTokenInfo(self._token, int(time.time()) + 3600)


@pytest.fixture
def double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureDouble]:
    with AzureDouble(tmp_path) as running:
        # requests reads the bundle from the environment at each request, as in the app.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_bundle))
        yield running


@pytest.fixture
def credential(double: AzureDouble) -> DoubleToken:
    return DoubleToken(double.workload_token)


@pytest.fixture
def environment(double: AzureDouble) -> AppEnvironment:
    return AppEnvironment(key_vault_url=double.url, port=8080, client_id=CLIENT_ID)
