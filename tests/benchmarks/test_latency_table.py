"""The latency benchmark's table: each cell shows the median of its runs, their range, and the slowdown over the
same tool's loopback median."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from latency import LatencyRun, render


def _run(wall: float, rtt_ms: float, repeat: int, requests: int = 100) -> LatencyRun:
    connections = None if rtt_ms == 0 else 10
    return LatencyRun("quick", 8, rtt_ms, wall, requests, connections, 0, False, "", repeat, cpu_seconds=wall / 2)


def test_a_cell_shows_the_median_run_its_range_and_the_slowdown_over_the_loopback_median() -> None:
    runs = [
        _run(6.0, 0, 1),
        _run(9.0, 0, 2),
        _run(7.0, 0, 3),
        _run(14.0, 50, 1, requests=101),
        _run(21.0, 50, 2, requests=102),
        _run(12.0, 50, 3, requests=103),
    ]

    table = render(runs)

    rows = [line for line in table.splitlines() if line.startswith("| `conformance run")]
    assert rows == [
        "| `conformance run --budget quick --concurrency 8` | 0 ms | 7.0 | 6.0-9.0 | 3.5 | 100 | - | - | 0 |",
        "| `conformance run --budget quick --concurrency 8` | 50 ms | 14.0 | 12.0-21.0 | 7.0 | 101 | 10 | 2.0 | 0 |",
    ]
    assert "3 run(s) per cell" in table


def test_requests_are_shared_among_the_requirements_each_check_verifies() -> None:
    from latency import requests_per_requirement

    from conformance.checker.scenarios import ENGINE as SCENARIOS

    scenario, verified = next((name, covers) for name, covers in SCENARIOS.checks().items() if len(covers) > 1)
    shares, overhead = requests_per_requirement({scenario: 10 * len(verified), "cleanup": 7, "lifecycle-2": 0})

    assert all(shares[requirement_id] == 10 for requirement_id in verified)
    assert overhead == {"cleanup": 7}


def test_a_run_at_auto_concurrency_shows_the_level_it_chose(tmp_path: Path) -> None:
    from latency import _from_report

    report = tmp_path / "report.json"
    notes = ["read-only run: ...", "--concurrency auto: 13 (the target answered in 52.1 ms at best: ...)"]
    report.write_text(json.dumps({"run": {"notes": notes, "requests_by_check": {"cleanup": 3}}}), encoding="utf-8")

    by_check, chosen = _from_report(report)
    run = LatencyRun("quick", "auto", 50, 15.0, 100, 10, 0, False, "", 1, by_check, chosen)

    assert (by_check, chosen) == ({"cleanup": 3}, 13)
    assert run.title == "`conformance run --budget quick --concurrency auto` (chose 13)"
    assert _from_report(tmp_path / "missing.json") == ({}, None)


def test_the_note_of_a_run_the_interpreter_aborted_names_the_fatal_error(tmp_path: Path) -> None:
    """After an abort the tail is the threads' stacks and a list of modules: the fatal error's line comes first."""
    from harness import ChildRun

    output = tmp_path / "output.txt"
    lines = ["CONFORMANT? no", "Fatal Python error: Aborted", "", "Thread 0x1 (most recent call first):", "  File x"]
    output.write_text("\n".join([*lines, "", "Extension modules: yaml._yaml (total: 1)"]), encoding="utf-8")
    child = ChildRun([], -6, 1.0, 1.0, False, output)

    assert child.output_tail(2) == "Fatal Python error: Aborted |  | Extension modules: yaml._yaml (total: 1)"
    output.write_text("one\ntwo\nthree\n", encoding="utf-8")
    assert child.output_tail(2) == "two | three"
