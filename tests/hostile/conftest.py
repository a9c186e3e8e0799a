"""Fixtures for running the real `conformance run` in a subprocess against a hostile target on loopback.

    def test_hanging_reads(hostile, checker):
        proxy = hostile(on({"getWebHook"}, Hang(5)))   # the reference server behind a misbehaving proxy
        run = checker(proxy.base_url, "--only", "READ")
        assert run.returncode == 3 and run.elapsed < 60

Runs use the quick budget, a one-second request timeout and a fixed seed; the demo keys come by environment.
They share one Hypothesis storage directory: on its first use Hypothesis scans the checker's modules for
constants (about 2 s of CPU and 180 MiB), which every run in a fresh directory would otherwise pay again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.checker.options import NETWORK_CONCURRENCY
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY
from hostile.server import Behaviour, HostileServer

REQUEST_TIMEOUT = 1  # --timeout of every run: a hanging request costs a second
KILL_AFTER = 180  # seconds; a run still going is killed (and its test fails on the elapsed time)


@dataclass
class CheckerRun:
    """One finished `conformance run`: how it ended, what it printed, how long and how much memory it took."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # seconds, wall clock
    peak_rss_mib: float  # the process's maximum resident set size
    directory: Path  # its working directory; the reports are in `reports/`

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.directory / "reports" / "report.json").read_text(encoding="utf-8"))

    def requirement(self, requirement_id: str) -> dict[str, Any]:
        """The report's entry for one requirement."""
        return next(item for item in self.report["requirements"] if item["id"] == requirement_id)

    def failed(self) -> set[str]:
        return {item["id"] for item in self.report["requirements"] if item["status"] == "failed"}

    def error_lines(self) -> list[str]:
        """The one-line reasons the CLI printed (`conformance: error: ...`)."""
        return [line for line in self.stderr.splitlines() if line.startswith("conformance: error:")]


def run_checker(
    base_url: str, *flags: str, directory: Path, hypothesis_storage: Path, second_key: bool = False
) -> CheckerRun:
    """Run `conformance run` against `base_url` in a subprocess (quick budget, 1 s timeout, seed 1234; with
    `second_key`, the demo developer key of a second company too)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONFORMANCE_")}
    env |= {"CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY, "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY}
    if second_key:
        env["CONFORMANCE_SECOND_DEVELOPER_KEY"] = DEMO_SECOND_DEVELOPER_KEY
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = str(hypothesis_storage)
    command = [sys.executable, "-m", "conformance.faces.cli", "run", "--base-url", base_url]
    command += ["--budget", "quick", "--timeout", str(REQUEST_TIMEOUT), "--seed", "1234"]
    command += ["--concurrency", str(NETWORK_CONCURRENCY), *flags]  # side by side, as across a network
    out, err = directory / "stdout.txt", directory / "stderr.txt"
    started = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, cwd=directory, env=env, stdout=stdout, stderr=stderr)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _high_water_mib(process.pid))
        if time.monotonic() - started > KILL_AFTER:
            process.kill()
        time.sleep(0.05)
    return CheckerRun(process.returncode, out.read_text(), err.read_text(), time.monotonic() - started, peak, directory)


def _high_water_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB; 0 once it has exited.

    Read from /proc rather than from the child's rusage: Linux carries the parent's peak over into a child's
    `ru_maxrss` at exec, and the parent here is a pytest worker serving 40 MiB answers."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


@pytest.fixture(scope="session")
def hypothesis_storage(tmp_path_factory) -> Path:
    """One Hypothesis storage directory for every run of the session (shared by the xdist workers)."""
    return tmp_path_factory.getbasetemp().parent / "hypothesis-storage"


@pytest.fixture
def hostile(start_reference) -> Iterator[Callable[..., HostileServer]]:
    """A factory: `hostile(behaviour)` starts a fresh reference server behind a proxy that misbehaves as told;
    `hostile(behaviour, upstream=False)` a server that answers only as told (nothing behind it)."""
    servers: list[HostileServer] = []

    def start(behaviour: Behaviour, *, upstream: bool = True, host: str = "127.0.0.1") -> HostileServer:
        behind = start_reference().base_url if upstream else None
        server = HostileServer(behaviour, upstream=behind, host=host)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def checker(tmp_path: Path, hypothesis_storage: Path) -> Callable[..., CheckerRun]:
    """A factory: `checker(base_url, *flags, second_key=False)` runs the CLI against it in this test's temporary
    directory."""
    return lambda base_url, *flags, second_key=False: run_checker(
        base_url, *flags, directory=tmp_path, hypothesis_storage=hypothesis_storage, second_key=second_key
    )
