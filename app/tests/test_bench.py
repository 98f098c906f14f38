"""`make -C app bench` (bench.py): one fresh start of the app, as deployed, timed to its first
/readyz 200 with its resident memory then; the report names both targets."""

from __future__ import annotations

import re

import pytest

import bench


def test_the_bench_reports_start_to_ready_and_resident_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = bench.main(["--runs", "1"])
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"start to /readyz 200: median \d+\.\d{3} s \(min .*\) over 1 runs; target < 1\.5 s",
        out[0],
    )
    assert re.fullmatch(
        r"resident memory when ready: median \d+\.\d MB \(max .*\); target < 120 MB", out[1]
    )
    assert code in (0, 1)  # a loaded machine may miss a target; the bench says which
