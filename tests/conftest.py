"""Shared graphs: each stack's program runs once per test session under the recording harness."""

from __future__ import annotations

import gc

import pytest
from hypothesis import settings

from secretless_aks.offline.harness import RecordedGraph, run_program
from tests.stack_configs import RICH_CONFIG

# Property tests draw the same examples on every run and every machine (derandomize), with no
# per-example deadline (a garbage-collector pause is not a failure), and keep no example
# database between runs: the suite passes or fails the same way each time.
settings.register_profile("deterministic", derandomize=True, deadline=None, database=None)
settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def dev() -> RecordedGraph:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod() -> RecordedGraph:
    return run_program("prod")


@pytest.fixture(scope="session")
def rich() -> RecordedGraph:
    return run_program("rich", config=RICH_CONFIG)


# Each run of the program leaves tens of thousands of Outputs and finished tasks behind; the
# cyclic collector's full passes over them, not the program, were most of the suite's time.
gc.freeze()
gc.set_threshold(50_000, 20, 100)
