"""Python's cyclic garbage collector, off while the program is evaluated.

What a Pulumi program leaves for the cyclic collector is mostly live: every resource's
Outputs, futures and tasks stay referenced until the deployment ends. Its garbage is small
cycles the SDK makes as it goes (about five objects per `contains_unknowns` call: a nested
function that refers to itself), so each collection pass frees little and walks much. Measured
with `make bench` (bench/results.json: 300 services, ~3,000 resources, 2 cores, medians of 3
runs in fresh processes) against the same program with Python's defaults:

- default thresholds (700, 10, 10): about half of the evaluation is collection (~5,000 young
  and 15 full passes), the rest is the SDK's own work;
- `gc.freeze()` after imports and thresholds (50_000, 20, 100): a fifth of it still is;
- collection off: none of it, for ~40 MB more peak memory (~535 MB against ~495 MB; the live
  objects are most of it, so memory grows with services either way, ~1.2 MB each).

The process is short-lived and exits when the deployment does, so the garbage is never worth
collecting. The recording harness, which runs many programs in one process, turns the
collector back on after each run.
"""

from __future__ import annotations

import atexit
import gc


def configure() -> None:
    """Turn the collector off for this process. Call it first thing in `__main__.py`."""
    gc.disable()
    # The interpreter's last act is a full collection of whatever is not frozen: with the
    # collector off, everything the evaluation made (~4.8 s at 300 services against ~0.7 s).
    # Frozen at exit, the memory goes back to the system with the process.
    atexit.unregister(gc.freeze)  # once, however many times the harness runs the program
    atexit.register(gc.freeze)
