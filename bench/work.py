"""The work a run gives asyncio's event loop, counted: the SDK does everything (resolving
Outputs, registering resources) in callbacks on one loop, so their number measures the work a
program asks of it, and, unlike time, does not change with a noisy machine (to within the few
callbacks that depend on when the mocked engine's threads answer). Counting slows each callback
down: for tests, never inside a timed measurement.
"""

from __future__ import annotations

import asyncio.events
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class LoopWork:
    callbacks: int = 0


@contextlib.contextmanager
def counted() -> Iterator[LoopWork]:
    """Count the event-loop callbacks run inside the block."""
    work = LoopWork()
    run = asyncio.events.Handle._run

    def counting(handle: Any) -> None:
        work.callbacks += 1
        run(handle)

    asyncio.events.Handle._run = counting  # type: ignore[method-assign]
    try:
        yield work
    finally:
        asyncio.events.Handle._run = run  # type: ignore[method-assign]
