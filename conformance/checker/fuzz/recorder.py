"""Event recording: `VerdictRecorder` turns Schemathesis's event stream into requirement results."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from schemathesis.engine import Status, StopReason, events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.engine.run import PhaseName

from conformance.checker.client import Reply, WriteRefused
from conformance.checker.evidence import Exchange
from conformance.checker.fuzz.checks import CHECKS, CheckedExchange
from conformance.checker.fuzz.hook import ForeignRecordWrite, ObservedTransport, Unanswered
from conformance.checker.run_state import RunState
from conformance.checker.transport import Place, Turn, interrupted
from conformance.checker.uncaught import raised_by_the_checker
from conformance.contract.request_rules import Break, RequestRules

EVIDENCE_PER_FINDING = 4  # exchanges kept per finding: the failing one and what led to it

# What the checker itself did, for the report's notes: neither is a fault of the target.
UNBACKED_NOTE = (
    "failed Schemathesis check(s) were set aside, not reported: the checker's own filter keeps only failures the "
    "contract backs (Schemathesis reads the spec more strictly than the contract in places, or the record was "
    "deleted meanwhile). They say nothing against the target."
)
HELD_BACK_NOTE = (
    "generated write(s) were held back, never sent: the checker's staging guard lets Schemathesis change only "
    "records this run created (and nothing in a read-only run). They say nothing against the target."
)


class VerdictRecorder:
    """Turns the engine's event stream into requirement results: findings for failed checks that the
    contract backs, exercised marks for passed ones that speak to a requirement."""

    def __init__(self, state: RunState, transport: ObservedTransport) -> None:
        self.state = state
        self.transport = transport
        self.rules = RequestRules.of(state.profile, state.spec)
        self.unbacked = 0
        self.stopped_early = False
        self.refused = 0  # generated writes not sent: they named a record it did not create, or the run is read-only
        self.unanswered = 0  # requests without a usable answer, or not sent: their operation got none too often
        self.target_silent = False  # the target stopped answering: the engine was stopped
        self.stop_reason: StopReason | None = None  # why the engine finished, once it has
        self._errors: Counter[str] = Counter()
        self.checker_errors: list[BaseException] = []  # raised by the checker's own code within a test

    @property
    def errors(self) -> int:
        """Errors of the engine: neither a finding nor a fault of the target (the notes say what they were)."""
        return sum(self._errors.values())

    def add(self, other: VerdictRecorder) -> None:
        """Count in what another engine of the same run recorded (the phases run as engines side by side):
        the console line and the notes speak of Schemathesis as one."""
        self.unbacked += other.unbacked
        self.refused += other.refused
        self.unanswered += other.unanswered
        self.stopped_early |= other.stopped_early
        self.target_silent |= other.target_silent
        self._errors.update(other._errors)
        self.checker_errors += other.checker_errors

    def in_words(self, state: RunState) -> str:
        """What the engine's own filter and the staging guard did, briefly for the console line; the report's
        notes get the plain explanation (they are the checker at work, not faults of the target)."""
        said = []
        explained = (
            (self.unbacked, "of its failed checks set aside", UNBACKED_NOTE),
            (self.refused, "writes held back", HELD_BACK_NOTE),
        )
        for count, short, note in explained:
            if count:
                said.append(f"{count} {short}")
                state.results.notes["schemathesis"].append(f"{count} {note}")
        for message, count in self._errors.items():
            state.results.notes["schemathesis"].append(f"{message} (x{count})")
        if self.errors:
            said.append(f"{self.errors} engine errors (see the notes)")
        if self.unanswered:
            said.append(f"{self.unanswered} requests without a usable answer")
        return ", ".join(said)

    def follow(self, stream: Any, deadline: float, probes: Sequence[Turn | Place] = ()) -> None:
        """Consume the events until the engine finishes (stopping it at the deadline; `stop_reason` says why it
        finished). `probes` are the place in flight and the turns of the rate limit that its start-up probes went
        out in: finished with its probing phase.

        Whatever ends the reading early (a Ctrl-C in this thread, a failure in judging) ends the engine first: its
        worker threads are stopped and joined before the exception goes on. Left to the garbage collector, they
        went on sending beside the run's cleanup."""
        try:
            self._follow(stream, deadline, probes)
        except BaseException:
            stream.stop()
            # Schemathesis's phases stop their workers and join them on the way out. Should one yield on its way
            # out instead ("generator ignored GeneratorExit"), the exception that ended the reading still goes on.
            with contextlib.suppress(RuntimeError):
                stream.generator.close()
            raise

    def _follow(self, stream: Any, deadline: float, probes: Sequence[Turn | Place]) -> None:
        stopping = False  # an interrupt was seen
        for event in stream:
            if time.monotonic() > deadline and not self.stopped_early:
                self.stopped_early = True
                stream.stop()
            if interrupted() and not stopping:  # Ctrl-C in another thread: no new test of its workers starts
                stopping = True
                stream.stop()
            if self.state.client.stopped_answering and not self.target_silent:
                self.target_silent = True
                stream.stop()
            if isinstance(event, events.PhaseFinished) and event.phase.name == PhaseName.PROBING:
                for taken in probes:
                    taken.finish()
            if isinstance(event, events.ScenarioFinished):
                self.record(event.recorder)
            elif isinstance(event, events.NonFatalError) and isinstance(event.value, ForeignRecordWrite | WriteRefused):
                self.refused += 1  # a guard did its job: not an error of the engine or the target
            elif isinstance(event, events.NonFatalError) and isinstance(event.value, Unanswered):
                self.unanswered += 1  # the client counted it: the report's notes say what the target did
            elif isinstance(event, events.NonFatalError) and raised_by_the_checker(event.value):
                self.checker_errors.append(event.value)  # a bug of ours: that test did not all run
            elif isinstance(event, events.NonFatalError):
                self._errors[str(event.value).splitlines()[0][:200] if str(event.value) else event.label] += 1
            elif isinstance(event, events.Interrupted):
                stopping = True
                stream.stop()  # a worker thread was interrupted: the other phases must not start
            elif isinstance(event, events.EngineFinished):
                self.stop_reason = event.stop_reason
        # Our own stop (at the deadline, or of a silent target) is not the user's Ctrl-C, though Schemathesis's
        # stateful phase reports any stop as an interruption.
        if interrupted() or (stopping and not (self.stopped_early or self.target_silent)):
            raise KeyboardInterrupt

    def record(self, recorder: ScenarioRecorder) -> None:
        """Judge every check verdict of one finished scenario."""
        for case_id, nodes in recorder.checks.items():
            sent = self.transport.traffic.get(case_id)
            node = recorder.cases.get(case_id)
            if sent is None or node is None:
                continue
            for verdict in nodes:
                use = CHECKS.get(verdict.name)
                if use is None or use.speaks_to is None or verdict.status == Status.ERROR:
                    continue
                failure = verdict.failure_info.failure if verdict.failure_info is not None else None
                seen = CheckedExchange(
                    verdict.name,
                    node.value,
                    sent,
                    failure,
                    self.rules,
                    self.transport.created.__contains__,
                    self.transport.deleted.__contains__,
                )
                self._judge(seen, use.speaks_to(seen), recorder, case_id)

    def _judge(self, seen: CheckedExchange, breaks: list[Break], recorder: ScenarioRecorder, case_id: str) -> None:
        check = f"schemathesis:{seen.check}"
        if seen.failure is None:
            operation = seen.sent.operation
            for item in breaks:
                self.state.results.check(item.requirement_id, check, True, item.reason, "", operation=operation)
            return
        if not breaks:
            self.unbacked += 1
            return
        blamed = breaks[0]
        evidence = self._evidence(seen, recorder, case_id)
        self.state.results.check(
            blamed.requirement_id,
            check,
            False,
            _expected(seen, blamed),
            _actual(seen, blamed),
            evidence,
            operation=seen.sent.operation,
            sequence=self._sequence(recorder, case_id, evidence),
        )

    def _sequence(self, recorder: ScenarioRecorder, case_id: str, evidence: list[Exchange]) -> list[Exchange]:
        """The requests a finding needs from a clean start: the cases the failing one derives from (root first),
        then the evidence, after the anchor record's create and its last accepted update where any of them names
        the anchor, and after the writes of other checks that made records the answers need
        (`RunState.made_by_others`)."""
        ancestors: list[Exchange] = []
        parent = recorder.cases[case_id].parent_id if case_id in recorder.cases else None
        while parent is not None and parent in recorder.cases:
            if parent in self.transport.traffic:
                ancestors.insert(0, self.transport.traffic[parent].reply.exchange)
            parent = recorder.cases[parent].parent_id
        steps = [*ancestors, *(item for item in evidence if not any(item is other for other in ancestors))]
        anchor, create = self.transport.anchor, self.transport.anchor_create
        if anchor is not None and create is not None and any(anchor in step.url for step in steps):
            # What the anchor held when the case was sent: its last accepted update (every update replaces the
            # whole record), which may have made it answer as it did (a PUT that moved it out of the company).
            held = self.transport.anchor_state.get(case_id)
            steps[0:0] = [create] if held is None or any(held is step for step in steps) else [create, held]
        # Records of other checks the answers show (or, for a list of the whole company, every record then).
        return [*self.state.made_by_others(steps, evidence), *steps]

    def _evidence(self, seen: CheckedExchange, recorder: ScenarioRecorder, case_id: str) -> list[Exchange]:
        """The failing exchange, after what led to it: the case it derives from and related cases."""
        assert seen.failure is not None
        ids: list[str] = []
        parent = recorder.cases[case_id].parent_id if case_id in recorder.cases else None
        for item in (parent, *seen.failure.related_case_ids(), case_id, seen.failure.case_id):
            if item is not None and item not in ids and item in self.transport.traffic:
                ids.append(item)
        return [self.transport.traffic[item].reply.exchange for item in ids][-EVIDENCE_PER_FINDING:]


def _expected(seen: CheckedExchange, blamed: Break) -> str:
    if seen.check == "negative_data_rejection":
        return f"a 4xx answer to {blamed.reason}"
    return blamed.reason


def _actual(seen: CheckedExchange, blamed: Break) -> str:
    assert seen.failure is not None
    status = seen.sent.reply.status
    if seen.check in ("negative_data_rejection", "positive_data_acceptance"):
        return f"{status} for {blamed.reason}: {_body_hint(seen.sent.reply)}"
    message = seen.failure.message.strip().splitlines()[0] if seen.failure.message else ""
    return f"{seen.failure.title}: {message}" if message else seen.failure.title


def _body_hint(reply: Reply) -> str:
    text = reply.text.strip().replace("\n", " ")
    return f"body {text[:160]!r}" if text else "no body"
