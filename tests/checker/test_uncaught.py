"""KeptUncaught: what ends a library's thread is kept for the run, not printed; other threads' go on as before."""

from __future__ import annotations

import json
import threading

import requests

from conformance.checker.uncaught import KeptUncaught, raised_by_the_checker
from conformance.contract import json_text


def _ends_with(name: str, error: BaseException) -> None:
    def body() -> None:
        raise error

    thread = threading.Thread(target=body, name=name)
    thread.start()
    thread.join()


def test_an_exception_that_ends_a_named_thread_is_kept_and_not_printed(capfd) -> None:
    boom = RuntimeError("boom")
    with KeptUncaught(("lib_worker_",)) as kept:
        _ends_with("lib_worker_3", boom)
    assert kept.errors == [boom]
    assert "Traceback" not in capfd.readouterr().err


def test_other_threads_go_to_the_hook_that_was_there_before_which_is_put_back(monkeypatch) -> None:
    seen: list[str] = []
    before = lambda args: seen.append(args.thread.name)  # noqa: E731
    monkeypatch.setattr(threading, "excepthook", before)
    with KeptUncaught(("lib_worker_",)) as kept:
        assert threading.excepthook is not before
        _ends_with("someone_else", ValueError("theirs"))
        _ends_with("lib_worker_0", SystemExit(0))  # a thread's way to end quietly: not an error
    assert kept.errors == []
    assert seen == ["someone_else", "lib_worker_0"]
    assert threading.excepthook is before


def test_runs_entered_together_each_keep_it_and_the_last_one_out_puts_the_hook_back(monkeypatch) -> None:
    before = threading.excepthook
    first, second = KeptUncaught(("lib_",)), KeptUncaught(("lib_worker_",))
    with first:
        with second:
            _ends_with("lib_worker_1", KeyError("k"))
        _ends_with("lib_worker_2", OSError("o"))
        assert threading.excepthook is not before
    assert [type(error) for error in first.errors] == [KeyError, OSError]
    assert [type(error) for error in second.errors] == [KeyError]
    assert threading.excepthook is before


def test_a_hook_installed_meanwhile_by_someone_else_is_left_in_place() -> None:
    before = threading.excepthook
    try:
        with KeptUncaught(("lib_",)):
            theirs = lambda args: None  # noqa: E731
            threading.excepthook = theirs
        assert threading.excepthook is theirs
    finally:
        threading.excepthook = before


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as error:
        return error
    raise AssertionError("nothing raised")


def test_what_the_checkers_own_code_raised_is_told_from_what_a_library_or_the_target_raised() -> None:
    deep = "[" * 600 + "]" * 600
    assert raised_by_the_checker(_raised(lambda: json_text.loads_refusing_deep(deep)))
    assert not raised_by_the_checker(_raised(lambda: json.loads("{not json")))  # raised in the library

    def unanswered() -> None:  # raised by the checker's transport on purpose, for a target's answer
        raise requests.ConnectionError("reset by the target")

    assert not raised_by_the_checker(_raised(unanswered))
    assert not raised_by_the_checker(RuntimeError("never raised: no traceback"))
