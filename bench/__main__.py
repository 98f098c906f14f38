"""`make bench`: the program's evaluation time against the SDK's floor, as N services grow.

For each N (default 1, 10, 30, 100, 300) the program's recorded graph is saved once; then each
round measures, every one in a fresh process and back to back: the program; the raw-SDK
baseline that registers the same custom resources (bench/baseline.py) with Python's default
collector; the baseline with the collector settings the program gives itself; and the tree
baseline, which also registers the program's components, with those settings. Rounds go
through every N in turn (every other one in reverse order), so a noisy minute hits every series
alike. The table shows medians; a ratio is taken within each round and the median of the
rounds' ratios shown. Targets (exit 1 when one is missed): time linear in N (the quadratic
term of a fit is not significant) and peak memory under 600 MB at the largest N. The ratios are
information here, since time on a shared VM varies by ±30%: the program's target against the
tree baseline (at most 1.10x at every N ≥ 30) is held in instructions (`python -m
bench.instructions`, which exits 1 when it is missed) and in event-loop callbacks
(tests/test_bench.py). The tree baseline tells the cost of the program's own code (config,
Output chains, manifests) from the SDK's cost of its component tree, which the flat baselines
leave out; the ratios to those stay as information.

    python -m bench [--services 1 10 30 100 300] [--runs 3] [--output bench/results.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.measure import command
from bench.stats import fit
from secretless_aks.offline.harness import PROJECT_DIR

SERIES = (
    ("program", "program"),
    ("baseline", "default"),
    ("baseline", "program"),
    ("tree", "program"),
)
# The program's time over each baseline's, in a round.
RATIOS = {
    "ratio_to_default": ("baseline", "default"),
    "ratio_to_same": ("baseline", "program"),
    "ratio_to_tree": ("tree", "program"),
}
RESULTS = PROJECT_DIR / "bench" / "results.json"
# The program's most over its tree baseline from RATIO_FROM_SERVICES on, in instructions
# (bench/instructions.py) and callbacks (tests/test_bench.py).
MAX_RATIO_TO_TREE = 1.10
RATIO_FROM_SERVICES = 30
MAX_PEAK_MB = 600
# The fit (bench/stats.py) has three coefficients, and its t needs a degree of freedom.
MIN_RUNS_PER_SERIES = 4


def series_name(kind: str, collector: str) -> str:
    if kind == "program":
        return "program"
    if kind == "tree":
        return "tree baseline (program collector)"
    return f"baseline ({collector} collector)"


def measure(kind: str, collector: str, services: int, graph: Path) -> dict[str, Any]:
    began = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, *command(kind, collector, services, graph)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    # Start-up, imports, evaluation and exit, as the parent saw the child.
    result["process_s"] = time.perf_counter() - began
    return result


def record_graphs(sizes: list[int], into: Path) -> dict[int, Path]:
    """The program's custom resources for each N, which the baseline registers."""
    graphs = {services: into / f"graph-{services}.json" for services in sizes}
    for services, graph in graphs.items():
        subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
            [sys.executable, "-m", "bench.measure", "record", str(services), "--graph", str(graph)],
            cwd=PROJECT_DIR,
            check=True,
        )
    return graphs


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(  # noqa: S603 (fixed arguments)
        ["git", "-C", str(PROJECT_DIR), "describe", "--always", "--dirty"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "load_average_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {
            name: metadata.version(name)
            for name in ("pulumi", "pulumi-azure-native", "pulumi-kubernetes", "pulumi-random")
        },
    }


def evaluated(
    runs: list[dict[str, Any]], kind: str, collector: str, services: int, round_: int
) -> float:
    (seconds,) = (
        r["evaluate_s"]
        for r in runs
        if (r["kind"], r["collector"], r["services"], r["round"])
        == (kind, collector, services, round_)
    )
    return seconds


def of_series(
    runs: list[dict[str, Any]], kind: str, collector: str, services: int, key: str
) -> list[float]:
    """`key` of every run of one series at one N."""
    return [
        r[key]
        for r in runs
        if (r["kind"], r["collector"], r["services"]) == (kind, collector, services)
    ]


def summarize(runs: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    def median(kind: str, collector: str, services: int, key: str) -> float:
        return statistics.median(of_series(runs, kind, collector, services, key))

    def fastest(kind: str, collector: str, services: int) -> float:
        return min(of_series(runs, kind, collector, services, "evaluate_s"))

    keys = (
        "evaluate_s",
        "per_resource_ms",
        "gc_s",
        "peak_rss_mb",
        "import_s",
        "process_s",
        "record_s",
        "monitor_threads_cpu_s",
    )
    by_size = []
    for services in sizes:
        row: dict[str, Any] = {"services": services}
        for kind, collector in SERIES:
            row[series_name(kind, collector)] = {
                key: median(kind, collector, services, key) for key in keys
            } | {"custom_resources": median(kind, collector, services, "custom_resources")}
        # Each round measures the series back to back: the ratio is taken within the round,
        # where the machine is the same, and the median of the rounds' ratios is reported.
        # Beside it, the ratio of the fastest runs: interference only ever slows a run down, so
        # the fastest is the one nearest the code's own cost (as `timeit` advises).
        rounds = sorted({r["round"] for r in runs})
        for key, (kind, collector) in RATIOS.items():
            row[key] = statistics.median(
                evaluated(runs, "program", "program", services, round_)
                / evaluated(runs, kind, collector, services, round_)
                for round_ in rounds
            )
            row[f"{key}_fastest"] = fastest("program", "program", services) / fastest(
                kind, collector, services
            )
        by_size.append(row)
    fits = {}
    for kind, collector in SERIES:
        mine = [r for r in runs if (r["kind"], r["collector"]) == (kind, collector)]
        found = fit([r["services"] for r in mine], [r["evaluate_s"] for r in mine])
        fits[series_name(kind, collector)] = vars(found) | {"linear": found.linear}
    return {"by_size": by_size, "fits": fits}


def targets(summary: dict[str, Any]) -> dict[str, bool]:
    largest = summary["by_size"][-1]
    return {
        "program time linear in N (quadratic term p ≥ 0.05)": summary["fits"]["program"]["linear"],
        f"program peak memory < {MAX_PEAK_MB} MB at N={largest['services']}": (
            largest["program"]["peak_rss_mb"] < MAX_PEAK_MB
        ),
    }


def table(summary: dict[str, Any]) -> str:
    header = (
        f"{'N':>4} {'resources':>9} │ {'program s':>9} {'ms/res':>6} {'GC s':>5} {'MB':>4} │ "
        f"{'default s':>9} {'GC s':>5} {'MB':>4} │ {'same s':>6} {'GC s':>5} {'MB':>4} │ "
        f"{'tree s':>6} │ {'÷default':>8} {'÷same':>6} {'÷tree':>6}"
    )
    lines = [
        "Evaluation (medians): program | baseline, default collector | baseline, program's "
        "collector settings | tree baseline (with the program's components)",
        header,
        "─" * len(header),
    ]
    for row in summary["by_size"]:
        program = row["program"]
        default = row["baseline (default collector)"]
        same = row["baseline (program collector)"]
        tree = row["tree baseline (program collector)"]
        lines.append(
            f"{row['services']:>4} {program['custom_resources']:>9.0f} │ "
            f"{program['evaluate_s']:>9.2f} {program['per_resource_ms']:>6.2f} "
            f"{program['gc_s']:>5.2f} {program['peak_rss_mb']:>4.0f} │ "
            f"{default['evaluate_s']:>9.2f} {default['gc_s']:>5.2f} "
            f"{default['peak_rss_mb']:>4.0f} │ "
            f"{same['evaluate_s']:>6.2f} {same['gc_s']:>5.2f} {same['peak_rss_mb']:>4.0f} │ "
            f"{tree['evaluate_s']:>6.2f} │ "
            f"{row['ratio_to_default']:>8.2f} {row['ratio_to_same']:>6.2f} "
            f"{row['ratio_to_tree']:>6.2f}"
        )
    lines.append(
        "Fastest runs' ratios (÷default ÷same ÷tree): "
        + "; ".join(
            f"N={row['services']} " + " ".join(f"{row[f'{key}_fastest']:.2f}" for key in RATIOS)
            for row in summary["by_size"]
        )
    )
    lines.append("")
    for name, found in summary["fits"].items():
        lines.append(
            f"Fit, {name}: {found['intercept']:.2f} s + {1000 * found['per_service']:.1f} ms per "
            f"service; quadratic term t = {found['t']:.2f}, p = {found['p']:.2f} "
            f"({'not significant' if found['linear'] else 'significant'})"
        )
    largest = summary["by_size"][-1]
    program, default = largest["program"], largest["baseline (default collector)"]
    lines += [
        f"Imports (apart from evaluation): program {program['import_s']:.2f} s, baseline "
        f"{default['import_s']:.2f} s; whole process at N={largest['services']}: program "
        f"{program['process_s']:.2f} s",
        f"Harness at N={largest['services']}: recording {program['record_s']:.2f} s, the mocked "
        f"engine's threads {program['monitor_threads_cpu_s']:.2f} s CPU (both series pay them)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="The program's evaluation time against the SDK's."
    )
    parser.add_argument("--services", type=int, nargs="+", default=[1, 10, 30, 100, 300])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = sorted(set(args.services))
    if len(sizes) < 3 or len(sizes) * args.runs < MIN_RUNS_PER_SERIES:
        parser.error(
            "--services needs at least three sizes, and sizes times --runs at least "
            f"{MIN_RUNS_PER_SERIES}: the fit has three coefficients and needs a run more"
        )
    about = machine()
    began = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory() as workdir:
        graphs = record_graphs(sizes, Path(workdir))
        for round_ in range(args.runs):
            for services in sizes:
                # Every other round in reverse, so no series always comes first.
                for kind, collector in SERIES[:: -1 if round_ % 2 else 1]:
                    result = measure(kind, collector, services, graphs[services])
                    runs.append(result | {"round": round_})
                    print(
                        f"  round {round_ + 1}/{args.runs}, N={services:<3} "
                        f"{series_name(kind, collector):<30} {result['evaluate_s']:6.2f} s",
                        file=sys.stderr,
                    )
    summary = summarize(runs, sizes)
    verdicts = targets(summary)
    about["bench_seconds"] = round(time.perf_counter() - began)
    print(table(summary))
    print("\nTargets:")
    print("\n".join(f"  {'met   ' if ok else 'MISSED'}  {name}" for name, ok in verdicts.items()))
    args.output.write_text(
        json.dumps(
            {"machine": about, "targets": verdicts, **summary, "runs": runs},
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"\nWritten to {args.output} ({about['bench_seconds']} s).")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
