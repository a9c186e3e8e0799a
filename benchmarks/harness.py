"""What the benchmark scripts share: a reference server in its own process, a timed child run, RESULTS.md.

Every tool under test runs as a child process, so its wall time, exit status and peak memory are measured
from outside (`os.wait4` gives the rusage of exactly that child), and a tool that hangs is stopped at a
deadline instead of stalling the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import platform
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent  # the scripts run with the project's .venv/bin/python
SPEC = REPO / "openapi" / "partner-webhooks.yaml"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SEED = 1234
GRACE_SECONDS = 15.0  # after SIGTERM at a deadline, before SIGKILL (the checker deletes its records first)
ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')  # one line per request of the stdlib access log


def demo_keys() -> dict[str, str]:
    """The reference server's demo keys, by the role the tools give them."""
    from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

    return {"partner": DEMO_PARTNER_KEY, "developer": DEMO_DEVELOPER_KEY, "second": DEMO_SECOND_DEVELOPER_KEY}


# -- a timed child process --------------------------------------------------------------------------------


FATAL = "Fatal Python error"  # how the interpreter's own fatal errors begin (an abort, a crash)


@dataclass
class ChildRun:
    """How one child process went: its exit code (None when it was stopped at the deadline), wall time,
    peak resident memory, where its output went, and the CPU time it used (user and system)."""

    argv: list[str]
    exit_code: int | None
    wall_seconds: float
    max_rss_mb: float
    timed_out: bool
    output: Path
    cpu_seconds: float = 0.0

    def output_tail(self, lines: int = 5) -> str:
        """The last lines of what the child printed (stdout and stderr together), on one line; after a fatal
        error of the interpreter, its line first (the tail is then the threads' stacks and a list of modules)."""
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        shown = [line.strip() for line in text.strip().splitlines()[-lines:]]
        fatal = next((line.strip() for line in text.splitlines() if line.startswith(FATAL)), None)
        return " | ".join([fatal, *shown] if fatal is not None and fatal not in shown else shown)


def run_child(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, output: Path) -> ChildRun:
    """Run `argv` to completion or until `timeout` seconds have passed (then SIGTERM, later SIGKILL)."""
    started = time.monotonic()
    with output.open("wb") as sink:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    status, usage = _wait(child.pid, started + timeout)
    if status is None:
        timed_out = True
        _signal_group(child.pid, signal.SIGTERM)
        status, usage = _wait(child.pid, time.monotonic() + GRACE_SECONDS)
        if status is None:
            _signal_group(child.pid, signal.SIGKILL)
            status, usage = _wait(child.pid, None)
    wall = time.monotonic() - started
    assert status is not None and usage is not None
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    exit_code = None if timed_out else child.returncode
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(argv, exit_code, wall, usage.ru_maxrss / 1024, timed_out, output, cpu)


def _wait(pid: int, deadline: float | None) -> tuple[int | None, os.struct_rusage | None]:
    """Reap `pid` with its own rusage; (None, None) if it is still running at `deadline`."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG if deadline is not None else 0)
        if done:
            return status, usage
        if deadline is not None and time.monotonic() > deadline:
            return None, None
        time.sleep(0.02)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any CONFORMANCE_* setting of the user, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONFORMANCE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **(extra or {})}


# -- working directories -----------------------------------------------------------------------------------


def warm_hypothesis_cache(root: Path) -> Path:
    """A Hypothesis storage directory holding the Unicode tables (categories, UTF-8), which Hypothesis
    otherwise computes in every directory it first runs in: about 1 s, and 180 MB at the peak. Both tools
    use Hypothesis; run warm, each is measured as it runs the second time in a directory (as `make run`)."""
    cache = root / "hypothesis-cache"
    (cache / "constants").mkdir(parents=True, exist_ok=True)
    env = clean_environment({"HYPOTHESIS_STORAGE_DIRECTORY": str(cache)})
    tables = "from hypothesis.internal import charmap as c; c.charmap(); c.intervals_from_codec('utf-8')"
    if subprocess.run([sys.executable, "-c", tables], env=env, capture_output=True).returncode != 0:
        print("benchmarks: could not precompute Hypothesis's Unicode tables; the first run will", file=sys.stderr)
    return cache


def fresh_workdir(root: Path, prefix: str, cache: Path | None) -> Path:
    """An empty directory to run one tool in (no example database or cache of an earlier run is replayed),
    sharing only Hypothesis's Unicode table and source constants from `cache` (None: a cold start)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root))
    if cache is not None:
        (workdir / ".hypothesis").mkdir()
        for name in ("unicode_data", "constants"):
            (workdir / ".hypothesis" / name).symlink_to(cache / name, target_is_directory=True)
    return workdir


# -- the reference server in its own process --------------------------------------------------------------


@dataclass
class ReferenceProcess:
    """`conformance serve` (clean or with one fault) in a child process on a free port, its log in `workdir`.

    With `access_log`, every request it answers is one line of its log, so `requests_served()` counts
    the requests of any client, whatever it counts itself.
    """

    workdir: Path  # where its log goes
    fault: str | None = None
    access_log: bool = False
    serve_args: tuple[str, ...] = ()  # more `conformance serve` options (e.g. --reject-oversize-early)
    base_url: str = ""
    _process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 20.0) -> ReferenceProcess:
        """Start the server and wait until it says it is serving; RuntimeError if it does not."""
        argv = [str(VENV_BIN / "conformance"), "serve", "--port", "0"]
        argv += ["--fault", self.fault] if self.fault else []
        argv += ["--access-log"] if self.access_log else []
        argv += list(self.serve_args)
        log = (self.workdir / "access.log").open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=log, text=True, env=clean_environment(), start_new_session=True
        )
        log.close()
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(self._process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                if self._process.poll() is not None:
                    break
                continue
            if line.startswith("serving on "):
                self.base_url = line.removeprefix("serving on ").strip()
                return self
        self.stop()
        raise RuntimeError(f"the reference server (fault {self.fault}) did not start: {self.log_text()[-300:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a few seconds)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log_text(self) -> str:
        return (self.workdir / "access.log").read_text(encoding="utf-8", errors="replace")

    def requests_served(self) -> int:
        """Requests answered so far, from the access log (read it after `stop()` for the final count)."""
        return sum(1 for line in self.log_text().splitlines() if ACCESS_LINE.match(line))

    def __enter__(self) -> ReferenceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pump(stream, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


# -- the tools under test ----------------------------------------------------------------------------------


def conformance_argv(budget: str, base_url: str | None, report_dir: Path, seed: int) -> list[str]:
    """`conformance run` at one budget, strict (a SHOULD failure counts), quiet; no --base-url: the bundled
    reference server in the checker's own process, as `make run` does."""
    argv = [str(VENV_BIN / "conformance"), "run", "--budget", budget, "--seed", str(seed), "--strict", "-q"]
    argv += ["--report-dir", str(report_dir)]
    return argv + (["--base-url", base_url] if base_url else [])


def conformance_env() -> dict[str, str]:
    """The demo keys the way a user passes keys: in the environment."""
    keys = demo_keys()
    return clean_environment(
        {
            "CONFORMANCE_PARTNER_KEY": keys["partner"],
            "CONFORMANCE_DEVELOPER_KEY": keys["developer"],
            "CONFORMANCE_SECOND_DEVELOPER_KEY": keys["second"],
        }
    )


def schemathesis_argv(base_url: str, report_path: Path, seed: int) -> list[str]:
    """Plain `schemathesis run` with its defaults: the spec, the URL, the two keys as headers, the seed, and
    a JSON report to read the verdict from. Run it in an empty directory, so no earlier run's example
    database or cache is replayed."""
    keys = demo_keys()
    return [
        str(VENV_BIN / "schemathesis"),
        "run",
        str(SPEC),
        "--url",
        base_url,
        "-H",
        f"x-api-key: {keys['partner']}",
        "-H",
        f"Authorization: {keys['developer']}",
        "--seed",
        str(seed),
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
        "--no-color",
    ]


# -- RESULTS.md -------------------------------------------------------------------------------------------


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Replace the section `name` of RESULTS.md (between its markers), or append it; other sections stay."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}"
    current = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        updated = head + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(updated, encoding="utf-8")


RESULTS_HEADER = """# Benchmark results

Written by `benchmarks/detection.py` and `benchmarks/speed.py` (see `benchmarks/README.md`); each script
rewrites its own section only.
"""


def machine_line() -> str:
    """Where and when a measurement was taken: date, CPU, cores, load, and the versions that matter."""
    versions = ", ".join(f"{name} {_version(name)}" for name in ("webhook-conformance", "schemathesis", "hypothesis"))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_cpu_model()} ({os.cpu_count()} cores, load {load}); "
        f"Python {platform.python_version()}, {versions}; commit {_commit()}"
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        # The scripts' own outputs do not count: a script writes its raw numbers before its section.
        ours = [":!benchmarks/*.json", ":!benchmarks/RESULTS.md"]
        status = ["git", "status", "--porcelain", "--", ".", *ours]
        dirty = subprocess.run(status, cwd=REPO, capture_output=True, text=True)
    except OSError:
        return "?"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
