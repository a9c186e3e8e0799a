"""What every engine of one run shares (`RunState`), and an engine's one-line account of its part (`Tally`,
`engine_summary`)."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.checker import attribution
from conformance.checker.budget import Budget
from conformance.checker.client import Reply, TargetClient
from conformance.checker.evidence import Exchange
from conformance.checker.ledger import Write
from conformance.checker.marks import RunMark
from conformance.checker.profile import TargetProfile
from conformance.checker.reproduction import SHOP_IN_BODY, created_id, unanswered_create
from conformance.checker.results import Results
from conformance.checker.transport import interrupted
from conformance.contract.facts import COLLECTION_PATH


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
    # Check -> the requirements it covers, for every check of this run that has not finished: a run that stops
    # early leaves out every requirement whose checks had not all run, rather than count what it saw as a pass.
    unfinished: dict[str, tuple[str, ...]] = field(default_factory=dict)
    checks: frozenset[str] = frozenset()  # run only the scenarios with these names (replay; empty: all)
    machine_steps: tuple[dict[str, Any], ...] = ()  # the lifecycle takes these steps, not examples (replay)
    concurrency: int = 1  # requests in flight at most: checks of the run side by side (`side_by_side`)
    traffic: dict[str, list[Exchange]] = field(default_factory=lambda: defaultdict(list))  # scenario -> requests
    # Every write the run sent, answered or not, as the ledger journaled it before it went out, whichever engine
    # sent it (the ledger's own list): the records a finding's answers show are made again from here.
    writes: list[Write] = field(default_factory=list)
    # Per engine: the requests its checks sent (`attribution.ENGINE`), for its own line in the console.
    sent_by_engine: Counter[str] = field(default_factory=Counter)
    # Per check (`attribution.CHECK`: a scenario, an engine, the preflight, the cleanup): the requests it sent.
    sent_by_check: Counter[str] = field(default_factory=Counter)
    _shops: Counter[str] = field(default_factory=Counter, repr=False)  # check -> shops it has made
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def current_check(self) -> str:
        """The scenario or engine sending requests here (each check side by side sees its own)."""
        return attribution.CHECK.get()

    @current_check.setter
    def current_check(self, name: str) -> None:
        attribution.CHECK.set(name)

    @property
    def recording(self) -> bool:
        """Whether `record` keeps this check's requests: while a scenario runs (an engine sends thousands)."""
        return attribution.RECORDING.get()

    @recording.setter
    def recording(self, value: bool) -> None:
        attribution.RECORDING.set(value)

    @property
    def workers(self) -> int:
        """How many checks may run at a time: `--concurrency`, or one when the user's `--shop-id`s are shared by
        every check (a count of a shared shop means something only while nothing else writes there)."""
        return 1 if self.profile.shop_ids else self.concurrency

    @property
    def run_tag(self) -> str:
        """The run's id, as it appears in its shop ids and webhook URLs."""
        assert self.mark.run_id is not None
        return self.mark.run_id

    def record(self, reply: Reply) -> None:
        """An observer: count each answer for the engine whose check sent the request, and keep it under the
        scenario that sent it (its reproduction's sequence)."""
        with self._lock:
            self.sent_by_engine[attribution.ENGINE.get()] += 1
            self.sent_by_check[attribution.CHECK.get()] += 1
            if self.recording:
                self.traffic[self.current_check].append(reply.exchange)

    def keep(self, check: str, exchange: Exchange) -> None:
        """Keep an exchange under the scenario `check` that sent it unrecorded (`Probe.side_by_side`)."""
        with self._lock:
            self.traffic[check].append(exchange)

    def sequence(self, check: str, evidence: list[Exchange], about: tuple[str, ...] = ()) -> list[Exchange]:
        """What the scenario `check` sent so far, and any evidence it sent unobserved, after the writes of the
        run (journaled, by any engine) that made the records the failure needs and the check did not make: the
        records its answers show or `about` names (ids and shops), and for a list of the whole company every
        record live then; their creates, updates and deletes; and the creates that named no record but may have
        stored one of a shop they show. The steps that reproduce a finding from a clean start; none for an
        engine's own request that needs no record of another check (`conformance replay` reruns the engine)."""
        with self._lock:  # checks side by side add to the traffic meanwhile
            recorded = {name: list(steps) for name, steps in self.traffic.items()}
        sent = recorded.get(check, [])
        others = self.made_by_others([*sent, *evidence], evidence, about)
        if check not in recorded and not others:
            return []
        return others + sent + [item for item in evidence if not any(item is other for other in sent)]

    def made_by_others(
        self, mine: list[Exchange], evidence: list[Exchange], about: tuple[str, ...] = ()
    ) -> list[Exchange]:
        """The writes of the run (`sequence`) that made the records a failure shown by `evidence` needs, beyond
        the requests `mine` of the check that saw it: the steps before its own in a clean start."""
        journal = [(write.operation, write.exchange) for write in list(self.writes)]  # a copy: others append
        shown = " ".join([*(item.response_body or "" for item in evidence), *about])
        shops = set(SHOP_IN_BODY.findall(shown)) | set(about)
        creates = [step for operation, step in journal if operation == CREATE]

        def theirs(step: Exchange) -> bool:
            return not any(step is item for item in mine)

        records = {made for step in creates if (made := created_id(step)) is not None and made in shown}
        if any(_lists_the_company(item) for item in evidence):  # its answer depends on every record there
            records |= _live(journal)
        records -= {created_id(step) for step in mine}
        # A create that named no record may have stored one all the same: one that got no answer (or a 5xx) in
        # any shop the answers show; one refused with a 4xx in the shops of the records the failure is about.
        made = [
            step
            for step in creates
            if theirs(step)
            and (
                created_id(step) in records
                or (unanswered_create(step) and _shop_of(step) in shops)
                or (created_id(step) is None and _shop_of(step) in about)
            )
        ]
        changed = [
            step
            for operation, step in journal
            if operation in (UPDATE, DELETE) and _item_of(step) in records and theirs(step)
        ]
        return made + changed

    def selected(self, covers: tuple[str, ...]) -> bool:
        """Whether --only/--skip leave any of these requirements in the run."""
        return any((not self.only or item in self.only) and item not in self.skip for item in covers)

    def chosen(self, name: str, covers: tuple[str, ...]) -> bool:
        """Whether the scenario `name` covering these requirements is in the run (--only/--skip, replay)."""
        return self.selected(covers) and (not self.checks or name in self.checks)

    def plan(self, checks: dict[str, tuple[str, ...]]) -> None:
        """These checks (name -> the requirements each covers) are to run: unfinished until `finish`."""
        self.unfinished.update(checks)

    def finish(self, check: str) -> None:
        """The check has run (or will not run): its requirements no longer wait for it. Not once the run is
        interrupted: the interrupt cuts the requests in flight, and a check may end on that as on a target that
        did not answer (the lifecycle's lanes halt), with what it saw before no pass."""
        if not interrupted():
            self.unfinished.pop(check, None)

    def unfinished_requirements(self) -> list[str]:
        """The requirements of the checks that have not finished, in the order they were planned."""
        return list(dict.fromkeys(item for covers in self.unfinished.values() for item in covers))

    def new_shop_id(self) -> str:
        """A shop id for new test records: run-unique, or one of the user's `--shop-id`s in turn.

        A run's own shop is named after the check that asked for it (`wc-<run>.<check>.<n>`): the same seed gives
        the same shop ids whatever ran beside the check, and a record left behind says which check wrote it."""
        check = self.current_check
        with self._lock:
            self._shops[check] += 1
            number = self._shops[check]
        if self.profile.shop_ids:
            return self.profile.shop_ids[(number - 1) % len(self.profile.shop_ids)]
        return self.mark.shop(f"{_slug(check)}.{number}")


def _slug(check: str) -> str:
    """A check's name as it can stand in a shop id: letters, digits, `_` and `-`."""
    return "".join(char if char.isalnum() or char in "_-" else "-" for char in check)


@dataclass(frozen=True)
class Tally:
    """Where a run stood when an engine started: requests sent and failed assertions per requirement."""

    requests: int
    failures: dict[str, int]

    @classmethod
    def of(cls, state: RunState) -> Tally:
        """The counts of the engine running here (engines run side by side: each counts its own)."""
        engine = attribution.ENGINE.get()
        return cls(state.sent_by_engine[engine], dict(state.results.failures_by_engine[engine]))


def engine_summary(name: str, state: RunState, before: Tally, detail: str = "") -> str:
    """An engine's one line when it ends, with only its own requests and findings:
    `lifecycle: 240 requests, 2 findings on LIST-02, DELETE-02; 25 runs of the state machine`."""
    now = Tally.of(state)
    grown = {rid: count - before.failures.get(rid, 0) for rid, count in now.failures.items()}
    failed = [rid for rid, count in grown.items() if count > 0]
    found = f"{sum(grown[rid] for rid in failed)} finding(s) on {', '.join(failed)}" if failed else "no findings"
    return f"{name}: {now.requests - before.requests} requests, {found}" + (f"; {detail}" if detail else "")


def _shop_of(step: Exchange) -> str | None:
    """The shop a create's request body names."""
    found = SHOP_IN_BODY.search(step.full_request_body or step.request_body or "")
    return found[1] if found else None


CREATE, UPDATE, DELETE = "createWebHook", "updateWebHook", "deleteWebHook"


def _item_of(step: Exchange) -> str:
    """The record id an item path names (its last segment)."""
    return urlsplit(step.url).path.rsplit("/", 1)[-1]


def _lists_the_company(step: Exchange) -> bool:
    """Whether the request lists the whole company (a GET of the collection without a shopId)."""
    parts = urlsplit(step.url)
    listed = step.method in ("GET", "HEAD") and parts.path.endswith(COLLECTION_PATH)
    return listed and "shopId" not in parse_qs(parts.query)


def _live(journal: list[tuple[str | None, Exchange]]) -> set[str]:
    """The records the journaled writes left live: created and not deleted since (as far as the answers say)."""
    live: set[str] = set()
    for operation, step in journal:
        made = created_id(step) if operation == CREATE else None
        if made is not None:
            live.add(made)
        elif operation == DELETE and step.status is not None and (200 <= step.status < 300 or step.status == 404):
            live.discard(_item_of(step))
    return live
