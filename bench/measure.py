"""One measurement in this (fresh) process, printed as one JSON line.

    python -m bench.measure record   N --graph FILE    # save the program's graph for N
    python -m bench.measure program  N --graph FILE    # measure __main__.py
    python -m bench.measure baseline N --graph FILE [--collector program]
    python -m bench.measure tree     N --graph FILE    # the baseline with the components
    python -m bench.measure KIND N --graph FILE --imports-only   # stop before the evaluation

Both run a project through the recording harness with the benchmark's stack of N services:
`program` the platform's `__main__.py`, `baseline` a project whose program registers FILE's
resources (the program's recorded graph for N) with the providers' typed SDK classes
(bench/baseline.py), with Python's default collector or, with `--collector program`, the
settings the program gives itself (components/collector.py); `tree` that baseline with the
program's components, under the program's collector settings. Both first import what they need
(the import statements of the project's `__main__.py`, the SDK classes of FILE's resource
types), so the evaluation is timed without imports, and imports apart. The collector keeps what
the run sets until the process ends, as in `pulumi up`; the parent times the whole process.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 (after the clock starts)
import ast  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench import baseline, stacks  # noqa: E402
from secretless_aks.offline import harness  # noqa: E402


class CollectorClock:
    """Time and count of the cyclic collector's passes, by generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.passes = [0, 0, 0]
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began
            self.passes[info["generation"]] += 1


class RecordingClock:
    """Time the harness spends recording what the mocked engine receives."""

    def __init__(self) -> None:
        self.seconds = 0.0
        clock, record = self, harness.RecordingMonitor._record

        def timed(self: harness.RecordingMonitor, request: Any, urn: str, *, read: bool) -> None:
            began = time.perf_counter()
            record(self, request, urn, read=read)
            clock.seconds += time.perf_counter() - began

        harness.RecordingMonitor._record = timed


def command(kind: str, collector: str, services: int, graph: Path) -> list[str]:
    """The interpreter's arguments that measure one series at N in a fresh process."""
    arguments = ["-m", "bench.measure", kind, str(services), "--graph", str(graph)]
    return arguments + (["--collector", collector] if kind == "baseline" else [])


def import_program(project: Path) -> None:
    """Execute the import statements of the project's `__main__.py`, and only those."""
    main = project / "__main__.py"
    body = ast.parse(main.read_text()).body
    imports = ast.Module([n for n in body if isinstance(n, ast.Import | ast.ImportFrom)], [])
    exec(compile(imports, str(main), "exec"), {})  # noqa: S102 (the program's own imports)


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM: getrusage's would carry the parent's peak
    across exec)."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def measure(run: Callable[[], harness.RecordedGraph]) -> dict[str, Any]:
    imported = time.perf_counter()
    passes, recording = CollectorClock(), RecordingClock()
    gc.callbacks.append(passes)
    began, began_cpu, began_main = time.perf_counter(), time.process_time(), time.thread_time()
    graph = run()
    evaluated = time.perf_counter() - began
    cpu, main_thread = time.process_time() - began_cpu, time.thread_time() - began_main
    gc.callbacks.remove(passes)
    custom = sum(1 for r in graph.resources if r.custom and not r.read)
    return {
        "import_s": imported - STARTED,
        "evaluate_s": evaluated,
        "cpu_s": cpu,
        # The mocked engine answers in the SDK's executor threads.
        "monitor_threads_cpu_s": cpu - main_thread,
        "record_s": recording.seconds,
        "gc_s": passes.seconds,
        "gc_passes": passes.passes,
        "peak_rss_mb": peak_memory_mb(),
        "custom_resources": custom,
        "resources": len(graph.resources),
        "per_resource_ms": 1000 * evaluated / custom,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument("kind", choices=("record", "program", "baseline", "tree"))
    parser.add_argument("services", type=int)
    parser.add_argument("--graph", type=Path, required=True)
    parser.add_argument("--collector", choices=("default", "program"), default="default")
    parser.add_argument(
        "--imports-only",
        action="store_true",
        help="stop after the imports, before the evaluation (bench/instructions.py)",
    )
    args = parser.parse_args(argv)
    config = stacks.stack_config(args.services)
    # Only the flat baseline runs with Python's defaults, when asked; the rest as the program.
    collector = "default" if args.kind == "baseline" and args.collector == "default" else "program"
    if args.kind == "record":
        graph = harness.run_program(stacks.STACK, config=config)
        args.graph.write_text(json.dumps(baseline.registered_resources(graph)))
        return
    for type_ in {r["type"] for r in json.loads(args.graph.read_text()) if r["custom"]}:
        baseline.sdk_class(type_)
    with tempfile.TemporaryDirectory() as workdir:
        project = harness.PROJECT_DIR
        if args.kind != "program":
            project = baseline.write_project(
                args.graph,
                Path(workdir),
                program_collector=collector == "program",
                tree=args.kind == "tree",
            )
        import_program(project)
        if args.imports_only:
            return
        # The collector keeps what the run's program sets until this process ends, as in
        # `pulumi up`; the harness would otherwise give it back, and collect, within the run.
        result = measure(
            lambda: harness.run_program(
                stacks.STACK,
                config=config,
                project_dir=project,
                restore_collector=False,
                provider_aliases=True,
            )
        )
    print(
        json.dumps({"kind": args.kind, "collector": collector, "services": args.services, **result})
    )


if __name__ == "__main__":
    main()
