"""The pytest face of the checker: `pytest --pyargs conformance.suite --conformance-url URL`.

Registered through the `pytest11` entry point, so it loads into every pytest session. Until the suite
(`conformance.suite`) is collected it only adds its options, each mirroring a flag of `conformance run`
(`--base-url` as `--conformance-url`, `--budget` as `--conformance-budget`, ...: generated from the option
table the CLI uses too, `conformance.checker.options`, so the two cannot drift), and imports nothing else of
the checker. When the suite is collected:

- every requirement of the catalogue is one item, named by its ID and text and marked `must` or `should`,
  with its group (`auth`, `list`, ...), and `destructive` when only checks that write can verify it;
- the first item to run starts the session's one run (`conformance.checker.runner.run`), over the
  requirements whose items are still selected after `-k`, `-m` and `--lf`. A session that selected no
  destructive item runs read-only: it sends nothing that could write, and checks each selected
  requirement with the checks that only read;
- each item reports its requirement: passed; failed with the finding; skipped with the reason it was not
  run; xfail for a failure the baseline knows. A failed SHOULD passes with a ConformanceWarning unless
  `--conformance-strict` (as `conformance run` exits 0 for it unless `--strict`);
- the conformance reports are written into `--conformance-report-dir` (default `reports/`);
- a run that cannot complete (unreachable, not the API, keys rejected) ends the session with one line and
  exit code 3; so does a run that checked nothing, or an incomplete one under --conformance-require-complete.
  A session that selected a subset is `incomplete`, never `conformant` for the whole contract.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from conformance.checker.options import OPTIONS, Option  # light: argparse, the budgets, the run id's syntax

if TYPE_CHECKING:
    from conformance.checker.profile import RunOptions
    from conformance.checker.results import RequirementResult
    from conformance.checker.runner import RunOutcome
    from conformance.contract.catalogue import Requirement

SUITE_MODULE = Path(__file__).resolve().parent.parent / "suite" / "test_requirements.py"
OUTCOME_FIXTURE = "conformance_outcome"
SHORT_TEXT = 60  # characters of a requirement's text in its item's name

_PREPARED = pytest.StashKey[tuple[dict[str, Any], "RunOptions"]]()
_RAN = pytest.StashKey[tuple["RunOutcome", Path]]()


class ConformanceWarning(UserWarning):
    """A SHOULD requirement failed (without --conformance-strict), or a known failure passes now."""


# -- options --------------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--conformance-*`: the options of `conformance run`, but those that select (pytest's -k and -m do)."""
    group = parser.getgroup("conformance", "conformance checking (pytest --pyargs conformance.suite)")
    for option in plugin_options():
        group.addoption(option.plugin_flag, dest=_dest(option), **option.argparse_settings())


def plugin_options() -> list[Option]:
    """The options of `conformance run` that the plugin has, as the option table declares them."""
    return [option for option in OPTIONS.values() if option.plugin_flag]


def _dest(option: Option) -> str:
    return f"conformance_{option.name}"


def _plugin_words(message: str) -> str:
    """A checker message in the plugin's words: `--base-url` becomes `--conformance-url`, and so on."""
    flags = {option.flag: option.plugin_flag for option in plugin_options()}
    return re.sub(r"--[a-z][a-z-]*", lambda match: flags.get(match.group(), match.group()), message)


# -- the suite ------------------------------------------------------------------------------------------------


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> None:
    """Just before the suite module is imported, register its markers (so `--strict-markers` accepts them)."""
    if module_path.name == SUITE_MODULE.name and module_path.resolve() == SUITE_MODULE:
        for line in _marker_lines():
            parent.config.addinivalue_line("markers", line)


def _marker_lines() -> list[str]:
    from conformance.contract.catalogue import catalogue

    groups = dict.fromkeys(item.group for item in catalogue())
    return [
        "must: a MUST requirement of the Partner WebHooks contract",
        "should: a SHOULD requirement (it fails only with --conformance-strict)",
        "destructive: only checks that write to the target (create, update, delete records) can verify it",
        *(f"{group.lower()}: the {group} requirements of the contract" for group in groups),
    ]


def requirement_params() -> list[Any]:
    """One parameter per catalogue requirement: named `ID text`, marked with its level, group and
    `destructive` when no read-only check verifies it (derived from what the checks do)."""
    from conformance.checker.runner import read_only_requirements
    from conformance.contract.catalogue import catalogue

    read_only = read_only_requirements()
    return [
        pytest.param(
            item.id,
            id=f"{item.id} {_short(item.text)}",
            marks=[getattr(pytest.mark, name) for name in marker_names(item, read_only)],
        )
        for item in catalogue()
    ]


def marker_names(item: Requirement, read_only: frozenset[str]) -> list[str]:
    """The markers of a requirement's item: its level, its group, and `destructive` unless read-only checkable."""
    names = [item.level.lower(), item.group.lower()]
    if item.id not in read_only:
        names.append("destructive")
    return names


def _short(text: str) -> str:
    plain = " ".join(text.replace("`", "").split())
    if len(plain) <= SHORT_TEXT:
        return plain.rstrip(".")
    return plain[:SHORT_TEXT].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def _requirement_id(item: pytest.Item) -> str | None:
    """The requirement an item of the suite reports; None for any other item."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or OUTCOME_FIXTURE not in getattr(item, "fixturenames", ()):
        return None
    return callspec.params.get("requirement_id")


# -- the run --------------------------------------------------------------------------------------------------


def pytest_collection_finish(session: pytest.Session) -> None:
    """With suite items selected, make the run's options now: a bad option is a usage error before any item."""
    chosen = [item for item in session.items if _requirement_id(item)]
    if not chosen or session.config.option.collectonly:
        return
    from conformance.checker.options import ConfigError

    try:
        session.config.stash[_PREPARED] = _prepare(session.config, chosen)
    except ConfigError as error:
        _write_error_report(session.config, str(error))
        raise pytest.UsageError(f"conformance: {_plugin_words(str(error))}") from None


def _prepare(config: pytest.Config, chosen: list[pytest.Item]) -> tuple[dict[str, Any], RunOptions]:
    """The target options and run options, as `conformance run` makes them (flags, then CONFORMANCE_*, then
    config files), restricted to the chosen requirements, and read-only when none of them is destructive."""
    from conformance.checker.options import resolve_options
    from conformance.checker.profile import make_options

    flags = {option.name: config.getoption(_dest(option)) for option in plugin_options()}
    merged = resolve_options(flags)
    options = make_options(merged)
    ids = frozenset(filter(None, map(_requirement_id, chosen)))
    skip = options.skip | (ids - options.only if options.only else frozenset())  # CONFORMANCE_ONLY still holds
    destructive = any(item.get_closest_marker("destructive") for item in chosen)
    return merged, replace(options, only=ids, skip=skip, read_only=options.read_only or not destructive)


def _write_error_report(config: pytest.Config, message: str) -> None:
    """As `conformance run` does for a usage error: a report that says what happened (best effort)."""
    from conformance.checker.runner import error_outcome
    from conformance.reports import write_reports

    directory = config.getoption("conformance_report_dir") or "reports"
    with contextlib.suppress(OSError):  # the usage error is what the user needs to see
        write_reports(error_outcome(message), Path(directory))


@pytest.fixture(scope="session")
def conformance_outcome(request: pytest.FixtureRequest) -> RunOutcome:
    """The session's one conformance run, over the requirements whose items are selected; reports written."""
    from conformance.checker.runner import run
    from conformance.checker.verdict import ExitCode
    from conformance.reports import write_reports

    config = request.config
    merged, options = config.stash[_PREPARED]
    outcome = run(options, merged, _say(config))
    try:
        path = write_reports(outcome, options.report_dir)
    except OSError as problem:
        _usage_error(f"cannot write the reports into {options.report_dir}: {problem}")
    if outcome.exit_code == ExitCode.USAGE:  # nothing was checked: keys missing, a spec or baseline unreadable
        _usage_error(str(outcome.error))
    config.stash[_RAN] = (outcome, path)
    if outcome.verdict == "error":  # unreachable, not the API, keys rejected: one session error, not 51 failures
        pytest.exit(f"conformance: the run could not complete: {_plugin_words(str(outcome.error))}", returncode=3)
    return outcome


def _usage_error(message: str) -> NoReturn:
    """End the session as pytest ends it for a bad option: one line, exit code 4."""
    pytest.exit(f"conformance: {_plugin_words(message)}", returncode=pytest.ExitCode.USAGE_ERROR)


def _say(config: pytest.Config):
    """The run's progress lines, on the terminal (not into the first item's captured output)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        if reporter is None or config.get_verbosity() < 0:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"conformance: {line}")

    return say


# -- each item's outcome --------------------------------------------------------------------------------------


def report_requirement(outcome: RunOutcome, requirement_id: str) -> None:
    """End the calling item as the run found its requirement: return (passed), fail, skip, xfail or warn."""
    __tracebackhide__ = True  # a skip or failure is reported at the item, not here
    entry = outcome.results.by_id[requirement_id]
    known = outcome.baseline is not None and requirement_id in outcome.baseline.accepted
    if entry.status == "passed":
        if known:
            warnings.warn(ConformanceWarning(_fixed_text(outcome, requirement_id)), stacklevel=2)
        return
    if entry.status == "not-run":
        if outcome.error is not None:
            pytest.fail(f"not run: the run did not complete ({outcome.error}); {entry.not_run_reason}", pytrace=False)
        pytest.skip(entry.not_run_reason or "not run")
    text = _failure_text(outcome, entry)
    if known:
        from conformance.reports.digest import KNOWN_FAILURE

        pytest.xfail(f"{KNOWN_FAILURE}: {text.splitlines()[0]}")
    if entry.requirement.level == "SHOULD" and not outcome.options.strict:
        warnings.warn(ConformanceWarning(text), stacklevel=2)
        return
    pytest.fail(text, pytrace=False)


def _failure_text(outcome: RunOutcome, entry: RequirementResult) -> str:
    """The finding as a reader needs it: the requirement, expected, actual, and curl commands that
    reproduce it (keys as ${CONFORMANCE_*} references, never values)."""
    from conformance.checker.evidence import Redactor

    requirement = entry.requirement
    lines = [f"{requirement.id} ({requirement.level}) failed: {requirement.text}"]
    if entry.findings:
        finding = entry.findings[0]
        lines += [f"expected: {finding.expected}", f"actual:   {finding.said}"]
        if finding.exchanges:
            lines.append("reproduce (keys from the CONFORMANCE_* environment variables):")
            lines += [f"  {exchange.curl()}" for exchange in finding.exchanges]
    more = entry.failures - 1
    lines.append(
        (f"{more} more failed assertion(s); " if more > 0 else "")
        + f"see {outcome.options.report_dir / 'report.json'}; rerun: pytest --pyargs conformance.suite "
        + f"-k {requirement.id} --conformance-seed {outcome.results.seed}"
    )
    return Redactor(outcome.profile.secrets() if outcome.profile else {})("\n".join(lines))


def _fixed_text(outcome: RunOutcome, requirement_id: str) -> str:
    assert outcome.baseline is not None
    return f"{requirement_id} passes now, but the baseline {outcome.baseline.path} lists it as a known failure"


# -- the session's summary ------------------------------------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A session whose items all passed or skipped still fails (exit 3, as `conformance run`) when the run
    checked nothing, or was incomplete under --conformance-require-complete: a gate must not pass on it."""
    from conformance.checker.verdict import ExitCode

    ran = session.config.stash.get(_RAN, None)
    if ran is not None and ran[0].exit_code == ExitCode.INCOMPLETE and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = int(ExitCode.INCOMPLETE)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """After the items: the run's verdict, the baseline's account, and where the reports are."""
    ran = config.stash.get(_RAN, None)
    if ran is None:
        return
    outcome, path = ran
    terminalreporter.section("conformance")
    for line in summary_lines(outcome, path):
        terminalreporter.write_line(line)


def summary_lines(outcome: RunOutcome, path: Path) -> list[str]:
    """The lines of the session's conformance summary."""
    from conformance.checker.profile import target_words
    from conformance.checker.verdict import completeness_of

    chosen = [entry for item, entry in outcome.results.by_id.items() if item in outcome.options.only]
    statuses = [entry.status for entry in chosen]
    lines = [
        f"{outcome.verdict.upper()}: {statuses.count('passed')} passed, {statuses.count('failed')} failed, "
        f"{statuses.count('not-run')} not-run of {len(chosen)} requirements ({outcome.requests} requests, "
        f"{outcome.duration:.1f} s, seed {outcome.results.seed}); report: {path}"
    ]
    lines.append(f"target: {target_words(outcome.profile and outcome.profile.base_url, outcome.reference_server)}")
    if outcome.options.read_only:
        lines.append("read-only run (no destructive item selected): nothing that writes was sent")
    if outcome.baseline is not None:
        lines.append(outcome.baseline.summary())
    if outcome.error is not None:
        lines.append(f"the run did not complete: {outcome.error}")
    elif (incomplete := completeness_of(outcome.results, strict=outcome.options.strict).summary()) is not None:
        lines.append(f"INCOMPLETE: {incomplete}")
    return lines
