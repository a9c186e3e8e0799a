"""Ctrl-C or SIGTERM during a run: it stops at once (a request in flight is not waited for), deletes what it
created, still writes the report with the verdict `error`, and says why in one line, without a traceback.

A real signal goes to a real `conformance run` subprocess: mid-run against the reference server, and while
a request hangs on a proxy in front of it (the hang outlasts the request timeout, so waiting would show).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from hostile.server import Hang, HostileServer, Request

from conformance.checker.budget import BUDGETS
from conformance.checker.client import TargetClient
from conformance.checker.marks import RunMark
from conformance.checker.profile import TargetProfile
from conformance.checker.results import Results
from conformance.checker.run_state import RunState
from conformance.checker.transport import Places, cleanup_first, defer_interrupt, interrupt, resume
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

KEYS = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}
REQUEST_TIMEOUT = 30  # seconds: a run that waited for the hanging request would take this long to stop
STOPS_WITHIN = 10  # seconds from the signal to the end of the run, cleanup and reports included


@pytest.mark.parametrize(
    ("signum", "concurrency"),
    [(signal.SIGINT, 4), (signal.SIGTERM, 4), (signal.SIGINT, 1), (signal.SIGINT, 8)],
    ids=["SIGINT", "SIGTERM", "SIGINT-c1", "SIGINT-c8"],
)
def test_signal_mid_run_cleans_up_and_reports_an_error(
    start_reference, tmp_path: Path, signum: int, concurrency: int
) -> None:
    """Mid-run, with every engine's threads busy (at concurrency above 1: engines, lanes and Schemathesis's
    workers side by side)."""
    server = start_reference()
    process = _start_run(tmp_path, "--base-url", server.base_url, "--budget", "deep", "--concurrency", str(concurrency))
    _wait_for(lambda: _records(server.base_url) > 0, "the run never created a record")
    time.sleep(1.5)  # into the thick of it: side by side, Schemathesis's workers are drawing and sending by now

    stopped_after = _signal(process, signum)

    report = _assert_interrupted(process, tmp_path, stopped_after)
    assert _records(server.base_url) == 0
    assert "the run stopped early: interrupted" in {item["reason"] for item in report["requirements"]}
    statuses = {item["id"]: item["status"] for item in report["requirements"]}
    assert statuses["HTTP-01"] == statuses["LIST-03"] == "not-run"  # their checks had not all run: no pass counted


def _hangs_in(engine: str) -> Callable[[Request], bool]:
    """Whether a request hangs: a read sent by the checker's own client (the targeted scenarios), or by
    Schemathesis (in threads of its own)."""
    by_schemathesis = engine == "schemathesis"
    return lambda request: (
        request.operation == "getWebHook"
        and by_schemathesis == any(name.lower() == "x-schemathesis-testcaseid" for name in request.headers)
    )


@pytest.mark.parametrize(
    ("signum", "engine"),
    [(signal.SIGINT, "targeted scenarios"), (signal.SIGTERM, "schemathesis")],
    ids=["SIGINT-scenarios", "SIGTERM-schemathesis"],
)
def test_signal_while_a_request_hangs_stops_at_once(start_reference, tmp_path: Path, signum: int, engine: str) -> None:
    server = start_reference()
    hangs = _hangs_in(engine)
    proxy = HostileServer(
        lambda request: Hang(2 * REQUEST_TIMEOUT) if hangs(request) else None, upstream=server.base_url
    )
    try:
        process = _start_run(
            tmp_path, "--base-url", proxy.base_url, "--budget", "quick", "--timeout", str(REQUEST_TIMEOUT)
        )
        _wait_for(lambda: any(hangs(item) for item in proxy.requests), f"no request of {engine} hung")
        assert _records(server.base_url) > 0

        stopped_after = _signal(process, signum)
    finally:
        proxy.stop()

    _assert_interrupted(process, tmp_path, stopped_after)
    assert _records(server.base_url) == 0


def _start_run(directory: Path, *args: str) -> subprocess.Popen[bytes]:
    """`conformance run` in a subprocess, its output going to files (a full pipe would stall it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env |= {"CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY, "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY}
    with (directory / "stdout.txt").open("w") as stdout, (directory / "stderr.txt").open("w") as stderr:
        command = [sys.executable, "-m", "conformance.faces.cli", "run", *args]
        return subprocess.Popen(command, cwd=directory, env=env, stdout=stdout, stderr=stderr)


def _signal(process: subprocess.Popen[bytes], signum: int) -> float:
    """Send the signal and wait for the run to end; the seconds it took."""
    signalled = time.monotonic()
    process.send_signal(signum)
    process.wait(timeout=2 * REQUEST_TIMEOUT)
    return time.monotonic() - signalled


def _assert_interrupted(process: subprocess.Popen[bytes], directory: Path, stopped_after: float) -> dict[str, Any]:
    """Exit 3 soon after the signal, one line saying why, the report with the verdict `error`, nothing left."""
    stdout, stderr = (directory / "stdout.txt").read_text(), (directory / "stderr.txt").read_text()
    assert process.returncode == 3, stderr
    report = json.loads((directory / "reports" / "report.json").read_text())
    # What the run says it did is the clue when it stops late (a request that went out after the cut?).
    assert stopped_after < STOPS_WITHIN, f"the run took {stopped_after:.1f} s to stop: {report['run']['notes']}"
    assert "Traceback" not in stdout + stderr
    assert [line for line in stderr.splitlines() if line.startswith("conformance: error:")] == [
        "conformance: error: interrupted"
    ]
    assert (report["verdict"], report["exit_code"], report["error"]) == ("error", 3, "interrupted")
    assert report["cleanup"]["left_behind"] == []
    assert report["cleanup"]["deleted"] > 0
    assert [note for note in report["run"]["notes"] if "internal error" in note] == []
    return report


def _records(base_url: str) -> int:
    return requests.get(f"{base_url}/api/v1/partner/webHooks", headers=KEYS, timeout=10).json()["total"]


def _wait_for(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(failure)


def test_a_place_in_flight_lost_to_an_interrupt_does_not_hold_up_the_cleanup(check_reference, monkeypatch) -> None:
    """Python raises a Ctrl-C's KeyboardInterrupt at any point of the main thread: one that strikes a request
    between taking its place in flight and holding it keeps that place. At one request at a time the cleanup
    then waited for a place that never came free: the run hung after Ctrl-C and left its records behind."""
    real_take = Places.take
    taken: list[int] = []

    def interrupted_once_taken(self: Places) -> None:
        real_take(self)
        taken.append(1)
        if len(taken) == 20:  # a scenario's request, once the run has written
            raise KeyboardInterrupt

    monkeypatch.setattr(Places, "take", interrupted_once_taken)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(check_reference(concurrency=1)), daemon=True)
    worker.start()
    worker.join(timeout=60)

    assert not worker.is_alive(), "the cleanup waits for a place in flight that is never given back"
    assert outcome[0].error == "interrupted" and outcome[0].cleanup.deleted > 0
    assert outcome[0].cleanup.left_behind == []
    assert check_reference.servers[0].api.store.records(None) == []


def test_an_interrupt_dressed_by_a_codec_still_reads_as_interrupted(check_reference, monkeypatch) -> None:
    """A Ctrl-C that strikes inside a codec (requests encodes a host name with `idna`) comes out as a
    KeyboardInterrupt carrying the codec's words. The requirements left out say the run was interrupted, not that
    an encoding failed."""
    real_take = Places.take
    taken: list[int] = []

    def interrupted_in_a_codec(self: Places) -> None:
        real_take(self)
        taken.append(1)
        if len(taken) == 20:
            raise KeyboardInterrupt("encoding with 'idna' codec failed (KeyboardInterrupt: )")

    monkeypatch.setattr(Places, "take", interrupted_in_a_codec)
    outcome = check_reference(concurrency=1)

    reasons = {entry.not_run_reason for entry in outcome.results.by_id.values()} - {None}
    assert outcome.error == "interrupted" and reasons == {"the run stopped early: interrupted"}


def test_a_check_that_ends_after_an_interrupt_is_not_finished() -> None:
    """The interrupt cuts the requests in flight, and a check may end on that as on a target that did not answer
    (the lifecycle's lanes halt, a scenario's `finally` ends it): its requirements must not count as done, or a
    pass seen elsewhere before (LIST-03 by the listing scenario) stands for a check that did not all run."""
    state = RunState(_profile(), TargetClient(_profile()), Results(1), BUDGETS["quick"], 1, RunMark("t"))
    state.plan({"done before": ("AUTH-03",), "cut": ("LIST-03",)})
    state.finish("done before")
    interrupt()
    try:
        state.finish("cut")
    finally:
        resume()

    assert state.unfinished_requirements() == ["LIST-03"]


def _profile() -> TargetProfile:
    return TargetProfile("http://127.0.0.1:9", "partner-secret", "developer-secret")


def test_the_first_signal_during_the_cleanup_waits_for_it_and_a_second_stops_it() -> None:
    """A Ctrl-C that comes while the run deletes its records must not leave them behind (the signal campaign
    found records left by a signal at the end of a quick run); a second one still ends a cleanup that hangs."""
    assert not defer_interrupt()  # mid-run: the run stops at once
    with cleanup_first():
        assert defer_interrupt()
        assert not defer_interrupt()
    with cleanup_first():  # each cleanup counts its own
        assert defer_interrupt()
    assert not defer_interrupt()


# A Ctrl-C the command caught must end the process with the command's code, however it struck. The cases below
# run `entry` under `python -m`, as the tests and many users do, from a module that plants the interrupt.
PLANTED_IN_A_STRING_EXEC = """
from conformance.checker.transport import Places
from conformance.faces import cli

real_take, taken = Places.take, []


def take(self):
    real_take(self)
    taken.append(1)
    if len(taken) == 20:  # mid-run, inside a string exec, as when it strikes while dataclasses builds a method
        exec("raise KeyboardInterrupt", {})


Places.take = take
cli.entry()
"""
PLANTED_IN_THE_IMPORTS = """
import sys

from conformance.faces import cli


class Interrupts:  # one Ctrl-C while the command imports the checker, before `run` catches signals
    def find_spec(self, name, path=None, target=None):
        if name == "conformance.checker.runner" and self in sys.meta_path:
            sys.meta_path.remove(self)
            raise KeyboardInterrupt
        return None


sys.meta_path.insert(0, Interrupts())
cli.entry()
"""


def test_a_ctrl_c_handled_inside_a_string_exec_still_ends_with_the_runs_code(tmp_path: Path) -> None:
    """CPython marks an interrupt that ends a string `exec` as unhandled though the run caught it, cleaned up and
    wrote its reports; under `python -m` the process then died by SIGINT (exit -2), 1 signal test in 6."""
    (tmp_path / "planted.py").write_text(PLANTED_IN_A_STRING_EXEC)

    finished = _planted_run(tmp_path, "planted", "--budget", "quick", "--concurrency", "1")

    assert finished.returncode == 3, finished.stderr
    assert "Traceback" not in finished.stderr
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert (report["verdict"], report["error"], report["cleanup"]["left_behind"]) == ("error", "interrupted", [])


def test_a_ctrl_c_while_the_command_starts_ends_in_one_line_and_reports(tmp_path: Path) -> None:
    """Before `run` has caught signals (its imports take most of a second), a Ctrl-C gave a traceback and death
    by SIGINT, and left the reports of the run before."""
    (tmp_path / "planted.py").write_text(PLANTED_IN_THE_IMPORTS)

    finished = _planted_run(tmp_path, "planted", "--budget", "quick")

    assert (finished.returncode, finished.stderr) == (3, "conformance: error: interrupted\n")
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert (report["verdict"], report["exit_code"]) == ("error", 3)
    assert report["error"] == "interrupted before the run began"


def test_the_commands_entry_imports_nothing_heavy_before_it_catches_a_ctrl_c() -> None:
    """What runs before `entry` catches a Ctrl-C (Python's start, the entry module's imports) stays short."""
    probe = "import sys, conformance.faces.cli; print(sorted(name for name in sys.modules if name.startswith(%r)))"
    for heavy in ("conformance.checker", "schemathesis", "hypothesis", "requests"):
        loaded = subprocess.run([sys.executable, "-c", probe % heavy], capture_output=True, text=True, check=True)
        assert loaded.stdout == "[]\n", heavy
    from conformance.checker.verdict import ExitCode
    from conformance.faces.cli import INTERRUPTED

    assert INTERRUPTED == ExitCode.INCOMPLETE  # its own copy, for the checker's module is not light


def _planted_run(directory: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE run ARGS` against the bundled reference server, from `directory`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    command = [sys.executable, "-m", module, "run", *args]
    return subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True, timeout=120)
