"""Speed: wall time, requests, requests per second and peak memory of each tool, and the server's ceiling.

Contenders, each against a fresh clean reference server, run in turn within each round, the order rotated
from round to round, so that a noisy machine slows all of them alike and the ratios hold:

- `conformance run --budget B` with no --base-url: the bundled reference server in the checker's own
  process, as `make run` does (requests: report.json's count; memory includes the server);
- `conformance run --budget B --base-url URL` against `conformance serve` in its own process (requests
  counted by the server's access log);
- plain `schemathesis run` with its defaults, the keys as headers, the same seed, against the same kind of
  server (requests counted by the server's access log).

Then the reference server's own ceiling: `wrk` against a `conformance serve` process started the same way
(access log on), for a GET of one record, a list page and a create, at 1 connection (what the tools use)
and a few more. Writes the `speed` section of RESULTS.md and the raw numbers as JSON.

    .venv/bin/python benchmarks/speed.py                 # 3 rounds of quick, standard and Schemathesis
    .venv/bin/python benchmarks/speed.py --rounds 1 --budgets quick
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import harness

from conformance.contract.facts import COLLECTION_PATH, DEFAULT_EVENT_TYPE, WEBHOOK_ORIGIN

PLAIN = "schemathesis"
BUNDLED, OWN_PROCESS = "bundled (in the checker's process)", "own process"
CONNECTIONS = (1, 4, 16)
CREATE_BODY = {"shopId": "bench", "webHookType": DEFAULT_EVENT_TYPE, "webHookUrls": [f"{WEBHOOK_ORIGIN}/b"]}


@dataclass(frozen=True)
class Contender:
    """A tool and how it meets its server."""

    tool: str  # a budget of `conformance run`, or PLAIN
    server: str  # BUNDLED or OWN_PROCESS

    @property
    def title(self) -> str:
        name = "plain `schemathesis run`" if self.tool == PLAIN else f"`conformance run --budget {self.tool}`"
        return f"{name}, server {self.server}"


@dataclass
class Measurement:
    """One run of one contender."""

    tool: str
    server: str
    round: int
    wall_seconds: float
    requests: int | None
    max_rss_mb: float
    exit_code: int | None
    timed_out: bool
    note: str = ""

    @property
    def rate(self) -> float | None:
        return self.requests / self.wall_seconds if self.requests and self.wall_seconds else None


# -- one run of a contender ---------------------------------------------------------------------------------


def measure(contender: Contender, round_number: int, workdir: Path, timeout: float, seed: int) -> Measurement:
    """Run the contender once against a fresh clean server; requests counted where the server is."""
    output = workdir / "output.txt"
    if contender.server == BUNDLED:
        report_dir = workdir / "reports"
        argv = harness.conformance_argv(contender.tool, None, report_dir, seed)
        child = harness.run_child(argv, cwd=workdir, env=harness.conformance_env(), timeout=timeout, output=output)
        requests, note = _reported_requests(report_dir / "report.json")
    else:
        with harness.ReferenceProcess(workdir, access_log=True) as server:
            if contender.tool == PLAIN:
                argv = harness.schemathesis_argv(server.base_url, workdir / "schemathesis.json", seed)
                env = harness.clean_environment()
            else:
                argv = harness.conformance_argv(contender.tool, server.base_url, workdir / "reports", seed)
                env = harness.conformance_env()
            child = harness.run_child(argv, cwd=workdir, env=env, timeout=timeout, output=output)
        requests, note = server.requests_served(), ""
        if contender.tool != PLAIN:
            reported, _ = _reported_requests(workdir / "reports" / "report.json")
            note = f"the checker counted {reported}" if reported != requests else ""
    if child.exit_code not in (0, None) or child.timed_out:
        note = f"exit {child.exit_code}{' (timed out)' if child.timed_out else ''}: {child.output_tail(2)}"
    result = Measurement(
        contender.tool,
        contender.server,
        round_number,
        child.wall_seconds,
        requests,
        child.max_rss_mb,
        child.exit_code,
        child.timed_out,
        note,
    )
    rate = f"{result.rate:6.0f} req/s" if result.rate else "     - req/s"
    print(
        f"round {round_number}  {contender.title:70} {result.wall_seconds:6.1f} s {requests or 0:6} req {rate} "
        f"{result.max_rss_mb:5.0f} MB  {note}",
        file=sys.stderr,
        flush=True,
    )
    return result


def _reported_requests(path: Path) -> tuple[int | None, str]:
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["run"]["requests"]), ""
    except (OSError, ValueError, KeyError, TypeError):
        return None, "no report.json"


def rounds(
    contenders: list[Contender], count: int, root: Path, cache: Path | None, timeout: float, seed: int
) -> list[Measurement]:
    """`count` rounds; round r starts with contender r (mod n), so none always runs first or last."""
    results = []
    for number in range(1, count + 1):
        shift = (number - 1) % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            workdir = harness.fresh_workdir(root, f"{contender.tool}-{number}", cache)
            results.append(measure(contender, number, workdir, timeout, seed))
    return results


def warm_up(root: Path, cache: Path) -> None:
    """One untimed quick run: fills the shared Hypothesis cache with our modules' constants, and the disk
    cache with every module both tools import."""
    workdir = harness.fresh_workdir(root, "warm-up", cache)
    argv = harness.conformance_argv("quick", None, workdir / "reports", harness.SEED)
    harness.run_child(argv, cwd=workdir, env=harness.conformance_env(), timeout=300, output=workdir / "output.txt")


# -- the server's ceiling -----------------------------------------------------------------------------------


@dataclass
class Ceiling:
    """What `wrk` got from the reference server for one kind of request."""

    request: str
    connections: int
    access_log: bool
    rate: float
    latency: str


def ceilings(seconds: int, connections: tuple[int, ...], root: Path) -> list[Ceiling]:
    """wrk against a fresh server per kind of request: GET of one record, a list page, a create."""
    if shutil.which("wrk") is None:
        print("speed.py: wrk is not installed (apt-get install wrk): no server ceiling", file=sys.stderr)
        return []
    keys = harness.demo_keys()
    headers = ["-H", f"x-api-key: {keys['partner']}", "-H", f"Authorization: {keys['developer']}"]
    results = []
    for request in ("GET one record", "list page (limit 10)", "create"):
        for access_log in (True, False):
            counts = connections if access_log else connections[:1]  # the log's cost, at one connection
            workdir = harness.fresh_workdir(root, "wrk", None)
            with harness.ReferenceProcess(workdir, access_log=access_log) as server:
                url, script = _wrk_target(server.base_url, request, server.workdir)
                for count in counts:
                    rate, latency = _wrk(url, headers, script, count, seconds)
                    results.append(Ceiling(request, count, access_log, rate, latency))
                    print(
                        f"wrk {request:22} {count:3} connection(s), access log {'on' if access_log else 'off'}: "
                        f"{rate:8.0f} req/s, latency {latency}",
                        file=sys.stderr,
                        flush=True,
                    )
    return results


def _wrk_target(base_url: str, request: str, workdir: Path) -> tuple[str, Path | None]:
    """The URL (and for a create, the Lua script) of one kind of request; records to read are made first."""
    collection = f"{base_url}{COLLECTION_PATH}"
    if request == "create":
        script = workdir / "create.lua"
        body = json.dumps(CREATE_BODY)
        script.write_text(
            f'wrk.method = "POST"\nwrk.body = \'{body}\'\nwrk.headers["Content-Type"] = "application/json"\n'
        )
        return collection, script
    ids = [_create(collection)["id"] for _ in range(20)]
    if request == "GET one record":
        return f"{collection}/{ids[0]}", None
    return f"{collection}?limit=10", None


def _create(collection: str) -> dict:
    keys = harness.demo_keys()
    request = urllib.request.Request(
        collection,
        data=json.dumps(CREATE_BODY).encode(),
        headers={"x-api-key": keys["partner"], "Authorization": keys["developer"], "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _wrk(url: str, headers: list[str], script: Path | None, connections: int, seconds: int) -> tuple[float, str]:
    argv = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s", *headers]
    argv += ["-s", str(script)] if script else []
    output = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    latency = re.search(r"Latency\s+(\S+)", output)
    return (float(rate.group(1)) if rate else 0.0), (latency.group(1) if latency else "?")


# -- the section --------------------------------------------------------------------------------------------


def render(
    measured: list[Measurement], limits: list[Ceiling], contenders: list[Contender], count: int, cold: bool
) -> str:
    """The speed section of RESULTS.md: medians per contender, ratios to plain Schemathesis, the ceiling."""
    start = "cold: each run in a new directory, Hypothesis computing its Unicode table" if cold else "warm"
    lines = ["## Speed", "", f"Measured {harness.machine_line()}; {count} round(s), medians; {start}.", ""]
    lines += [
        "| tool | wall s (min-max) | requests | req/s | peak RSS MB | wall / plain Schemathesis |",
        "|---|---|---|---|---|---|",
    ]
    for contender in contenders:
        runs = [m for m in measured if (m.tool, m.server) == (contender.tool, contender.server)]
        walls = [m.wall_seconds for m in runs]
        wall = harness.median(walls)
        requests = harness.median([m.requests for m in runs if m.requests is not None])
        rate = harness.median([m.rate for m in runs if m.rate is not None])
        rss = harness.median([m.max_rss_mb for m in runs])
        ratio = _ratio_to_plain(measured, contender)
        lines.append(
            f"| {contender.title} | {_num(wall, 1)} ({_num(min(walls, default=None), 1)}-"
            f"{_num(max(walls, default=None), 1)}) | {_num(requests, 0)} | {_num(rate, 0)} | {_num(rss, 0)} | "
            f"{_num(ratio, 2)} |"
        )
    problems = [f"- round {m.round}, {m.tool}, {m.server}: {m.note}" for m in measured if m.note]
    if problems:
        lines += ["", *problems]
    if limits:
        lines += ["", "The reference server's ceiling (`wrk`, the server in its own process):", ""]
        lines += ["| request | connections | access log | req/s | avg latency |", "|---|---|---|---|---|"]
        lines += [
            f"| {c.request} | {c.connections} | {'on' if c.access_log else 'off'} | {c.rate:.0f} | {c.latency} |"
            for c in limits
        ]
        lines += ["", *_bottleneck(measured, limits, contenders)]
    return "\n".join(lines)


def _ratio_to_plain(measured: list[Measurement], contender: Contender) -> float | None:
    """The median over rounds of this contender's wall time over plain Schemathesis's in the same round."""
    plain = {m.round: m.wall_seconds for m in measured if m.tool == PLAIN}
    mine = [m for m in measured if (m.tool, m.server) == (contender.tool, contender.server)]
    return harness.median([m.wall_seconds / plain[m.round] for m in mine if plain.get(m.round)])


def _bottleneck(measured: list[Measurement], limits: list[Ceiling], contenders: list[Contender]) -> list[str]:
    """Each contender's request rate as a share of the cheapest and the dearest request at one connection."""
    single = [c for c in limits if c.connections == 1 and c.access_log]
    if not single:
        return []
    fastest, slowest = max(single, key=lambda c: c.rate), min(single, key=lambda c: c.rate)
    lines = []
    for contender in contenders:
        rate = harness.median(
            [m.rate for m in measured if (m.tool, m.server) == (contender.tool, contender.server) and m.rate]
        )
        if rate:
            lines.append(
                f"- {contender.title}: {rate:.0f} req/s = {100 * rate / fastest.rate:.0f}% of the ceiling for a "
                f"{fastest.request}, {100 * rate / slowest.rate:.0f}% of that for a {slowest.request} (1 connection)."
            )
    return lines


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# -- command line -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every contender (default 3)")
    parser.add_argument("--budgets", default="quick,standard", help="budgets of ours (default: quick,standard)")
    parser.add_argument(
        "--servers",
        default="bundled,own",
        help="how our checker meets the server: bundled (in its process), own (its own process); default both",
    )
    parser.add_argument("--wrk-seconds", type=int, default=5, help="seconds per wrk measurement (default 5)")
    parser.add_argument("--no-wrk", action="store_true", help="skip the server's ceiling")
    parser.add_argument("--cold", action="store_true", help="no Hypothesis cache shared between runs (as in CI)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped (900)")
    parser.add_argument("--seed", type=int, default=harness.SEED, help=f"seed for every tool ({harness.SEED})")
    parser.add_argument("--output", type=Path, default=harness.RESULTS, help="the RESULTS.md to update")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "speed.json", help="raw results")
    args = parser.parse_args(argv)

    budgets = [item.strip() for item in args.budgets.split(",") if item.strip()]
    servers = {"bundled": BUNDLED, "own": OWN_PROCESS}
    chosen = [item.strip() for item in args.servers.split(",") if item.strip()]
    if args.rounds < 1 or any(b not in ("quick", "standard", "deep") for b in budgets):
        parser.error("--rounds must be at least 1 and --budgets a list of quick, standard, deep")
    if not chosen or any(item not in servers for item in chosen):
        parser.error("--servers is a list of bundled, own")
    contenders = [Contender(budget, servers[item]) for budget in budgets for item in chosen]
    contenders.append(Contender(PLAIN, OWN_PROCESS))

    root = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    try:
        cache = None if args.cold else harness.warm_hypothesis_cache(root)
        if cache is not None:
            warm_up(root, cache)
        measured = rounds(contenders, args.rounds, root, cache, args.timeout, args.seed)
        limits = [] if args.no_wrk else ceilings(args.wrk_seconds, CONNECTIONS, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    raw = {"runs": [asdict(m) | {"rate": m.rate} for m in measured], "ceilings": [asdict(c) for c in limits]}
    args.json.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    harness.write_section("speed", render(measured, limits, contenders, args.rounds, args.cold), args.output)
    print(f"wrote the speed section of {args.output} and {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
