"""Checks side by side: up to N at a time on threads, each still the same sequence of requests.

A check's requests depend on the run's seed and on the answers it gets, never on what runs beside it (each
check has its own random generator and its own shops), so running checks side by side changes when they
send, not what. Across a network that is the difference between one round trip per request and one per N.

With one worker the checks run in the calling thread, in order, exactly as without this module.
"""

from __future__ import annotations

import ast
import contextvars
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from conformance.checker.transport import interrupt

Task = Callable[[], None]
T = TypeVar("T")
R = TypeVar("R")
SIGNAL_LATENCY = 0.1  # seconds: how long a signal may wait to be handled while the calling thread waits for tasks


def run_side_by_side(tasks: Sequence[Task], workers: int, name: str = "check") -> None:
    """Run `tasks`, up to `workers` at a time, started in the order given; return when every started one ended.

    What ends the run ends every task: an interrupt in the calling thread (Ctrl-C, SIGTERM) cuts the requests
    in flight everywhere (`client.interrupt`), and the first task that raises (KeyboardInterrupt, RunAborted,
    ...) keeps the rest from starting. Either way this waits for the running tasks to end, so nothing is
    still sending when the cleanup starts, and then raises that exception here."""
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    serialize_ast_parsing()
    quiet_random_state_notes()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    futures: list[Future[None]] = []
    try:
        # Each in a copy of this context: a task knows the engine and check it runs for (`attribution`).
        futures = [pool.submit(contextvars.copy_context().run, task) for task in tasks]
        done = _until_all_done_or_one_failed(futures)
        failed = next((future for future in futures if future in done and future.exception() is not None), None)
        if failed is not None:
            _cancel_pending(futures)
            wait(futures)
            raise _first_problem(futures, failed)
    except KeyboardInterrupt:
        interrupt()  # the handler has done so already, unless the interrupt came another way
        _cancel_pending(futures)
        wait(futures)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def map_side_by_side(function: Callable[[T], R], items: Iterable[T], workers: int, name: str = "check") -> list[R]:
    """`[function(item) for item in items]`, up to `workers` at a time; the results in the order of `items`."""
    items = list(items)
    results: list[R | None] = [None] * len(items)

    def task(index: int) -> Task:
        def run() -> None:
            results[index] = function(items[index])

        return run

    run_side_by_side([task(index) for index in range(len(items))], workers, name)
    return results  # type: ignore[return-value]  (every task has run, or this raised)


def _until_all_done_or_one_failed(futures: list[Future[None]]) -> set[Future[None]]:
    """`wait(FIRST_EXCEPTION)`, SIGNAL_LATENCY at a time. The kernel may hand a SIGTERM or Ctrl-C to any thread,
    and Python runs its handler only when the main thread next runs Python code: a wait without a timeout held
    it until every task had ended (a fresh clone's SIGTERM at --concurrency 4 was handled a minute late, after
    the engines had run to their end)."""
    while True:
        done, pending = wait(futures, timeout=SIGNAL_LATENCY, return_when=FIRST_EXCEPTION)
        if not pending or any(future.exception() is not None for future in done):
            return done


def _cancel_pending(futures: list[Future[None]]) -> None:
    for future in futures:
        future.cancel()


def _first_problem(futures: list[Future[None]], failed: Future[None]) -> BaseException:
    """The exception to raise for the run: an interrupt wins over anything a task raised because of it."""
    problems = [future.exception() for future in futures if future.done() and not future.cancelled()]
    interrupted = next((item for item in problems if isinstance(item, KeyboardInterrupt)), None)
    problem = interrupted or failed.exception()
    assert problem is not None
    return problem


_PARSING = threading.RLock()  # re-entrant: a wrapper of `ast.parse` beneath ours may be ours again
_PARSED: dict[str, ast.AST] = {}  # the trees of the last source files Hypothesis parsed (`serialize_ast_parsing`)
KEPT_TREES = 4  # the filters Schemathesis hands Hypothesis are in 3 files; the biggest tree is about 8 MB
A_FILE = 10_000  # characters: a source this long is a whole file (a lambda's own block is a line or a few)


def quiet_random_state_notes() -> None:
    """Hypothesis seeds the global `random` at the start and end of each of its tests; side by side, one test's
    reseeding shows to another as "Do not use the `random` module inside strategies" (a FutureWarning every
    user would see). None of our strategies draws from `random`: the note is about the threads, not a fault."""
    warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")


def serialize_ast_parsing() -> None:
    """Let one thread at a time turn source into Python AST objects (`ast.parse`), for the whole process; and give
    Hypothesis the tree of a source it parsed a moment ago again.

    CPython builds those objects with interpreter-wide state (gh-106905): two threads parsing at once can fail
    with "SystemError: AST constructor recursion depth mismatch". Hypothesis parses source as its tests start
    (to draw the constants it finds there), so the lifecycle's lanes and Schemathesis's workers, side by side,
    would now and then lose an engine to it. The lock changes nothing else: a parse takes the same input and
    gives the same tree.

    Hypothesis describes each filter it is given by parsing the source file the filter's lambda is in, and keeps
    what it found only once the parse is done: Schemathesis's workers, starting side by side, each parsed the same
    4,600-line file of Schemathesis's, and parsed it again later when it had let its own copy go (about 10 % of a
    quick run's interpreter time went into `ast.parse`). Its parses of a whole file reuse the tree of the same
    source text (Hypothesis only reads the trees, and itself keeps parts of them to hand out again); every other
    parse is a fresh one."""
    if getattr(ast.parse, "_serialized", False):
        return
    parse = ast.parse

    def serialized(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        reusable = not args and not kwargs and isinstance(source, str) and len(source) >= A_FILE
        reusable = reusable and _called_by_hypothesis()
        with _PARSING:
            if not reusable:
                return parse(source, *args, **kwargs)
            if source not in _PARSED:
                while len(_PARSED) >= KEPT_TREES:
                    del _PARSED[next(iter(_PARSED))]  # the oldest
                _PARSED[source] = parse(source)
            return _PARSED[source]

    serialized._serialized = True  # type: ignore[attr-defined]
    ast.parse = serialized


def _called_by_hypothesis() -> bool:
    caller = sys._getframe(2)  # past `serialized`: whoever called `ast.parse`
    return str(caller.f_globals.get("__name__", "")).startswith("hypothesis.")
