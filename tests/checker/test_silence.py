"""Whether the target as a whole has stopped answering, judged in the order the requests went out (`Silence`)."""

from __future__ import annotations

from conformance.checker.silence import STOPPED_ANSWERING, Silence


def test_drops_sent_apart_are_no_silence_even_when_they_come_back_together() -> None:
    """One request in five dropped, 8 in flight: the drops of requests 5, 10 and 15 arrive before the answers to
    the requests between them."""
    silence = Silence()
    for number in (5, 10, 15):
        silence.failed(number, "listWebHooks" if number % 2 else "getWebHook")

    assert not silence.stopped_answering
    for number in (1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14):
        silence.answered(number)
    assert not silence.stopped_answering


def test_requests_that_went_out_one_after_another_without_an_answer_are_a_silence() -> None:
    silence = Silence()
    silence.answered(1)
    for number in range(2, 2 + STOPPED_ANSWERING):
        assert not silence.stopped_answering
        silence.failed(number, "listWebHooks" if number % 2 else "getWebHook")

    assert silence.stopped_answering


def test_failures_come_back_in_any_order() -> None:
    """Side by side, the last of them to go out may be the first to fail."""
    silence = Silence()
    silence.failed(9, "getWebHook")
    silence.failed(7, "listWebHooks")
    assert not silence.stopped_answering
    silence.failed(8, "getWebHook")

    assert silence.stopped_answering


def test_one_operation_that_hangs_is_no_silence_of_the_target() -> None:
    silence = Silence()
    for number in range(1, 9):
        silence.failed(number, "getWebHook")

    assert not silence.stopped_answering
    silence.failed(9, "listWebHooks")
    assert silence.stopped_answering


def test_a_request_neither_answered_nor_failed_neither_breaks_nor_extends_a_silence() -> None:
    """A raw request whose connection closed may have been refused by the target: not counted either way."""
    silence = Silence()
    silence.failed(1, "getWebHook")
    silence.neither(2)
    silence.neither(3)
    silence.failed(4, "listWebHooks")
    assert not silence.stopped_answering
    silence.failed(5, "listWebHooks")

    assert silence.stopped_answering


def test_only_an_answer_to_a_request_sent_after_the_silence_ends_it() -> None:
    silence = Silence()
    for number in range(10, 13):
        silence.failed(number, "listWebHooks" if number % 2 else "getWebHook")
    silence.answered(9)  # went out before the silence: its answer was only late
    silence.answered(None)  # never went out
    assert silence.stopped_answering

    silence.answered(13)
    assert not silence.stopped_answering


def test_a_request_that_never_went_out_is_not_counted() -> None:
    silence = Silence()
    for _ in range(STOPPED_ANSWERING + 1):
        silence.failed(None, "listWebHooks")
        silence.failed(None, "getWebHook")

    assert not silence.stopped_answering


def test_forget_starts_afresh() -> None:
    silence = Silence()
    for number in range(1, 4):
        silence.failed(number, "listWebHooks" if number % 2 else "getWebHook")
    silence.forget()

    assert not silence.stopped_answering
    silence.failed(4, "getWebHook")
    assert not silence.stopped_answering
