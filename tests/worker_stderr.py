"""What a pytest-xdist test worker wrote to stderr, shown when the worker dies.

A worker's stderr goes nowhere: when a worker crashes (an interpreter abort, a segfault, the OOM killer), pytest
says only "node down: Not properly terminated", and faulthandler's tracebacks of every thread are lost with it.
Here each worker sends its stderr (file descriptor 2, so faulthandler and C code write there too) to a file of
its own in a folder the controller makes, and the crashed test's report gets that file from its last fatal
error on (every thread's traceback), or else its last lines. Without xdist (`-p no:xdist`, `-n 0`) nothing
changes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

FOLDER_VARIABLE = "CONFORMANCE_TEST_WORKER_STDERR"  # set by the controller, inherited by the workers it starts
LAST_LINES = 60  # when no fatal error was written
MOST_LINES = 1000  # from the fatal error on: faulthandler writes every thread's traceback, ~30 lines each
FATAL_ERROR = "Fatal Python error"
MADE_FOLDER = pytest.StashKey[str]()  # the folder of this session's workers, on the controller that made it
NOTHING_WRITTEN = (
    "(nothing: a process killed by SIGKILL, as the OOM killer does, writes no word; "
    "see the kernel's log, `dmesg | grep -i killed`)"
)


def worker_file(folder: str | Path, worker_id: str) -> Path:
    return Path(folder) / f"{worker_id}.stderr"


def last_words(path: Path) -> str:
    """From the file's last fatal error on (faulthandler's tracebacks of every thread), or else its last lines;
    or a word on why there are none."""
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    fatal = [index for index, line in enumerate(lines) if line.startswith(FATAL_ERROR)]
    shown = lines[fatal[-1] :][:MOST_LINES] if fatal else lines[-LAST_LINES:]
    return "\n".join(shown) if shown else NOTHING_WRITTEN


@pytest.hookimpl(tryfirst=True)  # before pytest's faulthandler plugin takes a copy of stderr
def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)  # set by xdist on its workers only
    if worker is None:
        if _starts_workers(config):
            config.stash[MADE_FOLDER] = os.environ[FOLDER_VARIABLE] = tempfile.mkdtemp(prefix="test-worker-stderr-")
        return
    folder = os.environ.get(FOLDER_VARIABLE)
    if folder:
        with open(worker_file(folder, worker["workerid"]), "ab") as file:
            os.dup2(file.fileno(), 2)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The folder goes with the session that made it (a pytest run inside a test leaves its outer one alone)."""
    folder = config.stash.get(MADE_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get(FOLDER_VARIABLE) == folder:
            del os.environ[FOLDER_VARIABLE]


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is not installed
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    folder = os.environ.get(FOLDER_VARIABLE)
    worker = getattr(report, "node", None)
    if folder and worker is not None:
        worker_id = worker.gateway.id
        report.sections.append(
            (f"what worker {worker_id} wrote to stderr last", last_words(worker_file(folder, worker_id)))
        )


def _starts_workers(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("xdist") and bool(getattr(config.option, "numprocesses", None))
