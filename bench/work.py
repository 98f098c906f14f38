"""The work a run gives asyncio's event loop, counted: the SDK does everything (resolving
Outputs, registering resources) in callbacks on one loop, so their number measures the work a
program asks of it, and, unlike time, does not change with a noisy machine (to within the few
callbacks that depend on when the mocked engine's threads answer). Counting slows each callback
down: for tests and this table, never inside a timed measurement.

    python -m bench.work [--services 1 10 30 100]

prints, for each N, the callbacks of the program, of its flat baseline and of its tree baseline
(bench/baseline.py), and the program's over each.
"""

from __future__ import annotations

import argparse
import asyncio.events
import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import baseline, stacks
from secretless_aks.offline import harness


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


def work(services: int) -> tuple[int, int, int]:
    """The callbacks of the program for `services`, of its flat and of its tree baseline."""
    config = stacks.stack_config(services)
    with counted() as program:
        graph = harness.run_program(stacks.STACK, config=config, provider_aliases=True)
    counts = [program.callbacks]
    with tempfile.TemporaryDirectory() as workdir:
        for tree in (False, True):
            with counted() as run:
                baseline.run(graph, config, Path(workdir) / str(tree), tree=tree)
            counts.append(run.callbacks)
    return counts[0], counts[1], counts[2]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.work", description="The event-loop work of the program and baselines."
    )
    parser.add_argument("--services", type=int, nargs="+", default=[1, 10, 30, 100])
    args = parser.parse_args(argv)
    print(f"{'N':>4} {'program':>9} {'flat':>9} {'tree':>9} {'÷flat':>6} {'÷tree':>6}")
    for services in sorted(set(args.services)):
        program, flat, tree = work(services)
        print(
            f"{services:>4} {program:>9} {flat:>9} {tree:>9} "
            f"{program / flat:>6.3f} {program / tree:>6.3f}"
        )


if __name__ == "__main__":
    main()
