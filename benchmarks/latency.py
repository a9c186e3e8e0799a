"""Time to verdict across a network: each tool against the reference server at 0 ms and at 50 ms round trip.

Staging and vendors' servers are not on loopback. For each round trip (`--rtt-ms`, default 0 and 50), a fresh
clean reference server (`conformance serve`, its own process, access log on) is put behind
`delay_proxy.DelayProxy` (none at 0 ms) and checked by each contender in turn, one after another, with the
same seed:

- `conformance run --budget quick|standard --concurrency N --base-url PROXY` (keys in the environment; N may be
  `auto`, the default, and the level it chose is shown);
- plain `schemathesis run` with its defaults (the project's spec, the keys as headers, the same seed).

Measured per run: wall time from start to exit (start-up included); the CPU time the tool used, user and
system (on this shared 2-core machine a run of ours is bound by its CPU, one interpreter's, as much as by the
network); the requests the server answered (its access log); the connections the tool opened (the proxy's
count); the exit code; and the slowdown of each tool at each round trip over its own loopback time. Writes the
`latency` section of RESULTS.md and `latency.json`.

A run's wall time varies by a second or two from one run to the next on this 2-core machine (threads and the
GIL), so `--repeat N` measures every cell N times, in turn, and the table shows the median with the range.

    .venv/bin/python benchmarks/latency.py    # 0 and 50 ms; quick, standard at auto, 1, 4, 8; Schemathesis
    .venv/bin/python benchmarks/latency.py --rtt-ms 50 --budgets quick --concurrency 8 --no-schemathesis --repeat 3
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import harness
from delay_proxy import DelayProxy

PLAIN = "schemathesis"


@dataclass
class LatencyRun:
    """One tool's run at one round trip."""

    tool: str  # a budget of `conformance run`, or PLAIN
    concurrency: int | str | None  # `--concurrency` of ours, a number or "auto" (None: plain Schemathesis)
    rtt_ms: float
    wall_seconds: float
    requests: int
    connections: int | None  # opened through the proxy (None at 0 ms: no proxy)
    exit_code: int | None
    timed_out: bool
    note: str = ""
    repeat: int = 1  # which of the --repeat runs of this cell
    requests_by_check: dict[str, int] = field(default_factory=dict)  # report.json's (ours only)
    chosen: int | None = None  # the level `--concurrency auto` chose (report.json's note)
    cpu_seconds: float | None = None  # the tool's user and system CPU time

    @property
    def title(self) -> str:
        if self.tool == PLAIN:
            return "plain `schemathesis run`"
        chosen = f" (chose {self.chosen})" if self.chosen is not None else ""
        return f"`conformance run --budget {self.tool} --concurrency {self.concurrency}`{chosen}"

    @property
    def contender(self) -> tuple[str, int | str | None]:
        return self.tool, self.concurrency


def measure(
    tool: str, concurrency: int | str | None, rtt_ms: float, workdir: Path, timeout: float, seed: int, repeat: int = 1
) -> LatencyRun:
    """One run of `tool` against a fresh clean server at `rtt_ms`; requests counted by the server."""
    output = workdir / "output.txt"
    with harness.ReferenceProcess(workdir, access_log=True) as server:
        proxy = _proxy_for(server.base_url, rtt_ms)
        base_url = _through(server.base_url, proxy)
        try:
            if tool == PLAIN:
                argv = harness.schemathesis_argv(base_url, workdir / "schemathesis.json", seed)
                env = harness.clean_environment()
            else:
                argv = harness.conformance_argv(tool, base_url, workdir / "reports", seed)
                argv += ["--concurrency", str(concurrency)]
                env = harness.conformance_env()
            child = harness.run_child(argv, cwd=workdir, env=env, timeout=timeout, output=output)
        finally:
            if proxy is not None:
                proxy.stop()
    note = ""
    if child.timed_out or (tool != PLAIN and child.exit_code != 0):
        note = f"exit {child.exit_code}{' (timed out)' if child.timed_out else ''}: {child.output_tail(2)}"
    run = LatencyRun(
        tool,
        concurrency,
        rtt_ms,
        child.wall_seconds,
        server.requests_served(),
        proxy.connections if proxy is not None else None,
        child.exit_code,
        child.timed_out,
        note,
        repeat,
        *_from_report(workdir / "reports" / "report.json"),
        child.cpu_seconds,
    )
    print(
        f"{rtt_ms:5.0f} ms  {run.title:58} {run.wall_seconds:7.1f} s {child.cpu_seconds:5.1f} s CPU "
        f"{run.requests:6} req "
        f"{run.connections if run.connections is not None else '-':>4} conn  exit {run.exit_code}  {note}",
        file=sys.stderr,
        flush=True,
    )
    return run


def _from_report(report: Path) -> tuple[dict[str, int], int | None]:
    """A run of ours: its answered requests by the check that sent them, and the level `--concurrency auto`
    chose (empty and None: no report, or no choice)."""
    try:
        run = json.loads(report.read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError):
        return {}, None
    notes = run.get("notes", [])
    chosen = next((found for note in notes if (found := re.match(r"--concurrency auto: (\d+)", note))), None)
    return run.get("requests_by_check", {}), int(chosen[1]) if chosen else None


def requests_per_requirement(by_check: dict[str, int]) -> tuple[dict[str, float], dict[str, int]]:
    """Each requirement's share of a run's requests, and the requests no requirement's check sent (preflight,
    cleanup). A check's requests are shared evenly among the requirements it verifies (the lifecycle's lanes are
    one check); the answers every request gets are judged too (HTTP-01 and the like), at no extra cost."""
    from conformance.checker.engines import engines
    from conformance.checker.lifecycle import CHECK as LIFECYCLE_LANE

    covers = {name: requirements for engine in engines() for name, requirements in engine.checks().items()}
    lifecycle = next(name for name in covers if name.startswith("lifecycle"))
    shares: dict[str, float] = {}
    overhead: dict[str, int] = {}
    for check, count in by_check.items():
        name = lifecycle if check.startswith(f"{LIFECYCLE_LANE}-") else check
        requirements = covers.get(name)
        if not requirements:
            overhead[check] = overhead.get(check, 0) + count
            continue
        for requirement_id in requirements:
            shares[requirement_id] = shares.get(requirement_id, 0.0) + count / len(requirements)
    return shares, overhead


def render_requests(runs: list[LatencyRun]) -> str:
    """Requests per requirement, per budget of ours (its first run: the same seed sends the same requests)."""
    from conformance.contract.catalogue import catalogue

    firsts: dict[str, LatencyRun] = {}
    for run in runs:
        if run.tool != PLAIN and run.requests_by_check and run.tool not in firsts:
            firsts[run.tool] = run
    if not firsts:
        return ""
    budgets = list(firsts)
    split = {budget: requests_per_requirement(firsts[budget].requests_by_check) for budget in budgets}
    lines = [
        "### Requests per requirement",
        "",
        "Each requirement's share of a run's answered requests (`report.json`'s `requests_by_check`): a check's",
        "requests are shared evenly among the requirements it verifies. The preflight and the cleanup verify",
        "nothing of their own. One run per budget, the first measured.",
        "",
        "| requirement | " + " | ".join(budgets) + " |",
        "|---|" + "---|" * len(budgets),
    ]
    for item in catalogue():
        cells = [f"{split[budget][0].get(item.id, 0.0):.0f}" for budget in budgets]
        lines.append(f"| {item.id} | " + " | ".join(cells) + " |")
    for name in sorted({name for budget in budgets for name in split[budget][1]}):
        lines.append(f"| ({name}) | " + " | ".join(str(split[budget][1].get(name, 0)) for budget in budgets) + " |")
    totals = [str(sum(firsts[budget].requests_by_check.values())) for budget in budgets]
    lines.append("| **all** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def _proxy_for(base_url: str, rtt_ms: float) -> DelayProxy | None:
    if rtt_ms <= 0:
        return None
    parts = urlsplit(base_url)
    proxy = DelayProxy(parts.hostname or "127.0.0.1", parts.port or 80, rtt_ms / 1000)
    proxy.start()
    return proxy


def _through(base_url: str, proxy: DelayProxy | None) -> str:
    """`base_url` with the proxy's port in place of the server's."""
    if proxy is None:
        return base_url
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))


def render(runs: list[LatencyRun]) -> str:
    """The latency section: per tool and round trip, the median wall time of its runs (and their range),
    requests, connections, and the slowdown over its own loopback median."""
    cells: dict[tuple[tuple[str, int | str | None], float], list[LatencyRun]] = {}
    for run in runs:
        cells.setdefault((run.contender, run.rtt_ms), []).append(run)
    repeats = max(len(cell) for cell in cells.values())
    lines = [
        "## Latency",
        "",
        f"Measured {harness.machine_line()}; {repeats} run(s) per cell, each cell in turn, same seed; the",
        "round trip added by `benchmarks/delay_proxy.py` (loopback proxy, half each way). Wall time is the median",
        "of the cell's runs (of two, the slower), with the fastest and slowest; the CPU time (user and system),",
        "requests and connections are the median run's.",
        "",
        "| tool | round trip | wall s (median) | range s | CPU s | requests | connections | x loopback time | exit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    medians = {key: _median_run(cell) for key, cell in cells.items()}
    for (contender, rtt_ms), run in medians.items():
        walls = sorted(item.wall_seconds for item in cells[(contender, rtt_ms)])
        base = medians.get((contender, 0.0))
        slowdown = f"{run.wall_seconds / base.wall_seconds:.1f}" if base and rtt_ms else "-"
        connections = "-" if run.connections is None else str(run.connections)
        cpu = "-" if run.cpu_seconds is None else f"{run.cpu_seconds:.1f}"
        exits = ",".join(sorted({str(item.exit_code) for item in cells[(contender, rtt_ms)]}))
        lines.append(
            f"| {run.title} | {rtt_ms:g} ms | {run.wall_seconds:.1f} | {walls[0]:.1f}-{walls[-1]:.1f} | {cpu} | "
            f"{run.requests} | {connections} | {slowdown} | {exits} |"
        )
    problems = [f"- {run.title} at {run.rtt_ms:g} ms (run {run.repeat}): {run.note}" for run in runs if run.note]
    return "\n".join(lines + (["", *problems] if problems else []))


def _level(text: str) -> int | str:
    """A `--concurrency` value: "auto" or a whole number (ValueError otherwise)."""
    return text if text == "auto" else int(text)


def _median_run(cell: list[LatencyRun]) -> LatencyRun:
    """The run of median wall time (of an even number, the slower of the middle two: never the flattering one)."""
    ordered = sorted(cell, key=lambda run: run.wall_seconds)
    return ordered[len(ordered) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt-ms", default="0,50", help="round trips to measure, in ms (default 0,50)")
    parser.add_argument("--budgets", default="quick,standard", help="budgets of ours (default quick,standard)")
    parser.add_argument("--no-schemathesis", action="store_true", help="leave plain Schemathesis out")
    parser.add_argument("--seed", type=int, default=harness.SEED, help=f"seed for every tool ({harness.SEED})")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped (900)")
    parser.add_argument("--output", type=Path, default=harness.RESULTS, help="the RESULTS.md to update")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "latency.json", help="raw results")
    parser.add_argument("--concurrency", default="auto,1,4,8", help="--concurrency values of ours (auto,1,4,8)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell, the median shown (default 1)")
    args = parser.parse_args(argv)
    try:
        round_trips = [float(item) for item in args.rtt_ms.split(",") if item.strip()]
        concurrencies = [_level(item.strip()) for item in args.concurrency.split(",") if item.strip()]
    except ValueError:
        parser.error("--rtt-ms and --concurrency are lists of numbers, e.g. 0,50 and auto,1,4")
    if args.repeat < 1:
        parser.error("--repeat is a number of runs, 1 or more")
    budgets = [item.strip() for item in args.budgets.split(",") if item.strip()]
    if any(budget not in ("quick", "standard", "deep") for budget in budgets):
        parser.error("--budgets is a list of quick, standard, deep")
    contenders: list[tuple[str, int | str | None]] = [(budget, count) for budget in budgets for count in concurrencies]
    contenders += [] if args.no_schemathesis else [(PLAIN, None)]

    root = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    try:
        cache = harness.warm_hypothesis_cache(root)
        runs = [
            measure(
                tool, count, rtt, harness.fresh_workdir(root, f"{tool}-{rtt:g}", cache), args.timeout, args.seed, repeat
            )
            for repeat in range(1, args.repeat + 1)
            for rtt in round_trips
            for tool, count in contenders
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.json.write_text(json.dumps([asdict(run) for run in runs], indent=2) + "\n", encoding="utf-8")
    sections = [part for part in (render(runs), render_requests(runs)) if part]
    harness.write_section("latency", "\n\n".join(sections), args.output)
    print(f"wrote the latency section of {args.output} and {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
