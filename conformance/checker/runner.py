"""One conformance run: start (or reach) the target, run every engine, clean up, decide, report.

The engines (`engines.engines()`: the targeted scenarios, the lifecycle state machine, Schemathesis) run in
turn over one shared `RunState`. Whatever happens (a failure, an unreachable target, Ctrl-C) the records the run created
are deleted and the report is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from conformance.checker import attribution
from conformance.checker.baseline import hold_against_baseline, read_baseline
from conformance.checker.budget import BUDGETS
from conformance.checker.client import (
    ClientStats,
    Reply,
    TargetClient,
    TransportError,
    page_values,
)
from conformance.checker.collector import loaded_set_aside
from conformance.checker.engine import READ_ONLY, Engine, RunAborted, Say, abort_if_silent, checker_error, not_run
from conformance.checker.engines import build_unicode_tables, engines
from conformance.checker.ledger import Cleanup, Found, Ledger, Write
from conformance.checker.marks import RunMark, new_run_id
from conformance.checker.observer import COVERS as EVERY_ANSWER_COVERS
from conformance.checker.observer import ResponseObserver, ResponseSpec
from conformance.checker.options import AUTO, auto_concurrency
from conformance.checker.outcome import RunOutcome
from conformance.checker.profile import (
    ConfigError,
    Credentials,
    RunOptions,
    TargetProfile,
    make_profile,
    target_words,
)
from conformance.checker.results import Results
from conformance.checker.run_state import RunState
from conformance.checker.scenario import Probe
from conformance.checker.scenarios import second_key_covers
from conformance.checker.side_by_side import SIGNAL_LATENCY, run_side_by_side
from conformance.checker.transport import cleanup_first, interrupted, raise_if_interrupted
from conformance.checker.verdict import ExitCode, verdict_of
from conformance.contract.catalogue import catalogue
from conformance.contract.facts import ContractFacts
from conformance.contract.request_rules import RequestRules, as_update
from conformance.contract.spec import SpecError, load_spec, spec_info
from conformance.reference.app import start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

Watch = Callable[[ClientStats, Results], None]


SWEEP_CHECK = "cleanup sweep"  # the check name of a finding about a record the cleanup's sweep found
CLEANUP_CHECK = "cleanup"  # the check its requests are counted under (the every-answer checks judge them too)
EVERY_ANSWER = "every-answer checks"  # the checks of every answer (`observer`): they finish only with the run


def run(
    options: RunOptions, target: dict[str, Any], say: Say = lambda line: None, watch: Watch | None = None
) -> RunOutcome:
    """Check a target against the contract; the caller writes the reports (`conformance.reports`).

    `say` gets a line as each phase starts; `watch`, when given, is called once with the run's live counters
    (the client's request statistics and the results) before the first request, for a progress display.

    `target` holds the target options (`base_url`, keys, ...). Without a `base_url` the bundled reference
    server is started on a free loopback port with its demo keys, checked, and stopped.
    """
    started = datetime.now(UTC)
    clock = time.monotonic()
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    results = Results(seed)
    outcome = RunOutcome("error", ExitCode.USAGE, results, options, None, None, started, 0.0)
    outcome.run_id = options.run_id or new_run_id()
    interrupted = False
    listed: frozenset[str] | None = None  # the baseline's known failures
    try:
        if options.baseline is not None:
            listed = read_baseline(options.baseline, missing_ok=options.update_baseline)
        outcome.spec = spec_info(options.spec)
        spec = load_spec(options.spec)
        ContractFacts.of(spec)  # a spec without a fact the engines read fails here, in one line, not mid-run
        with _target(target) as (profile, is_reference):
            outcome.profile, outcome.reference_server = profile, is_reference
            # In a context of its own: which check and engine are sending (`attribution`) starts at the preflight
            # for every run, and nothing of a run is left in the caller's thread.
            contextvars.Context().run(_check, profile, spec, options, seed, outcome, say, watch)
    except (ConfigError, SpecError) as error:
        outcome.error = str(error)
        _did_not_start(results, outcome.error)
        outcome.duration = time.monotonic() - clock
        return outcome
    except RunAborted as error:
        outcome.error = str(error)
    except KeyboardInterrupt:
        outcome.error = "interrupted"
        interrupted = True
    outcome.duration = time.monotonic() - clock
    results.settle()
    known: frozenset[str] = frozenset()
    if listed is not None:
        assert options.baseline is not None
        try:
            outcome.baseline, note = hold_against_baseline(
                options.baseline,
                listed,
                results,
                update=options.update_baseline,
                completed=outcome.error is None,
                spec=outcome.spec,
            )
        except OSError as problem:  # the verdict stays "error", the exit code 2: as for a report not written
            outcome.error = f"cannot write the baseline {options.baseline}: {problem}"
            return outcome
        known = outcome.baseline.accepted
        outcome.notes += [note] if note else []
    outcome.verdict, outcome.exit_code = verdict_of(
        results,
        strict=options.strict,
        error=outcome.error,
        interrupted=interrupted,
        known=known,
        require_complete=options.require_complete,
    )
    return outcome


@contextlib.contextmanager
def _target(target: dict[str, Any]) -> Iterator[tuple[TargetProfile, bool]]:
    if target.get("base_url") is not None:  # configured, even if empty: make_profile refuses an empty one
        yield make_profile(target), False
        return
    with start_server() as server:
        yield (
            make_profile(
                {
                    **target,
                    "base_url": server.base_url,
                    "partner_key": DEMO_PARTNER_KEY,
                    "developer_key": DEMO_DEVELOPER_KEY,
                    "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
                }
            ),
            True,
        )


def _check(
    profile: TargetProfile,
    spec: dict[str, Any],
    options: RunOptions,
    seed: int,
    outcome: RunOutcome,
    say: Say,
    watch: Watch | None = None,
) -> None:
    budget = BUDGETS[options.budget]
    deadline = time.monotonic() + budget.time_limit
    client = TargetClient(profile, deadline=deadline, read_only=options.read_only)
    if options.read_only:
        outcome.notes.append("read-only run: only safe methods were sent; the checks that write were left out")
    results = outcome.results
    mark = RunMark(outcome.run_id)
    ledger = Ledger(mark)
    state = RunState(profile, client, results, budget, seed, mark, spec, options.only, options.skip)
    state.checks = options.checks
    state.machine_steps = options.machine_steps
    state.writes = ledger.writes  # one journal of the run's writes: the ledger's
    client.observers += [state.record, ResponseObserver(ResponseSpec(spec), results, state), ledger.observe]
    client.intents.append(lambda *write: _sent_by(ledger.intend(*write), state))
    if watch is not None:
        watch(client.stats, results)
    target = target_words(profile.base_url, outcome.reference_server)
    say(f"run {state.run_tag}: checking {target} ...")  # the first line names the run and the target
    planned = [engine for engine in engines() if not options.engines or engine.name in options.engines]
    build_unicode_tables()
    # auto: chosen after the preflight, which sends its pairs of requests side by side until then
    state.concurrency = PREFLIGHT_PAIRS if options.concurrency == AUTO else options.concurrency
    client.transport.priorities = {engine.name: engine.priority for engine in planned}
    client.transport.limit_in_flight(state.concurrency)
    if options.read_only:
        for engine in (engine for engine in planned if engine.needs_writes):
            not_run(results, engine.covers, f"{engine.name}: {READ_ONLY}")
        planned = [engine for engine in planned if not engine.needs_writes]
    _plan(state, planned)
    stopped: str | None = None
    try:
        state.recording = True  # the preflight's requests are the sequence of a finding about their answers
        _preflight(state, say)
        state.recording = False
        if options.concurrency == AUTO:
            _choose_concurrency(state, outcome)
        engines_side_by_side = len(planned) if state.workers > 1 else 1
        left = EnginesLeft(engine.name for engine in planned)
        tasks = [functools.partial(_run_engine, state, engine, deadline, say, left) for engine in planned]
        if engines_side_by_side > 1 and not options.read_only:
            tasks.append(functools.partial(_clean_up_behind, state, ledger, left))
        with loaded_set_aside():
            run_side_by_side(tasks, len(tasks) if engines_side_by_side > 1 else 1, "engine")
        _check_preexisting_unchanged(state, outcome)
        raise_if_interrupted()  # an interrupt that Python swallowed (see `interrupt`) still ends the run as one
        if client.stats.transport_errors:
            outcome.error = (
                f"the target left {client.stats.transport_errors} request(s) without a usable answer: "
                "what they would have checked is not-run (the report's notes say which)"
            )
    except (RunAborted, KeyboardInterrupt) as error:
        # An interrupt says no more than that: Python may have dressed it in the words of the code it struck
        # ("encoding with 'idna' codec failed (KeyboardInterrupt: )", a KeyboardInterrupt raised inside a codec).
        why = "interrupted" if isinstance(error, KeyboardInterrupt) else str(error) or "interrupted"
        stopped = f"the run stopped early: {why}"
        raise
    finally:
        outcome.notes += [f"{source}: {note}" for source, notes in results.notes.items() for note in notes]
        outcome.notes += [f"target: {note}" for note in client.notes()]
        say("cleaning up ...")
        state.current_check = CLEANUP_CHECK  # what its deletes and lists get is judged too, and named after it
        client.resume_all()  # a delete may work where other requests did not; the ledger's tries are bounded too
        # Fresh places in flight: nothing else sends by now, and a Ctrl-C that struck a request between taking its
        # place and holding it (Python raises it at any point of the main thread) would keep that place for good.
        client.transport.limit_in_flight(state.concurrency)
        with cleanup_first():  # a signal at the end of the run waits for it
            outcome.cleanup = ledger.clean_up(
                client,
                profile.identities,
                user_shops=profile.shop_ids,
                keep=_preexisting_ids(state),
                workers=state.concurrency,  # deletes of records of their own: no check counts anything any more
            )
        outcome.notes += [f"cleanup: {note}" for note in outcome.cleanup.notes]
        _stored_unannounced(state, outcome.cleanup)
        if stopped is not None:  # after the cleanup, whose answers the every-answer checks judge too
            _leave_out_unfinished(state, None, stopped)
            not_run(results, [item.id for item in catalogue()], stopped)
        outcome.requests = client.stats.requests
        outcome.requests_by_check = dict(sorted(state.sent_by_check.items()))
        outcome.coverage = dict(client.stats.by_operation)
        client.close()
        _apply_selection(results, options)


class EnginesLeft:
    """The engines of a run still running: which have `finished` (by name; any other name, the preflight's ""
    and the cleanup's, is finished too), and a wait until only one is left (`down_to_one`)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._running = set(names)
        self._changed = threading.Condition()

    def done(self, name: str) -> None:
        with self._changed:
            self._running.discard(name)
            self._changed.notify_all()

    def finished(self, name: str) -> bool:
        with self._changed:
            return name not in self._running

    def down_to_one(self) -> bool:
        """Wait until one engine is left (True), or none is (False); False too once the run is interrupted."""
        with self._changed:
            while len(self._running) > 1 and not interrupted():
                self._changed.wait(SIGNAL_LATENCY)
            return len(self._running) == 1 and not interrupted()


def _clean_up_behind(state: RunState, ledger: Ledger, left: EnginesLeft) -> None:
    """Once only one engine is still running (a chain of requests one after another, the network idle beside
    it), delete what the finished engines left and sweep their shops (`Ledger.clean_up_behind`): the cleanup at
    the end then has only the last engine's to do. Its requests come last for a place in flight."""
    if not left.down_to_one():
        return
    attribution.ENGINE.set(CLEANUP_CHECK)
    state.current_check = CLEANUP_CHECK
    try:
        ledger.clean_up_behind(
            state.client,
            state.profile.identities,
            left.finished,
            user_shops=state.profile.shop_ids,
            keep=_preexisting_ids(state),
            workers=state.concurrency,
        )
    except Exception as error:  # what it did not finish, the cleanup at the end does
        state.results.notes["cleanup"].append(f"the cleanup behind the finished engines stopped: {error}")


def _preexisting_ids(state: RunState) -> frozenset[str]:
    """The ids of the records that were in the user's shops before the run: never deleted."""
    return frozenset(str(item.get("id")) for records in state.preexisting.values() for item in records)


def _sent_by(write: Write, state: RunState) -> Write:
    """A journaled write, marked with the check sending it (a finding of the sweep about it names that check)."""
    write.origin = state.current_check
    return write


def _plan(state: RunState, planned: list[Engine]) -> None:
    """The checks of this run, each unfinished until it has run (`RunState.unfinished`): every engine's, and
    the every-answer checks, which finish only with the run."""
    state.plan({EVERY_ANSWER: EVERY_ANSWER_COVERS})
    for engine in planned:
        state.plan(engine.checks())
    # The order the findings are shown in: the order the checks would run in one after another.
    state.results.run_order = ["preflight", *(check for engine in planned for check in engine.checks())]


def _leave_out_unfinished(state: RunState, engine: Engine | None, reason: str) -> None:
    """The run ends before `engine` (None: before anything still unfinished): every requirement whose checks
    had not all run is not-run for `reason`, whatever was seen of it so far, except a failure, which stands."""
    pending = engine.covers if engine is not None else state.unfinished_requirements()
    for requirement_id in pending:
        if state.results.status(requirement_id) != "failed":
            state.results.leave_out(requirement_id, reason)


def read_only_requirements() -> frozenset[str]:
    """The requirements a read-only run checks: those of the every-answer checks and what each engine verifies
    without writing. Every other requirement needs writes: the pytest suite marks it `destructive`."""
    return frozenset(EVERY_ANSWER_COVERS).union(*(engine.read_only_covers() for engine in engines()))


def _preflight(state: RunState, say: Say) -> None:
    """Before any judgement, establish that the target is the API and that each key works, and stop the run
    (RunAborted: exit 3, one line saying what to fix) when not: a wrong option must never produce findings.
    Then snapshot the user's shops."""
    profile = state.profile
    reply = _first_list(state, profile.primary)
    if reply.status in KEYS_REJECTED:
        raise RunAborted(
            f"the target rejected the partner or developer key ({reply.status} on a list call): check "
            "CONFORMANCE_PARTNER_KEY, CONFORMANCE_DEVELOPER_KEY and --partner-key-header"
        )
    wrong = _not_the_api(reply, profile.base_url)
    if wrong is not None:
        raise RunAborted(wrong)
    state.client.observe(reply)
    if profile.second is not None:
        reply = _first_list(state, profile.second)
        if reply.status in KEYS_REJECTED:
            raise RunAborted(
                f"the target rejected the second developer key ({reply.status} on a list call): check "
                "CONFORMANCE_SECOND_DEVELOPER_KEY (a developer key of another company)"
            )
        state.client.observe(reply)
    for shop_id in profile.shop_ids:
        state.preexisting[shop_id] = _records_in_shop(state, shop_id)
    if profile.second is not None and not state.client.read_only and state.selected(second_key_covers()):
        _refuse_a_second_key_of_the_same_company(state)


def _choose_concurrency(state: RunState, outcome: RunOutcome) -> None:
    """`--concurrency auto`: the level the preflight's answer times call for (`auto_concurrency`), noted. The
    bundled reference server runs in this process: there is no network to wait on, and its answers, which share
    this interpreter with the run, took 1.5 to 2.5 ms on a slower host, where a run at 8 took twice as long."""
    if outcome.reference_server:
        state.concurrency, why = 1, "the bundled reference server runs in this process: one request at a time"
    else:
        steps = state.traffic["preflight"]
        answered = [step.elapsed_ms for step in steps if step.status is not None and step.elapsed_ms is not None]
        state.concurrency, why = auto_concurrency(answered)
    state.client.transport.limit_in_flight(state.concurrency)
    outcome.notes.append(f"--concurrency {AUTO}: {state.concurrency} ({why})")


PREFLIGHT_PAIRS = 2  # requests in flight in the preflight of `--concurrency auto`: one for each key
KEYS_REJECTED = frozenset({401, 403})  # a list call with the configured keys: they do not work here
NOT_THE_API = frozenset({404, 405})  # the collection answers every key holder's list: this is not it


def _first_list(state: RunState, identity: Credentials) -> Reply:
    try:
        return state.client.list({"limit": 1}, identity=identity, observed=False)
    except TransportError as error:
        why = "target unreachable" if error.exchange.status is None else "no usable answer from the target"
        hint = ""
        if urlsplit(state.profile.base_url).scheme == "http" and re.search(r"reset|without an answer", str(error)):
            hint = " (if that port serves TLS, use https:// in --base-url)"  # a TLS server resets a plain request
        raise RunAborted(f"{why}: {error}{hint}") from error


def _not_the_api(reply: Reply, base_url: str) -> str | None:
    """Why the first answer shows that --base-url does not lead to the API (None when it may): a 404 or 405
    for the collection, a redirect (the checker follows none), or a body that is not JSON (an HTML page, a
    proxy's error, nothing)."""
    if reply.status in NOT_THE_API:
        seen = f"a list call answered {reply.status}"
    elif 300 <= reply.status < 400:
        where = reply.headers.get("Location", "nowhere")
        seen = f"a list call is redirected ({reply.status} to {where}; the checker follows none)"
    elif reply.json_or_none() is None:
        shown = reply.text.strip().replace("\n", " ")[:60]
        seen = f"a list call answered {reply.status}, {reply.content_type or 'no Content-Type'}, not JSON ({shown!r})"
    else:
        return None
    hint = "it should end before /api/v1/..."
    path = urlsplit(base_url).path
    if "/api/v1" in path:
        hint += f" (drop {path[path.index('/api/v1') :]!r} from it)"
    return f"not the API at {base_url}: {seen}; check --base-url: {hint}"


def _refuse_a_second_key_of_the_same_company(state: RunState) -> None:
    """RunAborted when the second developer key belongs to the first key's company: tenancy cannot be judged
    then, and every tenancy check would cry wolf. Each key creates a record in a run-marked shop; the keys
    are of one company when the second key reads the first key's record and both records name one company.
    (A target that lets another company read a record, TENANT-01, still shows two companies.) Both records
    are deleted at once; the ledger deletes them at the end if that fails."""
    probe = Probe(state, "preflight")
    first, second = state.profile.primary, state.profile.second
    assert second is not None
    created: list[tuple[str, Credentials]] = []
    try:
        # Each key's request beside the other's (`PREFLIGHT_PAIRS`): neither needs the other's answer.
        keys = (first, second)
        creates = [functools.partial(state.client.create, probe.body(), identity=who) for who in keys]
        replies = list(probe.side_by_side(creates))
        for reply, identity in zip(replies, keys, strict=True):
            record = reply.json_or_none() if isinstance(reply, Reply) else None
            if isinstance(record, dict) and isinstance(record.get("id"), str) and reply.status in (200, 201):
                created.append((record["id"], identity))
        _raise_the_first_error(replies)
        if len(created) < 2:
            return  # the scenarios judge the create; the tenancy checks will show what they can
        reads = [functools.partial(probe.read, webhook_id, identity=second) for webhook_id, _ in created]
        theirs, own = _raise_the_first_error(list(probe.side_by_side(reads)))
        company = theirs.get("companyId") if theirs else None
        if company is not None and own is not None and own.get("companyId") == company:
            raise RunAborted(
                "the second developer key belongs to the same company as the first (it reads the first key's "
                "records): tenancy cannot be judged; set CONFORMANCE_SECOND_DEVELOPER_KEY to a key of another company"
            )
    finally:
        deletes = [functools.partial(state.client.delete, webhook_id, identity=who) for webhook_id, who in created]
        # A delete that got no answer leaves its record to the ledger, which deletes it at the end.
        results = probe.side_by_side(deletes)
        _raise_the_first_error([result for result in results if not isinstance(result, TransportError)])


def _raise_the_first_error(results: list[Any]) -> list[Any]:
    """`Probe.side_by_side`'s results, unless one is an exception: then the first of them is raised."""
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def _records_in_shop(state: RunState, shop_id: str) -> list[dict[str, Any]]:
    pages = (page_values(reply) for reply in Probe(state, "preflight").list_all({"shopId": shop_id}))
    return [record for page in pages if page for record in page]


def _run_engine(state: RunState, engine: Engine, deadline: float, say: Say, left: EnginesLeft) -> None:
    """Run one engine, with what it sends and finds counted as its own (`attribution`); a failure of the engine
    leaves its requirements not-run with the reason, and a target that stopped answering ends the run. `left`
    hears when it has ended, however it ended."""
    try:
        _run_one_engine(state, engine, deadline, say)
    finally:
        left.done(engine.name)


def _run_one_engine(state: RunState, engine: Engine, deadline: float, say: Say) -> None:
    attribution.ENGINE.set(engine.name)
    state.current_check = engine.name
    budget = state.budget
    if time.monotonic() > deadline:
        _leave_out_unfinished(state, engine, f"the {budget.name} budget's time ran out before {engine.name}")
        return
    say(f"{engine.name} ...")
    try:
        engine.run(state, say)
    except TransportError as error:
        not_run(state.results, engine.covers, f"{engine.name}: {error}")
        abort_if_silent(state, error)
    except RunAborted:
        raise
    except Exception as error:  # a bug of ours must not cost the user the rest of the run
        checker_error(state, engine.covers, engine.name, error)
    if time.monotonic() > deadline:  # the engine was cut short at the run's deadline
        _leave_out_unfinished(state, engine, f"the {budget.name} budget's time ran out during {engine.name}")
    for check in engine.checks():  # those that have not counted themselves done
        state.finish(check)


def _check_preexisting_unchanged(state: RunState, outcome: RunOutcome) -> None:
    for shop_id, before in state.preexisting.items():
        after = {item.get("id"): item for item in _records_in_shop(state, shop_id)}
        changed = [item.get("id") for item in before if after.get(item.get("id")) != item]
        if changed:
            outcome.notes.append(f"records that were in shop {shop_id} before the run changed meanwhile: {changed}")


def _stored_unannounced(state: RunState, cleanup: Cleanup) -> None:
    """A record the sweep found that no answer named is a finding where the contract says the write that
    stored it must not have: a 401 (AUTH-03), a PUT of an unknown id answered 404 (UPDATE-05), another 4xx
    (VALID-06), or no answer to a body the contract rejects (the rule it breaks: it was stored, not refused).
    A 5xx is HTTP-01's already; a 2xx or a 429, or no answer to a valid body, backs nothing."""
    for found in cleanup.found:
        blamed = _blame(state, found)
        if blamed is None:
            continue
        requirement_id, what = blamed
        assert found.write is not None
        state.results.check(
            requirement_id,
            SWEEP_CHECK,
            False,
            what,
            f"the sweep found record {found.marked.id} in a list afterwards: {found.how}",
            [found.write.exchange, found.marked.listing],
            operation=found.write.operation,
            origin=found.write.origin,
        )


def _blame(state: RunState, found: Found) -> tuple[str, str] | None:
    write = found.write
    if write is None:
        return None
    status = write.exchange.status
    if status == 401:
        return "AUTH-03", "a request answered 401 stores nothing"
    if write.operation == "updateWebHook" and status == 404:
        return "UPDATE-05", "a PUT of an id that does not exist stores nothing"
    if status is not None and 400 <= status < 500 and status != 429:
        return "VALID-06", f"a request answered {status} stores nothing"
    if status is None and write.operation in ("createWebHook", "updateWebHook"):
        breaks = RequestRules.of(state.profile, state.spec).body_breaks(json.dumps(write.body).encode())
        if write.operation == "updateWebHook":
            breaks = [as_update(item) for item in breaks]
        musts = [item for item in breaks if item.is_must]
        if musts:
            return musts[0].requirement_id, f"a body the contract rejects is not stored ({musts[0].reason})"
    return None


def _did_not_start(results: Results, message: str) -> None:
    not_run(results, [item.id for item in catalogue()], f"the run did not start: {message}")


def _apply_selection(results: Results, options: RunOptions) -> None:
    """--only / --skip: requirements left out of the selection are not-run, whatever touched them."""
    for item in catalogue():
        chosen = (not options.only or item.id in options.only) and item.id not in options.skip
        if not chosen:
            results.deselect(item.id, "left out by --only/--skip")
        elif results.status(item.id) == "not-run" and results.by_id[item.id].not_run_reason is None:
            results.not_run(item.id, "no check exercised it in this run")


def error_outcome(
    message: str, options: RunOptions | None = None, exit_code: ExitCode = ExitCode.USAGE
) -> RunOutcome:
    """The outcome of a run that could not start (a usage error, or an interrupt before it began): every
    requirement not-run."""
    results = Results()
    _did_not_start(results, message)
    return RunOutcome(
        "error", exit_code, results, options or RunOptions(), None, None, datetime.now(UTC), 0.0, error=message
    )
