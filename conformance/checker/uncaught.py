"""What ends a library's thread with an exception, kept for the run instead of printed.

Schemathesis tests each operation on worker threads of its own. It turns what fails within a test into events,
but an exception raised around a test (while it takes the next operation, sets one up, or closes it) ends the
worker thread: Python prints its traceback to stderr, and the engine finishes without that operation's tests.
Unseen, such a run would pass on the strength of the tests that did run. While `KeptUncaught` is entered, such
an exception is kept (`errors`) for the run to report as an error of the checker, and nothing is printed.

`threading.excepthook` is one for the whole process: the first `KeptUncaught` entered installs the hook, the
last one left puts back what was there before, unless something else has replaced it meanwhile. An exception of
any other thread goes to the hook that was there before.
"""

from __future__ import annotations

import threading
from typing import Any

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
