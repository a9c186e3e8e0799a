"""One conformance run: start (or reach) the target, run every engine, clean up, decide, report.

The engines run in turn over one shared `RunState`: the targeted scenarios, the lifecycle state machine,
and Schemathesis. Whatever happens (a failure, an unreachable target, Ctrl-C) the records the run created
are deleted and the report is written.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.catalogue import catalogue
from conformance.checker.baseline import BaselineComparison, read_baseline
from conformance.checker.baseline import settle as settle_baseline
from conformance.checker.budget import BUDGETS
from conformance.checker.client import ClientStats, Reply, TargetClient, TransportError, raise_if_interrupted
from conformance.checker.context import (
    SCENARIOS,
    SECOND_KEY,
    Probe,
    RunState,
    Scenario,
    ScenarioAborted,
    page_values,
)
from conformance.checker.ledger import Cleanup, Ledger
from conformance.checker.observer import COVERS as EVERY_ANSWER_COVERS
from conformance.checker.observer import ResponseObserver, ResponseSpec
from conformance.checker.profile import ConfigError, RunOptions, TargetProfile, make_profile
from conformance.checker.results import Results
from conformance.checker.verdict import ExitCode, verdict_of
from conformance.spec import SpecError, SpecInfo, load_spec, spec_info

Say = Callable[[str], None]
Watch = Callable[[ClientStats, Results], None]


SCENARIOS_ENGINE = "targeted scenarios"
READ_ONLY = "it writes to the target, and this run is read-only"  # why a read-only run leaves a check out


class RunAborted(Exception):
    """The run cannot go on (the target is unreachable or rejects the keys); the message says why."""


@dataclass
class Engine:
    """A way of checking: a name, the requirements it can verify, and the function that runs it."""

    name: str
    run: Callable[[RunState, Say], None]
    covers: tuple[str, ...] = ()
    needs_writes: bool = False  # it cannot check anything without writing: a read-only run leaves it out


@dataclass
class RunOutcome:
    """Everything a report needs about one finished run."""

    verdict: str
    exit_code: ExitCode
    results: Results
    options: RunOptions
    profile: TargetProfile | None
    spec: SpecInfo | None
    started: datetime
    duration: float
    requests: int = 0
    cleanup: Cleanup = field(default_factory=Cleanup)
    error: str | None = None
    reference_server: bool = False
    notes: list[str] = field(default_factory=list)
    coverage: dict[tuple[str, int | None], int] = field(default_factory=dict)
    baseline: BaselineComparison | None = None


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
    interrupted = False
    listed: frozenset[str] | None = None  # the baseline's known failures
    try:
        if options.baseline is not None:
            listed = read_baseline(options.baseline, missing_ok=options.update_baseline)
        outcome.spec = spec_info(options.spec)
        spec = load_spec(options.spec)
        with _target(target) as (profile, is_reference):
            outcome.profile, outcome.reference_server = profile, is_reference
            _check(profile, spec, options, seed, outcome, say, watch)
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
    try:
        known = settle_baseline(outcome, listed) if listed is not None else frozenset()
    except OSError as problem:  # the verdict stays "error", the exit code 2: as for a report that cannot be written
        outcome.error = f"cannot write the baseline {options.baseline}: {problem}"
        return outcome
    outcome.verdict, outcome.exit_code = verdict_of(
        results, strict=options.strict, error=outcome.error, interrupted=interrupted, known=known
    )
    return outcome


@contextlib.contextmanager
def _target(target: dict[str, Any]) -> Iterator[tuple[TargetProfile, bool]]:
    if target.get("base_url"):
        yield make_profile(target), False
        return
    from conformance.reference.app import start_server
    from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

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
    ledger = Ledger()
    state = RunState(profile, client, results, budget, seed, secrets.token_hex(4), spec, options.only, options.skip)
    state.checks = options.checks
    client.observers += [state.record, ResponseObserver(ResponseSpec(spec), results, state), ledger.observe]
    if watch is not None:
        watch(client.stats, results)
    try:
        _preflight(state, say)
        for engine in engines():
            if options.engines and engine.name not in options.engines:
                continue
            if options.read_only and engine.needs_writes:
                _not_run(results, engine.covers, f"{engine.name}: {READ_ONLY}")
                continue
            if time.monotonic() > deadline:
                _not_run(results, engine.covers, f"the {budget.name} budget's time ran out before {engine.name}")
                continue
            say(f"{engine.name} ...")
            state.current_check = engine.name
            try:
                engine.run(state, say)
            except TransportError as error:
                _not_run(results, engine.covers, f"{engine.name}: {error}")
                _abort_if_silent(client, error)
            except (RunAborted, KeyboardInterrupt):
                raise
            except Exception as error:  # a bug of ours must not cost the user the rest of the run
                _checker_error(state, engine.covers, engine.name, error)
        _check_preexisting_unchanged(state, outcome)
        raise_if_interrupted()  # an interrupt that Python swallowed (see `interrupt`) still ends the run as one
        if client.stats.transport_errors:
            outcome.error = (
                f"the target left {client.stats.transport_errors} request(s) without a usable answer: "
                "what they would have checked is not-run (the report's notes say which)"
            )
    except (RunAborted, KeyboardInterrupt) as error:
        _not_run(results, [item.id for item in catalogue()], f"the run stopped early: {str(error) or 'interrupted'}")
        raise
    finally:
        outcome.notes += [f"{source}: {note}" for source, notes in results.notes.items() for note in notes]
        outcome.notes += [f"target: {note}" for note in client.notes()]
        say("cleaning up ...")
        client.resume_all()  # a delete may work where other requests did not; the ledger's tries are bounded too
        outcome.cleanup = ledger.clean_up(client, [who for who in (profile.primary, profile.second) if who])
        outcome.requests = client.stats.requests
        outcome.coverage = dict(client.stats.by_operation)
        client.close()
        _apply_selection(results, options)


def engines() -> list[Engine]:
    """The engines of a run, in order: targeted scenarios, the lifecycle state machine, Schemathesis."""
    from conformance.checker import lifecycle, scenarios, schema_fuzz  # scenarios register on import

    return [
        Engine(SCENARIOS_ENGINE, scenarios.run_scenarios, tuple({i for s in SCENARIOS for i in s.covers})),
        Engine("lifecycle state machine", lifecycle.run_lifecycle, lifecycle.COVERS, needs_writes=True),
        Engine("schemathesis", schema_fuzz.run_schemathesis, schema_fuzz.COVERS),
    ]


def read_only_requirements() -> frozenset[str]:
    """The requirements a read-only run checks: those of the every-answer checks and of the scenarios that
    write nothing (Schemathesis, limited to GET in such a run, only adds evidence). Every other requirement
    needs writes: the pytest suite marks it `destructive`."""
    from conformance.checker import scenarios  # noqa: F401  (the scenarios register on import)

    return frozenset(EVERY_ANSWER_COVERS).union(*(item.covers for item in SCENARIOS if not item.writes))


def run_scenario(state: RunState, item: Scenario) -> None:
    """Run one scenario; what it could not exercise is not-run with the reason."""
    if not state.chosen(item.name, item.covers):
        return
    if item.writes and state.client.read_only:
        _not_run(state.results, item.covers, f"{item.name}: {READ_ONLY}")
        return
    if item.needs == SECOND_KEY and state.profile.second is None:
        _not_run(state.results, item.covers, "needs --second-developer-key (a developer key of another company)")
        return
    state.current_check, state.recording = item.name, True
    state.traffic[item.name] = []
    try:
        item.run(Probe(state, item.name))
    except ScenarioAborted as error:
        _not_run(state.results, item.covers, f"{item.name}: {error}")
    except TransportError as error:
        _not_run(state.results, item.covers, f"{item.name}: {error}")
        _abort_if_silent(state.client, error)
    except Exception as error:  # a bug of ours must not cost the user the rest of the run
        _checker_error(state, item.covers, item.name, error)
    finally:
        state.recording = False


def _checker_error(state: RunState, covers: tuple[str, ...], name: str, error: Exception) -> None:
    """An unexpected error inside the checker: its requirements are not-run, and the report says why."""
    where = traceback.extract_tb(error.__traceback__)[-1]
    message = f"internal error in {name}: {type(error).__name__}: {error} ({Path(where.filename).name}:{where.lineno})"
    _not_run(state.results, covers, message)
    state.results.notes["checker"].append(message)


def _abort_if_silent(client: TargetClient, error: TransportError) -> None:
    """RunAborted when the target has stopped answering altogether (not just one operation)."""
    if client.stopped_answering:
        raise RunAborted(f"the target stopped answering: {error}") from error


def _preflight(state: RunState, say: Say) -> None:
    """One list call to see that the target is there, speaks the API and takes the keys; snapshot the user's
    shops. Its answer is judged only once it shows the API: a wrong --base-url is not a nonconformant target."""
    say(f"checking {state.profile.base_url} ...")
    try:
        reply = state.client.list({"limit": 1}, observed=False)
    except TransportError as error:
        why = "target unreachable" if error.exchange.status is None else "no usable answer from the target"
        raise RunAborted(f"{why}: {error}") from error
    if reply.status == 401:
        raise RunAborted("the target rejected the keys (401 on a list call): check the partner and developer keys")
    wrong = _not_the_api(reply)
    if wrong is not None:
        raise RunAborted(wrong)
    state.client.observe(reply)
    for shop_id in state.profile.shop_ids:
        state.preexisting[shop_id] = _records_in_shop(state, shop_id)


def _not_the_api(reply: Reply) -> str | None:
    """Why the first answer shows that --base-url does not lead to the API (None when it may): a redirect,
    which the checker never follows, or a body that is not JSON (an HTML page, a proxy's error, nothing)."""
    where = "is --base-url the API's own address?"
    if 300 <= reply.status < 400:
        location = reply.headers.get("Location", "nowhere")
        return f"the target redirects a list call ({reply.status} to {location}); the checker follows none: {where}"
    if reply.json_or_none() is None:
        shown = reply.text.strip().replace("\n", " ")[:80]
        kind = reply.content_type or "no Content-Type"
        return f"the target answers a list call with {reply.status}, {kind}, not JSON ({shown!r}): {where}"
    return None


def _records_in_shop(state: RunState, shop_id: str) -> list[dict[str, Any]]:
    pages = (page_values(reply) for reply in Probe(state, "preflight").list_all({"shopId": shop_id}))
    return [record for page in pages if page for record in page]


def _check_preexisting_unchanged(state: RunState, outcome: RunOutcome) -> None:
    for shop_id, before in state.preexisting.items():
        after = {item.get("id"): item for item in _records_in_shop(state, shop_id)}
        changed = [item.get("id") for item in before if after.get(item.get("id")) != item]
        if changed:
            outcome.notes.append(f"records that were in shop {shop_id} before the run changed meanwhile: {changed}")


def _did_not_start(results: Results, message: str) -> None:
    _not_run(results, [item.id for item in catalogue()], f"the run did not start: {message}")


def _not_run(results: Results, covers: tuple[str, ...] | list[str], reason: str) -> None:
    for requirement_id in covers:
        results.not_run(requirement_id, reason)


def _apply_selection(results: Results, options: RunOptions) -> None:
    """--only / --skip: requirements left out of the selection are not-run, whatever touched them."""
    for item in catalogue():
        chosen = (not options.only or item.id in options.only) and item.id not in options.skip
        if not chosen:
            results.leave_out(item.id, "left out by --only/--skip")
        elif results.status(item.id) == "not-run" and results.by_id[item.id].not_run_reason is None:
            results.not_run(item.id, "no check exercised it in this run")


def error_outcome(message: str, options: RunOptions | None = None) -> RunOutcome:
    """The outcome of a run that could not start (a usage error): every requirement not-run."""
    results = Results()
    _did_not_start(results, message)
    return RunOutcome(
        "error", ExitCode.USAGE, results, options or RunOptions(), None, None, datetime.now(UTC), 0.0, error=message
    )
