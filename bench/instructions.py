"""The evaluation's work in machine instructions, counted by valgrind's cachegrind.

Time on a shared VM varies by ±30% between rounds of the same work (bench/results.json), too
much to tell whether a ratio is under 1.10; an instruction count varies by about 1% between
runs (hash seeds, the mocked engine's threads). Each series runs in a fresh process as in
`make bench` (python -m bench.measure), once whole under cachegrind and once stopping after its
imports: the difference is the evaluation's instructions, and the exit's. Instructions are not
time: the default collector's passes (and its last one, at exit) chase pointers through memory,
slow per instruction, so the ratio to the default-collector baseline here is far above the
timed one. Needs valgrind (Debian package `valgrind`), and some 25 times a timed run: about 10
minutes for N=30, 15 for N=100, 30 for N=300.

    python -m bench.instructions [--services 30 100]

prints, for each N, the evaluation's instructions (in billions) of the program, of the
baseline with the default collector, with the program's settings (same) and of the tree
baseline, and the program's over each; it exits 1 when the program takes more than 1.10x the
tree baseline's at an N of 30 or more (the ratios to the flat baselines are information).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.__main__ import MAX_RATIO_TO_TREE, RATIO_FROM_SERVICES, RATIOS, SERIES, record_graphs
from bench.measure import command
from secretless_aks.offline.harness import PROJECT_DIR


def summary(cachegrind_out: str) -> int:
    """The instruction total of a cachegrind output file (`--cache-sim=no`: Ir only)."""
    for line in cachegrind_out.splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise ValueError("cachegrind output has no summary line")


def instructions(arguments: list[str], valgrind: str, workdir: Path) -> int:
    """The instructions of one fresh `python -m bench.measure` process."""
    out = workdir / "cachegrind.out"
    subprocess.run(  # noqa: S603 (valgrind, this interpreter, fixed arguments)
        [
            valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            f"--cachegrind-out-file={out}",
            sys.executable,
            *arguments,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    )
    return summary(out.read_text())


def evaluation(
    kind: str, collector: str, services: int, graph: Path, valgrind: str, workdir: Path
) -> int:
    """The instructions of the evaluation alone: the run's less its imports'."""
    arguments = command(kind, collector, services, graph)
    return instructions(arguments, valgrind, workdir) - instructions(
        [*arguments, "--imports-only"], valgrind, workdir
    )


def missed_target(to_tree: dict[int, float]) -> list[str]:
    """Each N of RATIO_FROM_SERVICES or more where the program's instructions are more than
    MAX_RATIO_TO_TREE times its tree baseline's."""
    return [
        f"N={services}: {ratio:.3f}x the tree baseline"
        for services, ratio in sorted(to_tree.items())
        if services >= RATIO_FROM_SERVICES and ratio > MAX_RATIO_TO_TREE
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.instructions",
        description="The evaluation's instructions, for the program and each baseline.",
    )
    parser.add_argument("--services", type=int, nargs="+", default=[30, 100])
    args = parser.parse_args(argv)
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit(
            "python -m bench.instructions needs valgrind (Debian: apt install valgrind)"
        )
    sizes = sorted(set(args.services))
    # Each series by the short name of its ratio: default, same, tree.
    names = {("program", "program"): "program"} | {
        series: ratio.removeprefix("ratio_to_") for ratio, series in RATIOS.items()
    }
    print(
        f"{'N':>4} "
        + " ".join(f"{names[series]:>9}" for series in SERIES)
        + " "
        + " ".join(f"{'÷' + names[series]:>8}" for series in RATIOS.values())
    )
    to_tree: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as workdir:
        graphs = record_graphs(sizes, Path(workdir))
        for services in sizes:
            counts = {
                series: evaluation(*series, services, graphs[services], valgrind, Path(workdir))
                for series in SERIES
            }
            program = counts[("program", "program")]
            print(
                f"{services:>4} "
                + " ".join(f"{counts[series] / 1e9:>8.3f}G" for series in SERIES)
                + " "
                + " ".join(f"{program / counts[series]:>8.3f}" for series in RATIOS.values()),
                flush=True,
            )
            to_tree[services] = program / counts[RATIOS["ratio_to_tree"]]
    missed = missed_target(to_tree)
    if missed:
        print(f"MISSED: at most {MAX_RATIO_TO_TREE}x the tree baseline: " + "; ".join(missed))
        return 1
    print(f"met: at most {MAX_RATIO_TO_TREE}x the tree baseline from N={RATIO_FROM_SERVICES} on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
