"""The benchmark's structure (it measures time; these tests do not): its stacks are valid, its
baselines register what the program registers, its fit tells linear from quadratic; and the
work the program asks of the SDK, counted, stays near its tree baseline's."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bench import __main__ as bench_cli
from bench import baseline, instructions, measure, stacks, work
from bench.__main__ import MAX_RATIO_TO_TREE
from bench.__main__ import main as bench_main
from bench.stats import fit, two_sided_p
from bench.work import LoopWork, counted
from secretless_aks.offline.harness import RecordedGraph, run_program

# Enough services for every combination bench/stacks.py cycles through.
SERVICES = 12
SIZES = [1, 1, 1, 10, 10, 10, 30, 30, 30, 100, 100, 100, 300, 300, 300]


# Where the program's work is, in event-loop callbacks, over its tree baseline's: 1.05 at 12 and
# at 100 services when written (bench/work.py), so an added Output chain or registration per
# service shows.
MAX_WORK_OVER_TREE = MAX_RATIO_TO_TREE
# The work each run gave the event loop.
WORK: dict[str, LoopWork] = {}


@pytest.fixture(scope="module")
def program() -> RecordedGraph:
    with counted() as WORK["program"]:
        return run_program(
            stacks.STACK, config=stacks.stack_config(SERVICES), provider_aliases=True
        )


def run_baseline(
    program: RecordedGraph, tmp_path_factory: pytest.TempPathFactory, *, tree: bool
) -> RecordedGraph:
    """The baseline project for the program's graph, run by the same harness."""
    directory = tmp_path_factory.mktemp("baseline")
    with counted() as WORK["tree" if tree else "flat"]:
        return baseline.run(program, stacks.stack_config(SERVICES), directory, tree=tree)


@pytest.fixture(scope="module")
def raw_sdk(program: RecordedGraph, tmp_path_factory: pytest.TempPathFactory) -> RecordedGraph:
    return run_baseline(program, tmp_path_factory, tree=False)


@pytest.fixture(scope="module")
def tree(program: RecordedGraph, tmp_path_factory: pytest.TempPathFactory) -> RecordedGraph:
    return run_baseline(program, tmp_path_factory, tree=True)


def requests(graph: RecordedGraph) -> dict[tuple[str, str], tuple]:
    """What the engine receives for each custom resource, with resources named by (type, name)
    (the flat baseline's URNs have no component parents)."""
    named = {r.urn: (r.type, r.name) for r in graph.resources}
    return {
        (r.type, r.name): (
            r.inputs,
            named.get(r.provider or ""),
            sorted(named[urn] for urn in r.dependencies),
        )
        for r in graph.resources
        if r.custom
    }


def test_the_generated_stack_mixes_every_binding_and_setting(program: RecordedGraph) -> None:
    services = [stacks.service(index)[0] for index in range(SERVICES)]
    assert {s["binding"] for s in services} == set(stacks.BINDINGS)
    assert {key for s in services for key in s} >= {
        "image",
        "port",
        "replicas",
        "secretScope",
        "keyVaultRole",
        "additionalServiceAccounts",
        "allowIngressFrom",
    }
    kinds = Counter(r.type.rsplit(":", 1)[-1] for r in program.resources if r.custom)
    assert kinds["AzureIdentity"] and kinds["FederatedIdentityCredential"] and kinds["Secret"]


def test_the_baseline_registers_the_programs_custom_resources_and_nothing_else(
    program: RecordedGraph, raw_sdk: RecordedGraph
) -> None:
    assert requests(raw_sdk) == requests(program)
    # No components: every resource is the stack's child.
    assert all(r.custom and ":pulumi:pulumi:Stack::" in str(r.parent) for r in raw_sdk.resources)


def test_the_tree_baseline_registers_the_programs_resources_under_the_same_urns(
    program: RecordedGraph, tree: RecordedGraph
) -> None:
    assert requests(tree) == requests(program)
    # Components and all: the same URNs, so the same parents.
    assert [(r.urn, r.parent, r.custom) for r in tree.resources] == [
        (r.urn, r.parent, r.custom) for r in program.resources if not r.read
    ]
    assert any(not r.custom for r in tree.resources)


def test_the_program_asks_the_sdk_little_more_work_than_its_tree_baseline(
    raw_sdk: RecordedGraph, tree: RecordedGraph
) -> None:
    program, tree_work, flat = WORK["program"], WORK["tree"], WORK["flat"]
    # The component tree is work of its own: the flat baseline does less than the tree one.
    assert flat.callbacks < tree_work.callbacks
    assert program.callbacks <= MAX_WORK_OVER_TREE * tree_work.callbacks, (
        f"the program runs {program.callbacks} event-loop callbacks for {SERVICES} services, "
        f"{program.callbacks / tree_work.callbacks:.2f}x its tree baseline's {tree_work.callbacks}"
    )


def test_the_work_table_counts_the_program_and_both_baselines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    work.main(["--services", "1"])
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["N", "program", "flat", "tree", "÷flat", "÷tree"]
    services, program, flat, tree, over_flat, over_tree = row.split()
    assert services == "1" and int(flat) < int(tree) < int(program)
    assert float(over_flat) == pytest.approx(int(program) / int(flat), abs=1e-3)
    assert float(over_tree) == pytest.approx(int(program) / int(tree), abs=1e-3)


def test_a_measurement_can_stop_after_its_imports(
    program: RecordedGraph,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(baseline.registered_resources(program)))

    def evaluate(run: object) -> dict[str, object]:
        raise AssertionError("--imports-only evaluated the program")

    monkeypatch.setattr(measure, "measure", evaluate)
    measure.main(["tree", str(SERVICES), "--graph", str(graph), "--imports-only"])
    assert capsys.readouterr().out == ""


def test_cachegrinds_summary_is_the_instruction_count() -> None:
    assert instructions.summary("events: Ir\nfl=x.c\n0 5\nsummary: 7253604521\n") == 7253604521
    with pytest.raises(ValueError, match="no summary line"):
        instructions.summary("events: Ir\n")


# Stands in for valgrind: notes its arguments, and counts 1000 instructions for a run, 400 for
# one that stops after its imports.
FAKE_VALGRIND = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
for argument; do case $argument in --cachegrind-out-file=*) out=${argument#*=};; esac; done
case "$*" in *--imports-only*) count=400;; *) count=1000;; esac
printf 'events: Ir\nsummary: %s\n' "$count" > "$out"
"""


def test_the_evaluations_instructions_are_the_runs_less_its_imports(tmp_path: Path) -> None:
    valgrind = tmp_path / "valgrind"
    valgrind.write_text(FAKE_VALGRIND)
    valgrind.chmod(0o755)
    graph = tmp_path / "graph.json"
    counted = instructions.evaluation("baseline", "program", 30, graph, str(valgrind), tmp_path)
    assert counted == 600
    run, imports = (tmp_path / "calls").read_text().splitlines()
    measured = f"-m bench.measure baseline 30 --graph {graph} --collector program"
    assert run.startswith("--tool=cachegrind --cache-sim=no --cachegrind-out-file=")
    assert run.endswith(measured)
    assert imports.endswith(f"{measured} --imports-only")


def test_counting_instructions_needs_valgrind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="needs valgrind"):
        instructions.main(["--services", "1"])


def test_the_fit_finds_no_quadratic_term_in_a_straight_line() -> None:
    noise = [0.03, -0.02, 0.01, -0.03, 0.02, 0.0, 0.02, -0.01, -0.02, 0.01, 0.03, -0.03]
    seconds = [0.4 + 0.04 * n + noise[i % len(noise)] for i, n in enumerate(SIZES)]
    found = fit(SIZES, seconds)
    assert found.per_service == pytest.approx(0.04, rel=0.01)
    assert found.linear


def test_the_fit_finds_a_quadratic_term_where_there_is_one() -> None:
    noise = [0.03, -0.02, 0.01, -0.03, 0.02, 0.0, 0.02, -0.01, -0.02, 0.01, 0.03, -0.03]
    seconds = [0.4 + 0.04 * n + 1e-4 * n * n + noise[i % len(noise)] for i, n in enumerate(SIZES)]
    found = fit(SIZES, seconds)
    assert found.quadratic == pytest.approx(1e-4, rel=0.05)
    assert not found.linear and found.p < 1e-6


@pytest.mark.parametrize(
    ("services", "runs"), [([1, 10, 30], 1), ([1, 10], 2)], ids=["no-freedom", "two-sizes"]
)
def test_a_fit_without_enough_runs_is_refused_before_and_after_measuring(
    services: list[int], runs: int, capsys: pytest.CaptureFixture[str]
) -> None:
    sizes = [n for n in services for _ in range(runs)]
    with pytest.raises(ValueError, match="a quadratic fit needs three sizes and four runs"):
        fit(sizes, [0.1 * n for n in sizes])
    with pytest.raises(SystemExit):
        bench_main(["--services", *map(str, services), "--runs", str(runs)])
    assert "--services needs at least three sizes" in capsys.readouterr().err


def test_the_p_value_is_students_t() -> None:
    # 2.179 is the two-sided 5% point of Student's t with 12 degrees of freedom: 15 runs, three
    # coefficients.
    assert two_sided_p(2.179, 12) == pytest.approx(0.05, abs=1e-3)
    assert two_sided_p(1.0, 10) == pytest.approx(0.341, abs=1e-3)
    assert two_sided_p(-3.0, 5) == two_sided_p(3.0, 5) == pytest.approx(0.030, abs=1e-3)


def test_the_targets_are_linear_time_and_memory_and_the_time_ratios_are_information() -> None:
    row = {"services": 300, "program": {"peak_rss_mb": 522}, "ratio_to_default": 0.9}
    summary = {"by_size": [row], "fits": {"program": {"linear": True}}}
    assert all(bench_cli.targets(summary).values())
    assert len(bench_cli.targets(summary)) == 2
    row["program"]["peak_rss_mb"] = 600
    assert not all(bench_cli.targets(summary).values())


def test_instructions_hold_the_program_to_its_tree_baseline_from_30_services_on() -> None:
    assert instructions.missed_target({10: 1.5, 30: 1.06, 100: 1.10, 300: 1.05}) == []
    assert instructions.missed_target({30: 1.11, 300: 1.2}) == [
        "N=30: 1.110x the tree baseline",
        "N=300: 1.200x the tree baseline",
    ]
