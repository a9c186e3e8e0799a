"""Detection power: which planted faults `conformance run` and plain `schemathesis run` each catch, and how fast.

For the clean reference server and every fault of its catalogue (`conformance/reference/faults.py`), a fresh
server (`conformance serve --fault NAME`, its own process) is checked by each tool in turn:

- `conformance run --base-url URL --budget B --seed S --strict` for each budget, the keys in CONFORMANCE_*.
  Caught: report.json has every requirement the fault breaks `failed` ("partly": some of them), whatever
  else the run reports (a request left unanswered); "error" only when its verdict is `error`. On the clean
  server, any failed requirement is a false alarm.
- `schemathesis run openapi/partner-webhooks.yaml --url URL -H <keys> --seed S`, otherwise its defaults,
  in an empty directory. Caught: its JSON report lists a failure that its run against the clean server
  did not (any failure, when the clean server is not part of the run). On the clean server, any failure
  is a false alarm.

Time to verdict is the tool's wall time, start-up included. A run that outlives `--timeout` is stopped and
recorded as a timeout. Writes the `detection` section of RESULTS.md and the raw results as JSON.

    .venv/bin/python benchmarks/detection.py                       # everything: about an hour
    .venv/bin/python benchmarks/detection.py --faults clean,list-off-by-one --budgets quick
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import harness

from conformance.contract.catalogue import requirement
from conformance.reference.faults import FAULTS, Fault

CLEAN = "clean"
PLAIN = "schemathesis"
BUDGETS = ("quick", "standard")


@dataclass
class Verdict:
    """One tool's verdict on one server: `caught` is yes / partly / no for a fault, clean / false alarm for
    the clean server, or timeout / error when the tool gave no verdict."""

    tool: str  # a budget of `conformance run`, or PLAIN
    fault: str  # a fault name, or CLEAN
    caught: str
    seconds: float
    exit_code: int | None
    max_rss_mb: float
    failed: list[str] = field(default_factory=list)  # requirement IDs (ours) or failure signatures (plain)
    detail: str = ""


# -- one run ----------------------------------------------------------------------------------------------


def check_with_conformance(fault: Fault | None, budget: str, workdir: Path, timeout: float, seed: int) -> Verdict:
    """`conformance run` at `budget` against a fresh server with `fault`; caught when the requirements it
    breaks are failed in report.json."""
    with harness.ReferenceProcess(workdir, fault.name if fault else None) as server:
        report_dir = workdir / "reports"
        argv = harness.conformance_argv(budget, server.base_url, report_dir, seed)
        child = harness.run_child(
            argv, cwd=workdir, env=harness.conformance_env(), timeout=timeout, output=workdir / "output.txt"
        )
    name = fault.name if fault else CLEAN
    verdict = Verdict(budget, name, "", child.wall_seconds, child.exit_code, child.max_rss_mb)
    try:
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        verdict.caught = "timeout" if child.timed_out else "error"
        verdict.detail = f"no report.json: {child.output_tail(2)}"
        return verdict
    verdict.failed = sorted(item["id"] for item in report["requirements"] if item["status"] == "failed")
    verdict.caught = "timeout" if child.timed_out else caught_by(report, fault)
    verdict.detail = report.get("error") or ""
    return verdict


def caught_by(report: dict, fault: Fault | None) -> str:
    """What a finished run's report.json says about the server, by the run's own verdict: `error` gave none
    (nothing failed, and the run broke off). A run that also carries an error (a request left unanswered)
    still judged the server on what it saw: a failed MUST stands (`verdict_of`)."""
    if report["verdict"] == "error":
        return "error"
    failed = {item["id"] for item in report["requirements"] if item["status"] == "failed"}
    if fault is None:
        return "false alarm" if failed else "clean"
    hit = [item for item in fault.breaks if item in failed]
    return "yes" if len(hit) == len(fault.breaks) else "partly" if hit else "no"


def check_with_schemathesis(fault: Fault | None, workdir: Path, timeout: float, seed: int) -> Verdict:
    """Plain `schemathesis run` against a fresh server with `fault`; its failures as signatures (the clean
    run's are subtracted later, in `against_clean`)."""
    report_path = workdir / "schemathesis.json"
    with harness.ReferenceProcess(workdir, fault.name if fault else None) as server:
        argv = harness.schemathesis_argv(server.base_url, report_path, seed)
        child = harness.run_child(
            argv, cwd=workdir, env=harness.clean_environment(), timeout=timeout, output=workdir / "output.txt"
        )
    name = fault.name if fault else CLEAN
    verdict = Verdict(PLAIN, name, "", child.wall_seconds, child.exit_code, child.max_rss_mb)
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        verdict.caught = "timeout" if child.timed_out else "error"
        verdict.detail = f"no JSON report: {child.output_tail(2)}"
        return verdict
    verdict.failed = sorted(
        f"{item['code']} {item['title']} @ {operation}"
        for item in report.get("failures", [])
        for operation in item.get("operations", []) or ["?"]
    )
    errors = report.get("errors", [])
    if errors:
        verdict.detail = f"{len(errors)} engine error(s)"
    if child.timed_out:
        verdict.caught = "timeout"
    elif fault is None:
        verdict.caught = "false alarm" if verdict.failed else "clean"
    else:
        verdict.caught = "yes" if verdict.failed else "no"
    return verdict


def against_clean(verdicts: list[Verdict]) -> None:
    """A plain Schemathesis failure that its clean-server run shows too says nothing about the fault."""
    clean = next((v for v in verdicts if v.tool == PLAIN and v.fault == CLEAN), None)
    if clean is None or not clean.failed:
        return
    for verdict in verdicts:
        if verdict.tool == PLAIN and verdict.fault != CLEAN and verdict.caught == "yes":
            new = [item for item in verdict.failed if item not in clean.failed]
            if not new:
                verdict.caught = "no"
                verdict.detail = "only failures the clean server shows too"


def run_one(fault: Fault | None, tool: str, root: Path, cache: Path, timeout: float, seed: int) -> Verdict:
    """One tool against one fresh server, in its own working directory; a crash of ours is an `error`."""
    workdir = harness.fresh_workdir(root, f"{fault.name if fault else CLEAN}-{tool}", cache)
    try:
        if tool == PLAIN:
            verdict = check_with_schemathesis(fault, workdir, timeout, seed)
        else:
            verdict = check_with_conformance(fault, tool, workdir, timeout, seed)
    except RuntimeError as error:  # the server did not start
        verdict = Verdict(tool, fault.name if fault else CLEAN, "error", 0.0, None, 0.0, detail=str(error))
    print(
        f"{verdict.fault:32} {verdict.tool:12} {verdict.caught:12} {verdict.seconds:6.1f} s  {verdict.detail}",
        file=sys.stderr,
        flush=True,
    )
    return verdict


# -- the table --------------------------------------------------------------------------------------------


def level_of(fault: Fault) -> str:
    """MUST when the fault breaks any MUST requirement, else SHOULD."""
    return "MUST" if any(requirement(item).level == "MUST" for item in fault.breaks) else "SHOULD"


def render(verdicts: list[Verdict], faults: list[Fault | None], tools: list[str], seed: int, jobs: int) -> str:
    """The detection section of RESULTS.md: headline, then one row per server."""
    by_key = {(v.fault, v.tool): v for v in verdicts}
    at_once = "one run at a time" if jobs == 1 else f"{jobs} runs at a time (times include that contention)"
    lines = ["## Detection", "", f"Measured {harness.machine_line()}; seed {seed}; {at_once}.", ""]
    lines += headline(verdicts, faults, tools)
    lines += ["", "| fault | breaks | " + " | ".join(_tool_title(t) for t in tools) + " |"]
    lines.append("|---|---|" + "---|" * len(tools))
    for fault in faults:
        name = fault.name if fault else CLEAN
        breaks = f"{' '.join(fault.breaks)} ({level_of(fault)})" if fault else "none"
        cells = [_cell(by_key.get((name, tool)), fault) for tool in tools]
        lines.append(f"| {name} | {breaks} | " + " | ".join(cells) + " |")
    extras = notes(verdicts, faults)
    if extras:
        lines += ["", "Notes (requirements failed beyond those the fault claims, failures of plain Schemathesis):", ""]
        lines += extras
    return "\n".join(lines)


def headline(verdicts: list[Verdict], faults: list[Fault | None], tools: list[str]) -> list[str]:
    """Faults caught, false alarms and median time to verdict per tool; what each misses."""
    planted = [f for f in faults if f is not None]
    must = [f for f in planted if level_of(f) == "MUST"]
    lines = []
    for tool in tools:
        mine = {v.fault: v for v in verdicts if v.tool == tool}
        caught = [f for f in planted if mine.get(f.name) and mine[f.name].caught == "yes"]
        caught_must = [f for f in caught if f in must]
        clean = mine.get(CLEAN)
        alarm = "not run" if clean is None else ("yes: " + ", ".join(clean.failed)) if clean.failed else "none"
        seconds = harness.median([v.seconds for v in mine.values() if v.caught not in ("error",)])
        time_text = f"{seconds:.1f} s" if seconds is not None else "-"
        lines.append(
            f"- **{_tool_title(tool)}**: caught {len(caught)} of {len(planted)} faults "
            f"({len(caught_must)} of {len(must)} MUST faults); false alarms on the clean server: {alarm}; "
            f"median time to verdict {time_text}."
        )
    lines += _differences(verdicts, planted, tools)
    return lines


def _differences(verdicts: list[Verdict], planted: list[Fault], tools: list[str]) -> list[str]:
    caught = {(v.fault, v.tool) for v in verdicts if v.caught == "yes"}
    lines = []
    budgets = [tool for tool in tools if tool != PLAIN]
    if "quick" in budgets and len(budgets) > 1:
        later = [
            f.name for f in planted if (f.name, "quick") not in caught and any((f.name, b) in caught for b in budgets)
        ]
        lines.append(f"- Caught only above `quick`: {', '.join(later) or 'none'}.")
    if PLAIN in tools and budgets:
        missed = [
            f.name for f in planted if (f.name, PLAIN) in caught and not any((f.name, b) in caught for b in budgets)
        ]
        lines.append(f"- Caught by plain Schemathesis but by no budget of ours: {', '.join(missed) or 'none'}.")
    never = [f.name for f in planted if not any((f.name, tool) in caught for tool in tools)]
    lines.append(f"- Caught by none of these runs: {', '.join(never) or 'none'}.")
    return lines


def notes(verdicts: list[Verdict], faults: list[Fault | None]) -> list[str]:
    """One line per run with something worth a second look: collateral failures, plain failures, errors."""
    claims = {f.name: set(f.breaks) for f in faults if f is not None}
    lines = []
    for verdict in sorted(verdicts, key=lambda v: (v.fault, v.tool)):
        extra = [item for item in verdict.failed if item not in claims.get(verdict.fault, set())]
        parts = [verdict.detail] if verdict.detail else []
        if verdict.tool == PLAIN and verdict.failed:
            parts.append("; ".join(verdict.failed))
        elif extra:
            parts.append("also failed: " + ", ".join(extra))
        if parts:
            lines.append(f"- {verdict.fault}, {_tool_title(verdict.tool)}: {' - '.join(parts)}")
    return lines


def _tool_title(tool: str) -> str:
    return "plain Schemathesis" if tool == PLAIN else f"ours, `{tool}`"


def _cell(verdict: Verdict | None, fault: Fault | None) -> str:
    if verdict is None:
        return "-"
    word = verdict.caught
    if word == "partly" and fault is not None:
        word = f"partly ({sum(item in verdict.failed for item in fault.breaks)}/{len(fault.breaks)})"
    return f"{word}, {verdict.seconds:.1f} s"


# -- command line -----------------------------------------------------------------------------------------


def selected_faults(names: str | None) -> list[Fault | None]:
    """The servers to check: `clean` and fault names, comma-separated (default: clean and every fault)."""
    if not names:
        return [None, *FAULTS]
    known = {fault.name: fault for fault in FAULTS}
    chosen: list[Fault | None] = []
    for name in (item.strip() for item in names.split(",") if item.strip()):
        if name != CLEAN and name not in known:
            raise SystemExit(f"detection.py: unknown fault {name!r} (see `conformance serve --list-faults`)")
        chosen.append(None if name == CLEAN else known[name])
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", help="comma-separated: clean and fault names (default: clean and all faults)")
    parser.add_argument("--budgets", default=",".join(BUDGETS), help="budgets of ours (default: quick,standard)")
    parser.add_argument(
        "--schemathesis", action=argparse.BooleanOptionalAction, default=True, help="run plain Schemathesis too"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default 1: cleaner timing)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped (900)")
    parser.add_argument("--seed", type=int, default=harness.SEED, help=f"seed for every tool ({harness.SEED})")
    parser.add_argument("--output", type=Path, default=harness.RESULTS, help="the RESULTS.md to update")
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "detection.json", help="raw results")
    parser.add_argument("--workdir", type=Path, help="keep every run's reports and output here (default: discard)")
    args = parser.parse_args(argv)

    faults = selected_faults(args.faults)
    tools = [item.strip() for item in args.budgets.split(",") if item.strip()] + ([PLAIN] if args.schemathesis else [])
    unknown = [tool for tool in tools if tool not in (*BUDGETS, "deep", PLAIN)]
    if unknown or not tools or args.jobs < 1:
        parser.error(f"bad --budgets {unknown} or --jobs {args.jobs}")
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-detection-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        # The clean server first: plain Schemathesis's verdicts on faults are read against it.
        cache = harness.warm_hypothesis_cache(root)
        jobs = [(fault, tool) for fault in faults for tool in tools]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            verdicts = list(pool.map(lambda job: run_one(*job, root, cache, args.timeout, args.seed), jobs))
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    against_clean(verdicts)
    args.json.write_text(json.dumps([asdict(v) for v in verdicts], indent=2) + "\n", encoding="utf-8")
    harness.write_section("detection", render(verdicts, faults, tools, args.seed, args.jobs), args.output)
    print(f"wrote the detection section of {args.output} and {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
