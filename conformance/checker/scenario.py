"""Targeted scenarios: how one registers (`@scenario`) and what it gets to work with (`Probe`: the client, the
results, fresh test data, and `expect`).

Scenarios are small functions registered with `@scenario("ID", ...)` naming the requirements they verify.
Each receives a `Probe` and states expectations with `probe.expect(...)`; a broken expectation becomes a
`Finding` carrying the exchanges that show it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from conformance.checker import attribution
from conformance.checker.client import Reply
from conformance.checker.profile import Credentials
from conformance.checker.run_state import RunState
from conformance.checker.side_by_side import map_side_by_side
from conformance.contract.catalogue import requirement
from conformance.contract.facts import DEFAULT_EVENT_TYPE, MAX_LIST_LIMIT

SECOND_KEY = "second-developer-key"
T = TypeVar("T")


class ScenarioAborted(Exception):
    """A scenario cannot go on (its setup failed); its unexercised requirements become not-run."""


class Probe:
    """One scenario's view of the run."""

    def __init__(self, state: RunState, check: str) -> None:
        self.state = state
        self.check = check
        self.client = state.client
        self.profile = state.profile
        self.results = state.results
        self.budget = state.budget
        self.rng = random.Random(f"{state.seed}:{check}")
        self._url_counter = 0

    @property
    def primary(self) -> Credentials:
        return self.profile.primary

    @property
    def second(self) -> Credentials:
        second = self.profile.second
        if second is None:
            raise ScenarioAborted("needs --second-developer-key")
        return second

    def side_by_side(self, sends: Sequence[Callable[[], T]]) -> Iterator[T | Exception]:
        """Call `sends`, each one request that needs no other's answer, up to the run's workers at a time
        (one after another with one worker); each one's result, or the exception it raised, in the order given.

        Each reply's exchange joins the check's traffic as its result is taken, whenever the answer came, and the
        every-answer checks judge it then (`attribution.DEFERRED`): judged in that order (`expect` after each), a
        finding's sequence is the same whatever the concurrency."""

        def unrecorded(send: Callable[[], T]) -> tuple[T | Exception, list[Callable[[], None]]]:
            deferred: list[Callable[[], None]] = []
            recording, self.state.recording = self.state.recording, False
            token = attribution.DEFERRED.set(deferred)
            try:
                return send(), deferred
            except Exception as error:  # the caller's to judge, in order
                return error, deferred
            finally:
                attribution.DEFERRED.reset(token)
                self.state.recording = recording

        for result, deferred in map_side_by_side(unrecorded, sends, self.state.workers, "scenario"):
            if self.state.recording and isinstance(result, Reply):
                self.state.keep(self.check, result.exchange)
            for judge in deferred:
                judge()
            yield result

    def expect(
        self, requirement_id: str, ok: bool, expected: str, actual: str | Callable[[], str], *replies: Reply
    ) -> bool:
        """Record one assertion about a requirement; returns `ok` so callers can stop early.

        `replies` are the evidence, the request the assertion is about first (its operation is counted)."""
        operation = replies[0].operation if replies else None
        evidence = [reply.exchange for reply in replies]
        sequence = None if ok else self.state.sequence(self.check, evidence)
        self.results.check(
            requirement_id, self.check, ok, expected, actual, evidence, operation=operation, sequence=sequence
        )
        return ok

    def expect_status(self, requirement_id: str, reply: Reply, allowed: set[int] | int, what: str) -> bool:
        """Expect one of `allowed` statuses; `what` says what was sent, for the finding."""
        allowed = {allowed} if isinstance(allowed, int) else allowed
        wanted = " or ".join(map(str, sorted(allowed)))
        return self.expect(
            requirement_id,
            reply.status in allowed,
            f"{wanted} for {what}",
            lambda: f"answered {reply.status} to {what}, {_body_hint(reply)}",
            reply,
        )

    def shop_id(self) -> str:
        return self.state.new_shop_id()

    def webhook_url(self) -> str:
        """A fresh, valid webhook URL (https, public-looking host) that marks the record as this run's."""
        self._url_counter += 1
        return self.state.mark.url(self.check, self._url_counter)

    def body(self, **fields: Any) -> dict[str, Any]:
        """A valid create body; keyword arguments override or add fields."""
        base: dict[str, Any] = {
            "shopId": self.shop_id(),
            "webHookType": DEFAULT_EVENT_TYPE,
            "webHookUrls": [self.webhook_url()],
            "url": self.webhook_url(),
        }
        base.update(fields)
        return base

    def create(self, body: dict[str, Any] | None = None, identity: Credentials | None = None) -> dict[str, Any]:
        """Create a record that the scenario needs; ScenarioAborted (and a CREATE-01 finding) if it cannot."""
        body = self.body() if body is None else body
        reply = self.client.create(body, identity=identity)
        record = reply.json_or_none()
        ok = reply.status in (200, 201) and isinstance(record, dict) and isinstance(record.get("id"), str)
        if not self.expect_status("CREATE-01", reply, {200, 201}, "a valid create body") or not ok:
            raise ScenarioAborted(f"could not create a record: {reply.exchange.summary()}")
        return record

    def read(self, webhook_id: str, identity: Credentials | None = None) -> dict[str, Any] | None:
        """The record as GET returns it, or None when it does not answer 200 with an object."""
        return self.look(webhook_id, identity)[0]

    def look(self, webhook_id: str, identity: Credentials | None = None) -> tuple[dict[str, Any] | None, Reply]:
        """`read`, and the answer it read (evidence for a finding about the record)."""
        reply = self.client.get(webhook_id, identity=identity)
        record = reply.json_or_none()
        return (record if reply.status == 200 and isinstance(record, dict) else None), reply

    def list_all(
        self, params: dict[str, Any] | None = None, page: int = MAX_LIST_LIMIT, limit_pages: int = 50
    ) -> list[Reply]:
        """Every page of a list, walking start = 0, page, 2*page, ... until a short page (bounded)."""
        return self.client.list_all(params, page=page, limit_pages=limit_pages)


def _body_hint(reply: Reply) -> str:
    text = reply.text.strip().replace("\n", " ")
    return f"with body {text[:160]!r}" if text else "with no body"


@dataclass(frozen=True)
class Scenario:
    """A targeted check: its name, the requirements it verifies, the function, what it needs, and whether it
    writes to the target (a read-only run leaves out every scenario that does, and refuses its writes)."""

    name: str
    covers: tuple[str, ...]
    run: Callable[[Probe], None]
    needs: str | None = None
    writes: bool = True


SCENARIOS: list[Scenario] = []


def scenario(
    *covers: str, needs: str | None = None, writes: bool = True
) -> Callable[[Callable[[Probe], None]], Callable[[Probe], None]]:
    """Register a scenario verifying the requirements `covers`; `writes=False` promises it only reads (sends
    safe methods only), so that it runs in a read-only run too."""
    for requirement_id in covers:
        requirement(requirement_id)  # an unknown ID is a bug here, at import time

    def register(func: Callable[[Probe], None]) -> Callable[[Probe], None]:
        SCENARIOS.append(Scenario(func.__name__, covers, func, needs, writes))
        return func

    return register
