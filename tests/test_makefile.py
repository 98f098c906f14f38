"""The Makefile: a lean first plan, one lint for `make lint` and `make test`, a help that lists
every target. Checked with `make -n` against virtual environments that do not exist yet."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from secretless_aks.offline.harness import PROJECT_DIR

# The checks of `make lint`, in order: pyright twice, the second time on the policy pack's files
# that import the policy SDK, against the pack's own venv.
LINT = [
    "ruff check",
    "ruff format --check",
    "pyright",
    "pyright -p policy --pythonpath",
    "actionlint",
    "zizmor",
]


# How the Makefile installs an environment: uv, from the project's lock, nothing else.
UV_SYNC = ".venv-uv/bin/uv sync --locked --quiet"


def make(*args: str, venv: Path) -> list[str]:
    """`make` with the program's venv at `venv` and the policy pack's beside it (the pack's is
    policy/venv in the Makefile, where PulumiPolicy.yaml names it)."""
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(PROJECT_DIR),
            f"VENV={venv}",
            f"POLICY_VENV={venv.parent / 'policy-venv'}",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        # Not the variables of a `make test` this runs under (JOBS=1, say): the defaults.
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}},
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("target", ["plan", "bench", "preview", "up"])
def test_the_program_targets_install_only_the_runtime_requirements(
    target: str, tmp_path: Path
) -> None:
    commands = "\n".join(make("-n", target, venv=tmp_path / "venv"))
    assert f"UV_PROJECT_ENVIRONMENT={tmp_path}/venv {UV_SYNC} --inexact >&2" in commands
    assert "--group" not in commands


def test_make_test_makes_every_environment_then_runs_the_suites_side_by_side(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"
    # JOBS as it is by default (a `make test JOBS=1` this runs under exports its own).
    commands = make("-n", "test", "JOBS=2", venv=venv)
    suites = "make --no-print-directory --jobs=2 --output-sync=target "
    (run,) = [line for line in commands if line.startswith(suites)]
    # The longest first, so that the two cores are busy to the end.
    assert run.removeprefix(suites).split() == [
        "test-platform",
        "test-app",
        "lint",
        "checkov",
        "test-consumer",
    ]
    made = commands[: commands.index(run)]
    assert f"UV_PROJECT_ENVIRONMENT={venv} {UV_SYNC} --inexact --group dev" in made
    assert "make --no-print-directory -C app .venv/.installed VENV=.venv" in made
    assert make("-n", "test-platform", venv=venv)[-1] == f"{venv}/bin/pytest"
    app = make("-n", "test-app", venv=venv)
    assert "make --no-print-directory -C app test VENV=.venv" in app
    consumer = (
        f"PYTHONPATH={PROJECT_DIR} make --no-print-directory -C examples/consumer check VENV={venv}"
    )
    assert consumer in make("-n", "test-consumer", venv=venv)
    assert any(line.endswith('checkov/skips.yaml)"') for line in make("-n", "checkov", venv=venv))
    lint = make("-n", "lint", venv=venv)
    installs = [i for i, line in enumerate(lint) if " sync " in line]
    assert lint[installs[-1]].endswith(f"{UV_SYNC} --inexact --group dev")
    checks = [line.split("/bin/", 1)[1] for line in lint[installs[-1] + 1 :] if "/bin/" in line]
    assert len(checks) == len(LINT), checks
    assert all(check.startswith(tool) for check, tool in zip(checks, LINT, strict=True)), checks


def test_the_policy_pack_gets_its_venv_from_its_lock(tmp_path: Path) -> None:
    """Built before the lint that type-checks the pack and the tests that run it."""
    pack = tmp_path / "policy-venv"
    lint = make("-n", "lint", venv=tmp_path / "venv")
    installs = [line for line in lint if line.startswith(f"UV_PROJECT_ENVIRONMENT={pack} ")]
    assert installs == [f"UV_PROJECT_ENVIRONMENT={pack} {UV_SYNC} --project policy"]
    assert f"{tmp_path}/venv/bin/pyright -p policy --pythonpath {pack}/bin/python" in lint
    assert lint.index(installs[0]) < lint.index(f"{tmp_path}/venv/bin/pyright")
    # `make test` needs it for its own sake too (tests/test_policy_pack.py runs the pack).
    makefile = (PROJECT_DIR / "Makefile").read_text()
    for rule in ("environments", "test-platform"):
        (prerequisites,) = re.findall(rf"^{rule}: (.*?) ##", makefile, re.MULTILINE)
        assert "$(POLICY_VENV)/.installed" in prerequisites.split(), rule


def test_make_policy_checks_a_saved_plan_with_the_programs_runtime(tmp_path: Path) -> None:
    commands = make("-n", "policy", "PLAN=plan.json", venv=tmp_path / "venv")
    assert commands[-1] == f"{tmp_path}/venv/bin/python -m policy.check plan.json"
    joined = "\n".join(commands)
    assert f"UV_PROJECT_ENVIRONMENT={tmp_path}/venv {UV_SYNC} --inexact >&2" in joined
    assert "--group" not in joined and "policy-venv" not in joined


def test_make_policy_without_a_plan_says_how_to_save_one_and_builds_nothing(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT_DIR), f"VENV={tmp_path}", "policy"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    how = 'make plan STACK=dev ARGS="--format json --output plan.json"'
    assert f"PLAN=<file> names the plan: {how}" in result.stderr
    assert result.stdout == "" and not any(tmp_path.iterdir())


def test_make_alone_lists_every_target_with_a_description(tmp_path: Path) -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    targets = re.findall(r"^([a-z-]+):", makefile, re.MULTILINE)
    listed = dict(
        line.split(None, 2)[1:]
        for line in make(venv=tmp_path / "venv")
        if line.startswith("  make ")
    )
    assert list(listed) == targets
    assert all(listed.values())


def test_make_bench_prints_the_critical_path_then_runs_the_benchmark(tmp_path: Path) -> None:
    """The critical path is instant and always printed; the benchmark may exit 1 on a missed
    target, so it comes last."""
    python = f"{tmp_path}/venv/bin/python"
    commands = make("-n", "bench", "ARGS=--runs 5", venv=tmp_path / "venv")
    assert commands[-2:] == [
        f"{python} -m secretless_aks.offline.critical_path dev prod",
        f"{python} -m bench --runs 5",
    ]


def test_a_plan_on_stdout_is_only_the_plan_even_when_make_builds_the_venv() -> None:
    # make echoes every recipe line to stdout unless it starts with @: the lines that build
    # the runtime venv and run the plan are silent, and pip writes to stderr.
    makefile = (PROJECT_DIR / "Makefile").read_text()
    for target in ("$(VENV)/.runtime:", "$(VENV)/.bootstrap:", "plan:", "pr-comment:"):
        recipe = makefile.split(f"\n{target}", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
        assert recipe, target
        for line in recipe:
            assert line.startswith("\t@"), (target, line)
            if " pip " in line:
                assert line.endswith(">&2"), (target, line)


def test_make_plan_json_reads_as_json(tmp_path: Path) -> None:
    # With this checkout's venv (built already): what a script piping to jq gets.
    venv = PROJECT_DIR / ".venv"
    if not (venv / ".runtime").exists():
        pytest.skip("no .venv here")
    out = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(PROJECT_DIR),
            "plan",
            "STACK=dev",
            "ARGS=--format json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out)["stack"] == "dev"
