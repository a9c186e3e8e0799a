"""What a check gets to work with: the client, the results, fresh test data, and `expect`.

Scenarios are small functions registered with `@scenario("ID", ...)` naming the requirements they verify.
Each receives a `Probe` and states expectations with `probe.expect(...)`; a broken expectation becomes a
`Finding` carrying the exchanges that show it.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.checker.budget import Budget
from conformance.checker.client import Reply, TargetClient
from conformance.checker.evidence import Exchange
from conformance.checker.marks import RunMark
from conformance.checker.profile import Credentials, TargetProfile
from conformance.checker.reproduction import created_id
from conformance.checker.results import Finding, Results
from conformance.contract.catalogue import requirement
from conformance.contract.facts import DEFAULT_EVENT_TYPE, MAX_LIST_LIMIT

SECOND_KEY = "second-developer-key"


class ScenarioAborted(Exception):
    """A scenario cannot go on (its setup failed); its unexercised requirements become not-run."""


@dataclass
class RunState:
    """What every engine of one run shares."""

    profile: TargetProfile
    client: TargetClient
    results: Results
    budget: Budget
    seed: int
    mark: RunMark  # the run's id: marks shop ids and webhook URLs as ours
    spec: dict[str, Any] = field(default_factory=dict)
    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    preexisting: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # --shop-id -> records at start
    # Requirement -> checks of this run that cover it and have not finished: a run that stops early leaves
    # every requirement out whose checks had not all run, rather than count what it saw so far as a pass.
    unfinished: Counter[str] = field(default_factory=Counter)
    checks: frozenset[str] = frozenset()  # run only the scenarios with these names (replay; empty: all)
    current_check: str = "preflight"  # the scenario or engine sending requests now
    recording: bool = False  # whether `record` keeps requests: while a scenario runs (an engine sends thousands)
    traffic: dict[str, list[Exchange]] = field(default_factory=lambda: defaultdict(list))  # scenario -> requests
    _shop_counter: int = 0

    @property
    def run_tag(self) -> str:
        """The run's id, as it appears in its shop ids and webhook URLs."""
        assert self.mark.run_id is not None
        return self.mark.run_id

    def record(self, reply: Reply) -> None:
        """An observer: keep each answer under the scenario that sent the request (its reproduction's sequence)."""
        if self.recording:
            self.traffic[self.current_check].append(reply.exchange)

    def sequence(self, check: str, evidence: list[Exchange], about: tuple[str, ...] = ()) -> list[Exchange]:
        """What the scenario `check` sent so far, and any evidence it sent unobserved, after what earlier checks
        of the run did to records the evidence's answers show or `about` names (their creates, updates, deletes):
        the steps that reproduce a finding from a clean start (none for an engine's request: `conformance
        replay` reruns the engine)."""
        if check not in self.traffic:
            return []
        sent = list(self.traffic[check])
        shown = " ".join([*(item.response_body or "" for item in evidence), *about])
        earlier = [step for name, steps in self.traffic.items() if name != check for step in steps]
        records = {made for step in earlier if (made := created_id(step)) is not None and made in shown}
        writes = ("PUT", "DELETE")
        others = [
            step
            for step in earlier
            if created_id(step) in records or (step.method in writes and step.path().split("/")[-1] in records)
        ]
        return others + sent + [item for item in evidence if not any(item is other for other in sent)]

    def selected(self, covers: tuple[str, ...]) -> bool:
        """Whether --only/--skip leave any of these requirements in the run."""
        return any((not self.only or item in self.only) and item not in self.skip for item in covers)

    def chosen(self, name: str, covers: tuple[str, ...]) -> bool:
        """Whether the scenario `name` covering these requirements is in the run (--only/--skip, replay)."""
        return self.selected(covers) and (not self.checks or name in self.checks)

    def new_shop_id(self) -> str:
        """A shop id for new test records: run-unique, or one of the user's `--shop-id`s in turn."""
        self._shop_counter += 1
        if self.profile.shop_ids:
            return self.profile.shop_ids[(self._shop_counter - 1) % len(self.profile.shop_ids)]
        return self.mark.shop(self._shop_counter)


@dataclass(frozen=True)
class Tally:
    """Where a run stood when an engine started: requests sent and failed assertions per requirement."""

    requests: int
    failures: dict[str, int]

    @classmethod
    def of(cls, state: RunState) -> Tally:
        return cls(state.client.stats.requests, {rid: e.failures for rid, e in state.results.by_id.items()})


def engine_summary(name: str, state: RunState, before: Tally, detail: str = "") -> str:
    """An engine's one line when it ends, with only its own requests and findings:
    `lifecycle: 240 requests, 2 findings on LIST-02, DELETE-02; 25 runs of the state machine`."""
    now = Tally.of(state)
    grown = {rid: count - before.failures.get(rid, 0) for rid, count in now.failures.items()}
    failed = [rid for rid, count in grown.items() if count > 0]
    found = f"{sum(grown[rid] for rid in failed)} finding(s) on {', '.join(failed)}" if failed else "no findings"
    return f"{name}: {now.requests - before.requests} requests, {found}" + (f"; {detail}" if detail else "")


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

    def expect(
        self, requirement_id: str, ok: bool, expected: str, actual: str | Callable[[], str], *replies: Reply
    ) -> bool:
        """Record one assertion about a requirement; returns `ok` so callers can stop early.

        `replies` are the evidence, the request the assertion is about first (its operation is counted)."""
        operation = replies[0].operation if replies else None
        if ok:
            self.results.exercised(requirement_id, self.check, operation)
        else:
            actual_text = actual() if callable(actual) else actual
            evidence = [reply.exchange for reply in replies]
            finding = Finding(requirement_id, self.check, expected, actual_text, evidence, operation=operation)
            finding.sequence = self.state.sequence(self.check, evidence)
            self.results.fail(finding)
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
        reply = self.client.get(webhook_id, identity=identity)
        record = reply.json_or_none()
        return record if reply.status == 200 and isinstance(record, dict) else None

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
