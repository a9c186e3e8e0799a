"""Whether the target as a whole has stopped answering: judged in the order the requests went out.

Side by side, answers do not come back in the order their requests went out. A target that drops one request
in five, with 8 in flight, drops requests 5, 10 and 15 at once, and their failures arrive before the answers
to the requests sent between them: counted as they arrive, that is 3 failures in a row from a target that
answers 4 requests in 5. So the requests are numbered as they take their place in flight
(`transport.SENT_AS`), and the target has stopped answering when STOPPED_ANSWERING requests that went out one
after another all got no usable answer, to more than one operation (one operation that hangs is not the
target as a whole: side by side, the requests in flight may all be to it). A request still in flight between
them keeps them apart until its answer shows whether the target answered it.

A target that has stopped answering hangs or refuses every request: the ones in flight side by side went out
one after another and fail one after another, so this takes no longer to see than counting failures as they
arrive.
"""

from __future__ import annotations

import threading

STOPPED_ANSWERING = 3  # requests in a row, in the order they went out, without a usable answer
KEPT = 4096  # outcomes kept, counted back from the last request numbered: far more than can be in flight


class _Neither:
    """The outcome of a request that got neither a usable answer nor a failure the run counts (a connection
    closed on a raw request, which may be a refusal): it neither extends a silence nor breaks one."""


NEITHER = _Neither()
ANSWERED = None  # the outcome of a request that got a usable answer


class Silence:
    """The outcome of each numbered request (its operation's name when it failed, ANSWERED, NEITHER), and the
    number of the last request of a silence seen, until a request sent after it gets a usable answer."""

    def __init__(self) -> None:
        self._outcomes: dict[int, str | _Neither | None] = {}
        self._silent_through: int | None = None
        self._lock = threading.Lock()

    @property
    def stopped_answering(self) -> bool:
        return self._silent_through is not None

    def answered(self, number: int | None) -> None:
        """A request got a usable answer: the target answers again if it went out after the last silence."""
        if number is None:
            return
        with self._lock:
            self._keep(number, ANSWERED)
            if self._silent_through is not None and number > self._silent_through:
                self._silent_through = None

    def neither(self, number: int | None) -> None:
        if number is not None:
            with self._lock:
                self._keep(number, NEITHER)

    def failed(self, number: int | None, operation: str) -> None:
        """A request to `operation` got no usable answer (one never numbered, which never went out, is not
        counted: the target never saw it)."""
        if number is None:
            return
        with self._lock:
            self._keep(number, operation)
            first, last = self._stretch(number, -1), self._stretch(number, 1)
            failed = [self._outcomes[n] for n in range(first, last + 1) if isinstance(self._outcomes[n], str)]
            if len(failed) >= STOPPED_ANSWERING and len(set(failed)) > 1:
                self._silent_through = max(last, self._silent_through or last)

    def forget(self) -> None:
        """Start afresh (the cleanup sends every operation again)."""
        with self._lock:
            self._outcomes.clear()
            self._silent_through = None

    def _stretch(self, number: int, step: int) -> int:
        """The farthest request from `number`, in direction `step`, with no request between that was answered or
        is still in flight."""
        while self._outcomes.get(number + step, ANSWERED) is not ANSWERED:
            number += step
        return number

    def _keep(self, number: int, outcome: str | _Neither | None) -> None:
        self._outcomes[number] = outcome
        if len(self._outcomes) > 2 * KEPT:
            for old in [n for n in self._outcomes if n < number - KEPT]:
                del self._outcomes[old]
