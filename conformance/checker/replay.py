"""Does a finding of a report still show? (`conformance replay REPORT.json --finding ID`, in `faces.replay`)

A finding is replayed from a clean start by the check that found it: a targeted scenario runs again alone (it
creates the records it needs in the run's shops, sends its requests, judges the answers and deletes what it
created); a finding of the every-answer checks replays the check whose request got that answer; a finding of
the lifecycle state machine takes its example's steps again (`machine_steps`: the machine's rules and their
arguments, on a fresh machine with the model judging), after making again the records of other checks that its
answers showed; from a report without them, it reruns that engine with the report's seed.
A finding of a Schemathesis check replays its sequence (report.json's `sequence`: the case, the cases it derives
from, the anchor record's create where it names it), ids captured again from the answers; the failure shows
again when the failing request gets the status the run saw (and, for HTTP-05, the same `Allow`). Exit 1 when
the finding's requirement fails again, 0 when it passes (fixed), 3 when the replay cannot tell (the target is
unreachable, rejects the keys, or the check could not run), 2 for bad input.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.checker.client import Reply, TargetClient, TransportError, WriteRefused
from conformance.checker.engines import engines
from conformance.checker.evidence import Exchange, unpacked
from conformance.checker.observer import ResponseObserver, ResponseSpec
from conformance.checker.options import RUN_OPTIONS, TARGET_OPTIONS, carried_from_report, resolve_options
from conformance.checker.profile import Credentials, check_base_url, make_options, make_profile
from conformance.checker.reproduction import ANSWER_ID, base_of, captures, step_of
from conformance.checker.results import Results
from conformance.checker.runner import run
from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.checker.verdict import ExitCode
from conformance.contract.facts import CONTRACT, item_path
from conformance.contract.spec import SpecError, load_spec


class ReplayError(ValueError):
    """The report or the finding cannot be replayed as given (exit 2)."""


@dataclass(frozen=True)
class ReplayVerdict:
    """How the replay came out: the exit code and one line that says why."""

    exit_code: ExitCode
    message: str


def read_report(path: Path) -> dict[str, Any]:
    """The report model from report.json; ReplayError when it cannot be read."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReplayError(f"cannot read the report {path}: {error}") from error
    if not isinstance(report, dict) or not isinstance(report.get("requirements"), list):
        raise ReplayError(f"{path} is not a report.json of `conformance run`")
    return report


def finding_of(report: dict[str, Any], finding_id: str) -> dict[str, Any]:
    """The finding with this id; ReplayError naming the ids there are when it is not in the report."""
    findings = [finding for item in report["requirements"] for finding in item.get("findings", [])]
    for finding in findings:
        if finding.get("id") == finding_id:
            return finding
    known = ", ".join(str(finding.get("id")) for finding in findings[:10]) or "none"
    raise ReplayError(f"no finding {finding_id!r} in the report (its findings: {known})")


def target_of(report: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    """The target options for the replay: those given (`flags`, by option name, None for not given), else the
    report's (keys excepted: they come from the environment), then the environment and the config file."""
    run = report.get("run", {})
    given = {name: value for name, value in flags.items() if value is not None}
    if "base_url" not in given:
        if run.get("reference_server") or not run.get("target"):
            raise ReplayError("the report's run checked the bundled reference server, which is gone: give --base-url")
        given["base_url"] = run["target"]
    from_report = carried_from_report(run.get("options", {}), TARGET_OPTIONS)
    return resolve_options(from_report | given | {"base_url": check_base_url(given["base_url"])})


def replay(report: dict[str, Any], finding: dict[str, Any], target: dict[str, Any]) -> ReplayVerdict:
    """Replay `finding` against `target`; whether its requirement fails again."""
    read_only = bool(report.get("run", {}).get("options", {}).get("read_only"))
    if finding["check"].startswith("schemathesis") and finding.get("sequence"):
        return replay_sequence(finding, target, _same_answer, read_only)
    if _engine_check("lifecycle", finding["check"]) and finding.get("machine_steps"):
        return rerun_after_setup(report, finding, target, read_only)
    verdict = rerun(report, finding, target)
    if verdict.exit_code == ExitCode.NONCONFORMANT or finding["check"] != ResponseObserver.check:
        return verdict
    if not finding.get("sequence"):
        return verdict
    # The answer may have needed records that other checks created (they are in its sequence, not in a rerun of
    # the check that sent the request): where its own requests tell, they decide.
    try:
        spec_file = report.get("run", {}).get("options", {}).get("spec")
        spec = load_spec(Path(spec_file) if spec_file else None)
    except SpecError as error:
        return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: {error}")
    told = replay_sequence(finding, target, _judged_by_every_answer_checks(spec), read_only)
    return told if told.exit_code != ExitCode.INCOMPLETE else verdict


def rerun(report: dict[str, Any], finding: dict[str, Any], target: dict[str, Any]) -> ReplayVerdict:
    """Run the check that found `finding` again against `target`; whether its requirement fails again."""
    # late: the engines load Schemathesis and Hypothesis, which `conformance --help` need not wait for
    from conformance.checker.scenario import SCENARIOS

    requirement_id = finding["requirement"]
    origin = finding.get("origin") or finding["check"]
    engine = next((item for item in engines() if item.name == origin or _engine_check(item.name, origin)), None)
    scenario = next((item for item in SCENARIOS if item.name == origin), None)  # registered with the engines
    if scenario is not None:
        chosen, checks, covers = (SCENARIOS_ENGINE,), frozenset({origin}), scenario.covers
    elif engine is not None:
        chosen, checks, covers = (engine.name,), frozenset(), engine.covers
    else:  # the preflight's list call, which every run sends
        chosen, checks, covers = (SCENARIOS_ENGINE,), frozenset({"(none)"}), ()
    run_facts = report.get("run", {})
    carried = carried_from_report(run_facts.get("options", {}), RUN_OPTIONS)  # --read-only above all
    options = replace(
        make_options(carried),
        seed=finding.get("seed") if finding.get("seed") is not None else run_facts.get("seed"),
        budget=run_facts.get("budget") or "quick",
        only=frozenset({requirement_id, *covers}),
        quiet=True,
        engines=chosen,
        checks=checks,
        read_only=bool(run_facts.get("options", {}).get("read_only")),  # a read-only run's replay writes nothing
        machine_steps=tuple(finding.get("machine_steps") or ()) if engine is not None else (),
    )
    outcome = run(options, target)
    entry = outcome.results.by_id[requirement_id]
    if entry.status == "failed":
        again = next((item for item in entry.findings if item.check == finding["check"]), entry.findings[0])
        return ReplayVerdict(ExitCode.NONCONFORMANT, f"the failure shows again: {again.said}")
    if entry.status == "passed" and not outcome.error:
        return ReplayVerdict(ExitCode.CONFORMANT, f"fixed: {requirement_id} passed {entry.exercised} assertion(s)")
    why = outcome.error or entry.not_run_reason or "the check did not run"
    return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: {why}")


def _engine_check(engine_name: str, check: str) -> bool:
    """Whether `check` (a finding's check) belongs to the engine of that name."""
    from conformance.checker import lifecycle  # late: Hypothesis, as in `replay`

    return (engine_name == "schemathesis" and check.startswith("schemathesis")) or (
        engine_name.startswith("lifecycle") and check == lifecycle.CHECK
    )


Judge = Callable[[str, Exchange, str, Reply], ReplayVerdict]  # requirement, the run's step, path, the answer now


class SequenceSender:
    """Sends a finding's steps as a clean start needs them: keys from the environment, the records the steps
    create and the records their answers list named by the ids the answers give now (`captures`); deletes, at
    `close`, what it created (with the keys that created it)."""

    def __init__(self, finding: dict[str, Any], target: dict[str, Any], read_only: bool) -> None:
        profile = make_profile(target)
        self.keys = {"${" + variable + "}": value for value, variable in profile.secrets().items()}
        self.steps = [step_of(item) for item in finding.get("sequence") or ()]
        self.plan = captures(self.steps)
        self.ids: dict[str, str] = {}  # the run's record id -> the replay's
        self.made: list[tuple[str, dict[str, str]]] = []  # the replay's records and the key headers that made them
        self.client = TargetClient(profile, read_only=read_only)

    def send(self, index: int, shows: bool = False) -> tuple[str, Reply | None]:
        """Send step `index`: the path it went to now, and the answer (None where the run got none either and
        this step does not show the failure); TransportError, WriteRefused; KeysRejected."""
        step = self.steps[index]
        headers = {name: _replaced(value, self.keys) for name, value in step.request_headers.items()}
        path = _replaced(step.url[len(base_of(step.url)) :], self.ids) or ""
        body = unpacked(step.packed_body) if step.packed_body else _replaced(step.full_request_body, self.ids)
        operation = CONTRACT.operation_at(step.method, urlsplit(path).path)  # the path without its query
        try:
            reply = self.client.call(
                step.method, path, identity=KEYLESS, headers=headers, data=body, operation=operation, observed=False
            )
        except TransportError:
            if step.status is None and not shows:  # a create whose answer the run never got either
                return path, None
            raise
        if reply.status in (401, 403) and step.status not in (401, 403):
            raise KeysRejected(f"cannot tell: the target rejected the keys ({reply.status})")
        return path, reply

    def capture(self, index: int, reply: Reply) -> str | None:
        """Take the ids step `index`'s answer gives (`captures`); what is missing, in words (None: all there)."""
        for record_id, position in self.plan.get(index, []):
            now = _id_in(reply, position)
            if now is None:
                return f"{self.steps[index].method} answered {reply.status}, the run saw {self.steps[index].status}"
            self.ids[record_id] = now
            if position is None:
                headers = {
                    name: _replaced(value, self.keys) for name, value in self.steps[index].request_headers.items()
                }
                self.made.append((now, {name: value for name, value in headers.items() if value in self.keys.values()}))
        return None

    def close(self) -> None:
        for record_id, headers in reversed(self.made):
            with contextlib.suppress(TransportError):
                self.client.call("DELETE", item_path(record_id), identity=KEYLESS, headers=headers, observed=False)
        self.client.close()


class KeysRejected(Exception):
    """The target rejected keys that the run's step got past: the replay cannot tell."""


KEYLESS = Credentials(None, None)  # a step's own headers carry the keys it sent


def replay_sequence(
    finding: dict[str, Any], target: dict[str, Any], judge: Judge, read_only: bool = False
) -> ReplayVerdict:
    """Send the finding's sequence from a clean start (`SequenceSender`); judge the requests that showed the
    failure (the last one decides). A read-only run's finding sends no write (cannot tell)."""
    shown = [index for index, item in enumerate(finding["sequence"]) if item["shows"]]
    verdict = ReplayVerdict(ExitCode.INCOMPLETE, "cannot tell: the sequence shows no failing request")
    sender = SequenceSender(finding, target, read_only)
    try:
        for index, step in enumerate(sender.steps):
            path, reply = sender.send(index, shows=index in shown)
            if reply is None:
                continue
            if index in shown:
                verdict = judge(finding["requirement"], step, path, reply)
            missing = sender.capture(index, reply)
            if missing is not None:  # a request that showed the failure and now answers otherwise: fixed
                if index in shown and verdict.exit_code == ExitCode.CONFORMANT:
                    return verdict
                return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: no record to go on with ({missing})")
    except (KeysRejected, TransportError, WriteRefused) as error:
        return cannot_tell(error)
    finally:
        sender.close()
    return verdict


def rerun_after_setup(
    report: dict[str, Any], finding: dict[str, Any], target: dict[str, Any], read_only: bool
) -> ReplayVerdict:
    """A lifecycle finding: make again the records of other checks that its answers showed (its sequence's
    steps that did not show the failure: the machine's own example is its evidence, every request of it), take
    its example's steps again on a fresh machine (`machine_steps`), delete those records."""
    setup = [index for index, item in enumerate(finding.get("sequence") or ()) if not item["shows"]]
    sender = SequenceSender(finding, target, read_only)
    try:
        for index in setup:
            _path, reply = sender.send(index)
            missing = None if reply is None else sender.capture(index, reply)
            if missing is not None:
                return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: no record to go on with ({missing})")
        return rerun(report, finding, target)
    except (KeysRejected, TransportError, WriteRefused) as error:
        return cannot_tell(error)
    finally:
        sender.close()


def cannot_tell(error: KeysRejected | TransportError | WriteRefused) -> ReplayVerdict:
    """Why a replay that had to stop cannot tell (exit 3): keys rejected, no answer, a write refused."""
    if isinstance(error, TransportError):
        why = "target unreachable" if error.exchange.status is None else "no usable answer"
        return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: {why}: {error}")
    if isinstance(error, KeysRejected):
        return ReplayVerdict(ExitCode.INCOMPLETE, str(error))
    return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: {error}")


def _id_in(reply: Reply, position: int | None) -> str | None:
    """The record id an answer gives: a create's own (`position` None), else the position-th id it lists."""
    if position is None:
        answer = reply.json_or_none()
        made = answer.get("id") if isinstance(answer, dict) else None
        return made if isinstance(made, str) else None
    listed = ANSWER_ID.findall(reply.text)
    return listed[position] if position < len(listed) else None


def _replaced(text: str | None, values: dict[str, str]) -> str | None:
    """The text with each key of `values` replaced by its value (a key reference, a record id of the run)."""
    if text is None:
        return None
    for old, new in values.items():
        text = text.replace(old, new)
    return text


def _judged_by_every_answer_checks(spec: dict[str, Any]) -> Judge:
    """A judge of answers by the every-answer checks (HTTP-01 to HTTP-06), as the run judged them."""
    documented = ResponseSpec(spec)

    def judge(requirement_id: str, step: Exchange, path: str, reply: Reply) -> ReplayVerdict:
        results = Results()
        reply.api_call = reply.operation is not None  # else any 4xx with any body (CONTRACT.md after HTTP-06)
        ResponseObserver(documented, results)(reply)
        entry = results.by_id[requirement_id]
        if entry.status == "failed":
            return ReplayVerdict(ExitCode.NONCONFORMANT, f"the failure shows again: {entry.findings[0].said}")
        if entry.status == "passed":
            return ReplayVerdict(ExitCode.CONFORMANT, f"fixed: {step.method} {path} answered {reply.status}")
        return ReplayVerdict(ExitCode.INCOMPLETE, f"cannot tell: the answer does not speak to {requirement_id}")

    return judge


def _same_answer(requirement_id: str, step: Exchange, path: str, reply: Reply) -> ReplayVerdict:
    """Whether the answer to a request that showed the failure shows it again: the run's status (and for HTTP-05
    the run's `Allow`, the header that check judges)."""
    same = reply.status == step.status
    if same and requirement_id == "HTTP-05":
        allow = {name.lower(): value for name, value in step.response_headers.items()}.get("allow")
        same = reply.headers.get("Allow") == allow
    request = f"{step.method} {path} answered {reply.status}"
    if same:
        return ReplayVerdict(ExitCode.NONCONFORMANT, f"the failure shows again: {request}, as in the run")
    return ReplayVerdict(ExitCode.CONFORMANT, f"fixed: {request}, the run saw {step.status}")
