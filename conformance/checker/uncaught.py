"""What ends a library's thread with an exception, kept for the run instead of printed; and which of the
exceptions a library caught for us were raised by the checker's own code.

Schemathesis tests each operation on worker threads of its own. It turns what fails within a test into events,
but an exception raised around a test (while it takes the next operation, sets one up, or closes it) ends the
worker thread: Python prints its traceback to stderr, and the engine finishes without that operation's tests.
Unseen, such a run would pass on the strength of the tests that did run. While `KeptUncaught` is entered, such
an exception is kept (`errors`) for the run to report as an error of the checker, and nothing is printed.

`threading.excepthook` is one for the whole process: the first `KeptUncaught` entered installs the hook, the
last one left puts back what was there before, unless something else has replaced it meanwhile. An exception of
any other thread goes to the hook that was there before.

Schemathesis also catches what one of its cases raises and reports it as an error of that case, and the test of
the operation goes on or ends there. Raised by the target's answer (a connection reset, a body it cannot read),
that is a note of the run; raised by the checker's own code (`raised_by_the_checker`: in the hooks it runs
inside Schemathesis's tests), that check did not all run, and a pass would rest on the rest of it.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path
from typing import Any

import requests

PACKAGE = Path(__file__).resolve().parent.parent  # the checker's own code: the conformance package

_lock = threading.Lock()
_entered: list[KeptUncaught] = []
_before: Any = None  # the hook installed before the first KeptUncaught was entered


class KeptUncaught:
    """Keeps the exceptions that end threads whose names begin with one of `prefixes`, while entered."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self.prefixes = prefixes
        self.errors: list[BaseException] = []

    def __enter__(self) -> KeptUncaught:
        global _before
        with _lock:
            if not _entered:
                _before = threading.excepthook
                threading.excepthook = _keep
            _entered.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _entered.remove(self)
            if not _entered and threading.excepthook is _keep:
                threading.excepthook = _before

    def takes(self, thread: threading.Thread | None) -> bool:
        return thread is not None and thread.name.startswith(self.prefixes)


def _keep(args: threading.ExceptHookArgs) -> None:
    with _lock:
        keepers = [kept for kept in _entered if kept.takes(args.thread)]
        before = _before
    if not keepers or args.exc_value is None or issubclass(args.exc_type, SystemExit):
        (before or threading.__excepthook__)(args)
        return
    for kept in keepers:
        kept.errors.append(args.exc_value)


def raised_by_the_checker(error: BaseException) -> bool:
    """Whether `error` was raised in the checker's own code (where it was raised, its innermost frame, is in the
    conformance package), and is not one of the transport failures the checker raises for a target's answer on
    purpose (requests' exceptions: too large, too slow, still rate-limited)."""
    if isinstance(error, requests.RequestException):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)
