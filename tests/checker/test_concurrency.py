"""Checks side by side (`--concurrency`) change when requests go out, never what goes out or what is found.

The same seed against the same faulty server, one check at a time and eight at a time: the same requirements
fail, with the same findings, each showing the same requests (record ids, which the server makes up, and
times aside). And the clean server is still conformant at eight at a time, and at the most `--concurrency auto`
chooses, with nothing left behind.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.checker.options import MAX_AUTO_CONCURRENCY, NETWORK_CONCURRENCY
from conformance.checker.side_by_side import run_side_by_side
from conformance.checker.transport import resume
from conformance.checker.verdict import ExitCode

RUN_ID = "side-by-side"  # the same run id on both sides: shop ids and marked URLs are then the same too
SERVER_MADE = re.compile(r"\b[0-9a-f]{32}\b|\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:?\d\d)?")


def _steps(exchanges: list[Any]) -> list[tuple[str, str, str | None]]:
    """The requests of a finding's sequence, with what the server made up (ids, times) left out."""
    return [
        (item.method, SERVER_MADE.sub("<made>", _path(item.url)), SERVER_MADE.sub("<made>", item.request_body or ""))
        for item in exchanges
    ]


def _path(url: str) -> str:
    """The URL without its origin: each run checks a server of its own, on a port of its own."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _seen(outcome) -> dict[str, Any]:
    findings = outcome.results.findings()
    return {
        "failed": sorted(entry.requirement.id for entry in outcome.results.failed()),
        "findings": {
            finding.id: (finding.check, _steps(finding.sequence or finding.exchanges)) for finding in findings
        },
    }


@pytest.mark.parametrize("fault", ["list-off-by-one", pytest.param("valid-malformed-json-500", marks=pytest.mark.slow)])
def test_the_same_seed_finds_the_same_with_one_check_or_eight_at_a_time(check_reference, fault: str) -> None:
    one = check_reference(fault=fault, concurrency=1, run_id=RUN_ID, strict=True)
    eight = check_reference(fault=fault, concurrency=8, run_id=RUN_ID, strict=True)

    assert one.exit_code == eight.exit_code == ExitCode.NONCONFORMANT
    assert _seen(one)["failed"] == _seen(eight)["failed"]
    assert _seen(one)["findings"] == _seen(eight)["findings"]
    assert one.cleanup.left_behind == eight.cleanup.left_behind == []


@pytest.mark.parametrize("concurrency", [NETWORK_CONCURRENCY, MAX_AUTO_CONCURRENCY])  # the most `auto` chooses
def test_the_clean_server_stays_conformant_many_checks_at_a_time(check_reference, concurrency: int) -> None:
    outcome = check_reference(concurrency=concurrency, strict=True)

    assert outcome.exit_code == ExitCode.CONFORMANT, [entry.requirement.id for entry in outcome.results.failed()]
    assert outcome.cleanup.left_behind == []
    assert check_reference.servers[-1].api.store.records(None) == []


def test_a_check_that_fails_stops_the_others_from_starting_and_is_raised_after_the_running_ones_end() -> None:
    ended: list[str] = []

    class Stop(Exception):
        pass

    def stop() -> None:
        ended.append("stop")
        raise Stop

    def slow() -> None:
        import time

        time.sleep(0.2)
        ended.append("slow")

    with pytest.raises(Stop):
        run_side_by_side([slow, stop] + [lambda: ended.append("later")] * 20, workers=2)
    assert "slow" in ended  # the running one was waited for
    assert ended.count("later") < 20  # the rest did not all start


def test_a_signal_that_another_thread_receives_is_handled_while_the_tasks_run() -> None:
    """The kernel may hand a process's SIGTERM to any of its threads; Python's handler then waits until the main
    thread runs Python code. Before, the main thread waited for the engines without a timeout, and a SIGTERM
    at --concurrency 4 was handled only once they had all run to their end, a minute later."""
    started, ended = threading.Barrier(3), threading.Event()
    handled_while_running: list[bool] = []

    def task() -> None:
        started.wait()
        ended.wait(5)  # until the handler below has run: at most 5 s
        ended.set()

    def handler(signum: int, frame: Any) -> None:
        handled_while_running.append(not ended.is_set())
        ended.set()
        raise KeyboardInterrupt

    def signal_a_task_thread() -> None:
        started.wait()
        target = next(thread for thread in threading.enumerate() if thread.name.startswith("check"))
        signal.pthread_kill(target.ident, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, handler)
    threading.Thread(target=signal_a_task_thread).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_side_by_side([task, task], workers=2)
    finally:
        signal.signal(signal.SIGUSR1, previous)
        resume()  # run_side_by_side interrupted the run, as the checker's handler does

    assert handled_while_running == [True]


def test_hypothesis_gets_the_tree_of_a_file_it_parsed_before_and_everyone_else_a_fresh_one() -> None:
    """Side by side, Schemathesis's workers each had Hypothesis parse the same big file: its parses of a whole
    file reuse the tree, any other parse (another library's, a lambda's own line) is done anew. Ours may lie
    beneath another wrapper of `ast.parse` and be wrapped again (a lock that is not re-entrant then waited for
    itself for good): in a process of its own, so that such a wait fails this test instead of hanging it."""
    checked = subprocess.run([sys.executable, "-c", PARSES], capture_output=True, text=True, timeout=60)

    assert (checked.returncode, checked.stdout) == (0, "ok\n"), checked.stderr


PARSES = """
import ast

from conformance.checker import side_by_side

side_by_side.serialize_ast_parsing()  # as after an earlier run side by side: ours is then beneath `counted`
parsed, real_parse = [], ast.parse


def counted(source, *args, **kwargs):
    parsed.append(source)
    return real_parse(source, *args, **kwargs)


ast.parse = counted
side_by_side.serialize_ast_parsing()
a_file = "x = 1\\n" * (side_by_side.A_FILE // 6 + 1)
as_hypothesis, as_anyone = {"__name__": "hypothesis.internal.lambda_sources"}, {"__name__": "inspect"}


def parse_from(module, source):
    return eval("__import__('ast').parse(source)", dict(module), {"source": source})


first, again = parse_from(as_hypothesis, a_file), parse_from(as_hypothesis, a_file)
assert first is again and len(parsed) == 1, len(parsed)
assert parse_from(as_anyone, a_file) is not first and len(parsed) == 2
assert parse_from(as_hypothesis, "lambda x: x") is not parse_from(as_hypothesis, "lambda x: x")
assert ast.dump(first) == ast.dump(real_parse(a_file))
print("ok")
"""
