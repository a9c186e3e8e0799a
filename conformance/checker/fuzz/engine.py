"""The Schemathesis engine: requests generated from the spec, their answers judged by the contract.

Schemathesis 4 (its Python API) generates requests from `openapi/partner-webhooks.yaml` in four phases:
the spec's examples, coverage of every constraint's edges, random fuzzing in positive and negative mode
(with the contract's edge values mixed in through fuzz dictionaries, `EDGE_VALUES`), and stateful
sequences along the spec's links (create -> get / update / delete). Its built-in checks judge each answer;
`CHECKS` says, for every one of them, which requirement its verdict is about, or why it is off.

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
unknown paths) go around it; they take their turns of the run's rate limit all the same (`START_UP_PROBES`).

Staging safety: ids are never taken from earlier answers (a list shows records that are not ours). A
write names a record only along the links from this engine's own creates, or the one record it creates
for updates to work on (`anchor_record`), or an id drawn at random; the spec's sample record id is swapped
for one unique to this run; and the transport refuses any write that names a record it saw but did not
create.
"""

from __future__ import annotations

import time

import schemathesis
from schemathesis.engine import StopReason
from schemathesis.engine.run.probes import PROBES as START_UP_PROBES

from conformance.checker.engine import RunAborted, Say, WholeEngine
from conformance.checker.fuzz.checks import COVERS
from conformance.checker.fuzz.config import anchor_record, engine_config, selected_operations, target_spec
from conformance.checker.fuzz.hook import ENGINE_NAME, ObservedTransport, route_through
from conformance.checker.fuzz.recorder import VerdictRecorder
from conformance.checker.run_state import RunState, Tally, engine_summary
from conformance.checker.side_by_side import quiet_random_state_notes, serialize_ast_parsing

TIME_SHARE = 0.4  # of the budget's time limit; the other engines need the rest


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
    anchor = None
    if made is not None:
        anchor, transport.anchor_create = made
        transport.created.add(anchor)
        transport.anchor = anchor
    if state.workers > 1:
        serialize_ast_parsing()  # Schemathesis's workers start Hypothesis tests side by side
        quiet_random_state_notes()
    schema = schemathesis.openapi.from_dict(target_spec(state), config=engine_config(state, anchor))
    if operations is not None:
        schema = schema.include(operation_id=operations)
    if read_only:  # and the transport refuses the other methods that checks and the coverage phase try
        schema = schema.include(method="GET")
    route_through(schema, transport)
    # Its start-up probes go out first, on sessions of Schemathesis's own: their turns are taken here, and
    # finished when its probing phase ends.
    probes = [state.client.transport.limiter.take() for _ in START_UP_PROBES]
    recorder = VerdictRecorder(state, transport)
    try:
        stop_reason = recorder.follow(schemathesis.engine.from_schema(schema).execute(), deadline, probes)
    finally:
        for turn in probes:
            turn.finish()
    say(engine_summary(ENGINE_NAME, state, before, recorder.in_words(state)))
    if stop_reason == StopReason.MAX_TIME or recorder.stopped_early:
        for requirement_id in COVERS:
            state.results.not_run(requirement_id, "schemathesis: its share of the budget's time ran out")
    if stop_reason == StopReason.SERVER_UNAVAILABLE or recorder.target_silent:
        raise RunAborted("the target stopped answering during the Schemathesis run")


ENGINE = WholeEngine(ENGINE_NAME, COVERS, run_schemathesis)
