"""A test worker that dies leaves its last words in the crashed test's report (see `worker_stderr`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from worker_stderr import NOTHING_WRITTEN

TESTS = Path(__file__).parent

DIES = '''
import os

def test_dies_in_c():
    os.abort()
'''

KILLED = '''
import os
import signal

def test_killed():
    os.kill(os.getpid(), signal.SIGKILL)
'''


def _pytest_in_workers(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(source)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "PYTHONPATH": str(TESTS), "TMPDIR": str(tmp_path / "tmp")}
    command = [sys.executable, "-m", "pytest", "-n", "1", "-p", "worker_stderr", "-p", "no:cacheprovider", "-q"]
    return subprocess.run(
        [*command, "test_inner.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_crashed_workers_fatal_error_and_tracebacks_are_in_the_report(tmp_path: Path) -> None:
    result = _pytest_in_workers(tmp_path, DIES)

    assert result.returncode == 1, result.stdout
    assert "crashed while running 'test_inner.py::test_dies_in_c'" in result.stdout
    report = _last_words_section(result.stdout)
    assert "Fatal Python error: Aborted" in report, result.stdout
    assert 'line 5 in test_dies_in_c' in report, result.stdout


def test_a_worker_killed_without_a_word_gets_a_word_on_why(tmp_path: Path) -> None:
    result = _pytest_in_workers(tmp_path, KILLED)

    assert result.returncode == 1, result.stdout
    assert NOTHING_WRITTEN in _last_words_section(result.stdout)


def test_the_workers_files_are_removed_when_the_session_ends(tmp_path: Path) -> None:
    result = _pytest_in_workers(tmp_path, "def test_passes():\n    assert True\n")

    assert result.returncode == 0, result.stdout
    assert list((tmp_path / "tmp").glob("test-worker-stderr-*")) == []


def _last_words_section(stdout: str) -> str:
    heading = "what worker gw0 wrote to stderr last"
    assert heading in stdout, stdout
    return stdout.split(heading, 1)[1]
