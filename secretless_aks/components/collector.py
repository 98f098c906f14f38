"""Python's cyclic garbage collector, off for the program's process.

What a Pulumi program leaves for the cyclic collector is mostly alive: every resource's
Outputs, futures and tasks stay referenced until the deployment ends. Its garbage is small
cycles the SDK makes as it goes (a nested function that refers to itself, about five objects,
per `contains_unknowns` call), so each pass walks much and frees little. Measured with
`make bench` (bench/results.json; 300 services, ~2,900 resources, 2 cores, fresh processes):

- Python's defaults (700, 10, 10): half of the evaluation is collection (10 s of 20 s in the
  raw-SDK baseline: ~4,600 young, ~420 middle and 14 full passes);
- `gc.freeze()` after the imports and thresholds (50_000, 20, 100), as the tests use: still
  about a quarter (3.3-4.7 s of 14-19 s for the program);
- off: none, for ~35 MB more peak memory (~530 MB against ~495 MB). Memory grows with the
  services either way, ~1.3 MB each: it is the live objects.

The garbage is never worth collecting in a process that ends with the deployment; nor at its
exit, where the interpreter's last act would be a full pass over everything not frozen (4.8 s
at 300 services with the collector off, 0.7 s frozen). The recording harness, which runs many
programs in one process, turns the collector back on after each run.
"""

from __future__ import annotations

import atexit
import gc


def configure() -> None:
    """Turn the collector off, and skip its pass at exit. First thing in `__main__.py`."""
    gc.disable()
    atexit.unregister(gc.freeze)  # once, however many times the harness runs the program
    atexit.register(gc.freeze)
