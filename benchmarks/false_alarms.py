"""False alarms: how often `conformance run` exits non-zero against servers that break nothing.

The clean reference server, and the same server in its early-closing mode (`conformance serve
--reject-oversize-early`: an oversize body gets 413 from its headers and the connection is closed unread, as
many servers and proxies do), each checked at `quick` and `standard` with N seeds, strict (a SHOULD failure
counts), at each `--concurrency` (checks side by side must not disturb each other's counts). A conformant
target must get exit 0 every time: every other exit is a false alarm (1), or a run that cried "could not
complete" (3) or a usage error (2). Writes the `false-alarms` section of RESULTS.md.

    .venv/bin/python benchmarks/false_alarms.py --seeds 20     # 2 modes x 2 budgets x 3 levels x 20 seeds
    .venv/bin/python benchmarks/false_alarms.py --seeds 5 --concurrency 4
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import harness

MODES = {"clean": (), "early-closing": ("--reject-oversize-early",)}
BUDGETS = ("quick", "standard")


@dataclass
class Outcome:
    """One run: its mode, budget and seed, and how it ended."""

    mode: str
    budget: str
    seed: int
    concurrency: int
    exit_code: int | None  # None: stopped at the timeout
    seconds: float
    verdict: str = ""
    why: str = ""  # for a run that did not exit 0: the error, or the failed and unchecked requirements


def check_once(
    mode: str, budget: str, seed: int, concurrency: int, root: Path, cache: Path, timeout: float
) -> Outcome:
    """One `conformance run` against a fresh reference server in `mode`."""
    workdir = harness.fresh_workdir(root, f"{mode}-{budget}-{seed}-c{concurrency}", cache)
    with harness.ReferenceProcess(workdir, serve_args=MODES[mode]) as server:
        report_dir = workdir / "reports"
        argv = harness.conformance_argv(budget, server.base_url, report_dir, seed)
        argv += ["--concurrency", str(concurrency)]
        child = harness.run_child(
            argv, cwd=workdir, env=harness.conformance_env(), timeout=timeout, output=workdir / "output.txt"
        )
    outcome = Outcome(mode, budget, seed, concurrency, child.exit_code, round(child.wall_seconds, 1))
    try:
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        outcome.why = f"no report.json: {child.output_tail(2)}"
        return outcome
    outcome.verdict = report["verdict"]
    if child.exit_code != 0:
        failed = [item["id"] for item in report["requirements"] if item["status"] == "failed"]
        summary = (report.get("completeness") or {}).get("summary")
        outcome.why = report["error"] or (f"failed: {', '.join(failed)}" if failed else summary or "")
    return outcome


def render(outcomes: list[Outcome], seeds: list[int], jobs: int) -> str:
    """The RESULTS.md section: per mode and budget, how many runs did not exit 0, and why."""
    total = [item for item in outcomes if item.exit_code != 0]
    lines = [
        "## False alarms",
        "",
        f"Measured {harness.machine_line()}; seeds {seeds[0]}..{seeds[-1]}; {jobs} run(s) at a time; every run "
        "`--strict` (a SHOULD failure counts) against a fresh reference server in its own process.",
        "",
        f"**{len(total)} of {len(outcomes)} runs against servers that break nothing did not exit 0** (target: 0).",
        "",
        "| server | budget | concurrency | runs | not exit 0 | median time |",
        "|---|---|---:|---:|---:|---:|",
    ]
    levels = sorted({item.concurrency for item in outcomes})
    for mode in MODES:
        for budget in BUDGETS:
            for level in levels:
                key = (mode, budget, level)
                cell = [item for item in outcomes if (item.mode, item.budget, item.concurrency) == key]
                if not cell:
                    continue
                bad = sum(1 for item in cell if item.exit_code != 0)
                median = harness.median([item.seconds for item in cell])
                lines.append(f"| {mode} | {budget} | {level} | {len(cell)} | {bad} | {median:.1f} s |")
    for item in total:
        lines.append(
            f"- {item.mode}, {item.budget}, --concurrency {item.concurrency}, seed {item.seed}: "
            f"exit {item.exit_code}, {item.why}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per mode and budget (default 20)")
    parser.add_argument("--first-seed", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--budgets", default=",".join(BUDGETS), help="budgets (default: quick,standard)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default 1)")
    parser.add_argument("--concurrency", default="1,4,8", help="--concurrency levels of each run (default 1,4,8)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped (900)")
    parser.add_argument("--output", type=Path, default=harness.RESULTS, help="the RESULTS.md to update")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "false_alarms.json", help="raw results")
    args = parser.parse_args(argv)
    budgets = [item.strip() for item in args.budgets.split(",") if item.strip()]
    try:
        levels = [int(item) for item in args.concurrency.split(",") if item.strip()]
    except ValueError:
        parser.error(f"bad --concurrency {args.concurrency!r}: comma-separated whole numbers")
    if args.seeds < 1 or args.jobs < 1 or not set(budgets) <= set(BUDGETS) or not levels or min(levels) < 1:
        parser.error(f"bad --seeds {args.seeds}, --jobs {args.jobs}, --budgets {budgets} or --concurrency {levels}")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    root = Path(tempfile.mkdtemp(prefix="bench-false-alarms-"))
    try:
        cache = harness.warm_hypothesis_cache(root)
        jobs = [
            (mode, budget, seed, level) for seed in seeds for budget in budgets for level in levels for mode in MODES
        ]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            outcomes = list(pool.map(lambda job: check_once(*job, root, cache, args.timeout), jobs))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.json.write_text(json.dumps([asdict(item) for item in outcomes], indent=2) + "\n", encoding="utf-8")
    harness.write_section("false-alarms", render(outcomes, seeds, args.jobs), args.output)
    failures = [item for item in outcomes if item.exit_code != 0]
    print(f"{len(failures)} of {len(outcomes)} runs did not exit 0; wrote {args.output} and {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
