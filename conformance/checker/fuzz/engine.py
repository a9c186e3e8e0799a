"""The Schemathesis engine: requests generated from the spec, their answers judged by the contract.

Schemathesis 4 (its Python API) generates requests from `openapi/partner-webhooks.yaml` in four phases:
the spec's examples, coverage of every constraint's edges, random fuzzing in positive and negative mode
(with the contract's edge values mixed in through fuzz dictionaries, `EDGE_VALUES`), and stateful
sequences along the spec's links (create -> get / update / delete). Its built-in checks judge each answer;
`CHECKS` says, for every one of them, which requirement its verdict is about, or why it is off. The phases
run as Schemathesis engines of their own (`PARTS`), side by side with `--concurrency` above 1.

The spec describes what a server that meets every MUST *and* SHOULD accepts, and its URL pattern is
stricter still. So a request Schemathesis calls invalid is judged again by the contract's own rules
(`RequestRules`) before a server that accepts it is blamed: for the MUST it breaks, else the SHOULD, else
(only the spec forbids it) not at all. A request it calls valid is blamed on the server only when the
contract, too, promises to accept it.

Every request goes through `ObservedTransport` (checks' own probes included): it sends by the run's one
transport policy (`transport`: the rate limit, 429s waited out, no redirect followed, answers capped in size
and time, the evidence), leaves alone an operation the client has given up on, and hands each answer to the
run's observers, so the ledger deletes whatever this engine created, and the every-answer checks (HTTP-01 to
HTTP-04, HTTP-06) judge this traffic as well. Only Schemathesis's two start-up probes (read-only GETs of
unknown paths) go around it; they take a place in flight and their turns of the run's rate limit all the same
(`START_UP_PROBES`).

Staging safety: ids are never taken from earlier answers (a list shows records that are not ours). A
write names a record only along the links from this engine's own creates, or the one record it creates
for updates to work on (`anchor_record`), or an id drawn at random; the spec's sample record id is swapped
for one unique to this run; and the transport refuses any write that names a record it saw but did not
create.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import schemathesis
from schemathesis.engine import StopReason
from schemathesis.engine.run.probes import PROBES as START_UP_PROBES

from conformance.checker.budget import Budget
from conformance.checker.engine import RunAborted, Say, WholeEngine, checker_error
from conformance.checker.fuzz.checks import COVERS, OPERATION_GROUPS
from conformance.checker.fuzz.config import anchor_record, engine_config, selected_operations, target_spec
from conformance.checker.fuzz.hook import ENGINE_NAME, ObservedTransport, route_through
from conformance.checker.fuzz.recorder import VerdictRecorder
from conformance.checker.run_state import RunState, Tally, engine_summary
from conformance.checker.side_by_side import map_side_by_side
from conformance.checker.transport import SAFE_METHODS
from conformance.checker.uncaught import KeptUncaught
from conformance.contract.facts import CONTRACT

THREADS = ("schemathesis_",)  # what Schemathesis's own threads are named after
TIME_SHARE = 0.4  # of the budget's time limit; the other engines need the rest

# Within one Schemathesis engine the phases run one after another, and one operation's coverage test is a
# hundred requests in a row: across a network, every later phase waited for it. So Schemathesis runs as
# engines of its own (`Part`): its coverage phase, split into the valid and the invalid cases (those where the
# budget has them, `Budget.invalid_coverage`), and its other phases, side by side (one after another with one
# worker). Each is seeded alike and sends the same requests whatever runs beside it.


@dataclass(frozen=True)
class Part:
    """One Schemathesis engine of the run: some of its phases, generating in `mode` (positive, negative, all)."""

    phases: tuple[str, ...]
    mode: str = "all"
    # Schemathesis's own workers (its operations side by side), at most; never more than the run's. Each is a
    # thread running Hypothesis: more of them than the network needs cost CPU (on loopback, 2 per coverage
    # half made a quick run about 2 s faster than 5).
    workers: int = 8

    def workers_in(self, state: RunState) -> int:
        return min(self.workers, state.workers)


PARTS = (
    Part(("coverage",), "positive", workers=2),
    Part(("coverage",), "negative", workers=2),
    Part(("examples", "fuzzing")),
    Part(("stateful",)),
)


def parts_of_the_run(read_only: bool, budget: Budget) -> list[Part]:
    """Schemathesis's engines of this run, the longest first: the stateful sequences start with a create, so a
    read-only run has none; the coverage phase's invalid cases only where the budget has them."""
    return [
        part
        for part in PARTS
        if not (read_only and "stateful" in part.phases)
        and not (part.phases == ("coverage",) and part.mode == "negative" and not budget.invalid_coverage)
    ]


def run_schemathesis(state: RunState, say: Say) -> None:
    """Run Schemathesis against the target and record its verdicts as requirement results."""
    if not state.selected(COVERS):
        return
    started = time.monotonic()
    before = Tally.of(state)
    deadline = started + TIME_SHARE * state.budget.time_limit
    if state.client.deadline is not None:
        deadline = min(deadline, state.client.deadline)
    transport = ObservedTransport(state, deadline)
    operations = selected_operations(state)
    read_only = state.client.read_only
    made = anchor_record(state) if not read_only and (operations is None or "updateWebHook" in operations) else None
    if made is not None:
        transport.anchor, transport.anchor_create = made
        transport.created.add(transport.anchor)

    def run_part(part: Part) -> VerdictRecorder:
        return _run_part(state, transport, part, operations, deadline)

    parts = parts_of_the_run(read_only, state.budget)
    try:
        with KeptUncaught(THREADS) as uncaught:
            recorders = map_side_by_side(run_part, parts, state.workers, ENGINE_NAME)
    finally:
        transport.ended = True  # its workers are joined by now; should one not be, it sends nothing more
    recorder = recorders[0]
    for other in recorders[1:]:
        recorder.add(other)
    say(engine_summary(ENGINE_NAME, state, before, recorder.in_words(state)))
    if uncaught.errors:  # a worker thread ended: the tests it was running or would have run are missing
        ended = f"{ENGINE_NAME} ({len(uncaught.errors)} of its threads ended)"
        checker_error(state, COVERS, ended, uncaught.errors[0])
    elif recorder.checker_errors:  # the checker's own code failed within a test: that test did not all run
        failed = f"{ENGINE_NAME} ({len(recorder.checker_errors)} of its cases)"
        checker_error(state, COVERS, failed, recorder.checker_errors[0])
    if recorder.stopped_early or any(part.stop_reason == StopReason.MAX_TIME for part in recorders):
        for requirement_id in COVERS:
            state.results.not_run(requirement_id, "schemathesis: its share of the budget's time ran out")
    if recorder.target_silent or any(part.stop_reason == StopReason.SERVER_UNAVAILABLE for part in recorders):
        raise RunAborted("the target stopped answering during the Schemathesis run")


def _run_part(
    state: RunState, transport: ObservedTransport, part: Part, operations: list[str] | None, deadline: float
) -> VerdictRecorder:
    """The Schemathesis engine of `part`, its requests through the run's `transport`; its recorder."""
    config = engine_config(state, part.phases, part.mode, part.workers_in(state), transport.anchor)
    schema = schemathesis.openapi.from_dict(target_spec(state), config=config)
    # By exclusion: an `include` would be or-ed with the config's own entry for the anchor, and leave all in.
    others = [item for item in OPERATION_GROUPS if operations is not None and item not in operations]
    if state.client.read_only:  # and the transport refuses the other methods that checks and the coverage phase try
        others += [item for item in OPERATION_GROUPS if CONTRACT.operation(item).method not in SAFE_METHODS]
    if others:
        schema = schema.exclude(operation_id=sorted(set(others)))
    route_through(schema, transport)
    # Its start-up probes go out first, one after another, on sessions of Schemathesis's own: their place in
    # flight and their turns of the rate limit are taken here (the turns together, `take_several`: one by one,
    # four engines starting at once could wait for each other's), and given back when its probing phase ends.
    policy = state.client.transport
    probes = [policy.take_place(), *policy.limiter.take_several(len(START_UP_PROBES))]
    recorder = VerdictRecorder(state, transport)
    try:
        recorder.follow(schemathesis.engine.from_schema(schema).execute(), deadline, probes)
    finally:
        for taken in probes:
            taken.finish()
    return recorder


# Its coverage tests are a quick run's longest chains of requests in a row (one operation's: up to a hundred), so
# its requests go first to a free place in flight (a quick run at 50 ms ended about 1.5 s sooner).
ENGINE = WholeEngine(ENGINE_NAME, COVERS, run_schemathesis, priority=2)
