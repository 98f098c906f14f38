"""Shared graphs: each stack's program runs once per test session under the recording harness."""

from __future__ import annotations

import pytest

from offline.harness import RecordedGraph, run_program


@pytest.fixture(scope="session")
def dev() -> RecordedGraph:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod() -> RecordedGraph:
    return run_program("prod")
