"""The pytest plugin as a user meets it: `pytest --pyargs conformance.suite ...` in a subprocess, against a
reference server, clean or with a planted fault, its items' outcomes read from pytest's own JUnit file.

Each of the three sessions (one quick run each, seed 1234) is made once and read by several tests, also when
they are spread over xdist workers.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import count_methods

from conformance.checker.client import SAFE_METHODS
from conformance.checker.runner import read_only_requirements
from conformance.contract.catalogue import catalogue, ids, requirement
from conformance.faces.pytest_plugin import marker_names
from conformance.reference.app import start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

KEYS = {"CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY, "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY}
SECOND_KEY = {"CONFORMANCE_SECOND_DEVELOPER_KEY": DEMO_SECOND_DEVELOPER_KEY}
SUITE = ("--pyargs", "conformance.suite", "-p", "no:cacheprovider", "--strict-markers", "-rA")
QUICK = ("--conformance-budget", "quick", "--conformance-seed", "1234")
TENANCY = {item.id for item in catalogue() if item.group == "TENANT"}
REPORT_FILES = ("report.json", "junit.xml", "report.md", "report.html")


# -- running a session ----------------------------------------------------------------------------------------


@dataclass
class SuiteSession:
    """One finished pytest session: its exit code, its output, what it wrote into its directory, and the HTTP
    methods the reference server it checked was asked for."""

    returncode: int
    output: str
    directory: str
    outcomes: dict[str, list[str]] = field(default_factory=dict)  # requirement ID -> [outcome, message]
    methods: dict[str, int] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """The conformance report the session wrote."""
        return json.loads((Path(self.directory) / "reports" / "report.json").read_text(encoding="utf-8"))

    def ended(self, outcome: str) -> set[str]:
        """The requirement IDs whose items ended so: `passed`, `failed`, `skipped`, `xfailed` or `error`."""
        return {item for item, (how, _) in self.outcomes.items() if how == outcome}


def pytest_session(directory: Path, *args: str, env: dict[str, str] | None = None, suite: bool = True) -> SuiteSession:
    """Run pytest in a fresh process in `directory`: the suite (quick budget, seed 1234) unless `suite=False`."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("CONFORMANCE_", "PYTEST_"))}
    chosen = (*SUITE, *QUICK) if suite else ("-p", "no:cacheprovider")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *chosen, "--junitxml", "junit.xml", *args],
        capture_output=True,
        text=True,
        cwd=directory,
        env={**clean, **(env or {})},
        timeout=300,
    )
    junit = directory / "junit.xml"
    outcomes = junit_outcomes(junit) if junit.is_file() and suite else {}
    return SuiteSession(result.returncode, result.stdout + result.stderr, str(directory), outcomes)


def junit_outcomes(path: Path) -> dict[str, list[str]]:
    """Each testcase of pytest's JUnit file, by the requirement ID in its name: [outcome, message]."""
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        requirement_id = case.get("name", "").split("[", 1)[1].split(" ", 1)[0]
        how, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                how, message = ("failed" if child.tag == "failure" else "error"), child.text or ""
            elif child.tag == "skipped":
                how = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                message = child.get("message", "")
        outcomes[requirement_id] = [how, message]
    return outcomes


def suite_against_reference(directory: Path, *args: str, fault: str | None = None, env: dict[str, str]) -> SuiteSession:
    """The suite against a fresh reference server (`--conformance-url` is added), counting the methods it
    serves. A clean server must hit no unexpected exception (as with the `start_reference` fixture)."""
    server = start_server(fault=fault)
    methods = count_methods(server)
    try:
        session = pytest_session(directory, "--conformance-url", server.base_url, *args, env=env)
    finally:
        server.stop()
    if fault is None:
        assert not server.unexpected_errors, server.unexpected_errors
    session.methods = dict(methods)
    return session


@pytest.fixture(scope="session")
def once(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Callable[..., SuiteSession]:
    """`once(name, make)`: the session `make(directory)` runs, made by one xdist worker and read by the others
    (xdist's recipe for an expensive fixture: a lock and a JSON file in the run's shared temporary directory)."""

    def session(name: str, make: Callable[[Path], SuiteSession]) -> SuiteSession:
        if worker_id == "master":
            return make(tmp_path_factory.mktemp(name))
        shared = tmp_path_factory.getbasetemp().parent
        result = shared / f"{name}.json"
        with (shared / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not result.is_file():
                (shared / name).mkdir()
                result.write_text(json.dumps(asdict(make(shared / name))), encoding="utf-8")
        return SuiteSession(**json.loads(result.read_text(encoding="utf-8")))

    return session


# -- a clean target, without a second developer key --------------------------------------------------------------


@pytest.fixture(scope="session")
def clean(once: Callable[..., SuiteSession]) -> SuiteSession:
    return once("clean", lambda directory: suite_against_reference(directory, env=KEYS))


def test_every_requirement_is_one_item_named_by_its_id_and_text(clean: SuiteSession) -> None:
    assert sorted(clean.outcomes) == sorted(ids())
    assert "test_requirement[LIST-03 Paging through with start = 0" in clean.output


def test_a_clean_target_passes_every_item_but_those_it_cannot_check(clean: SuiteSession) -> None:
    assert clean.ended("passed") == set(ids()) - TENANCY
    assert clean.returncode == 0


def test_without_a_second_key_tenancy_items_skip_with_the_reason(clean: SuiteSession) -> None:
    assert clean.ended("skipped") == TENANCY
    assert all("--second-developer-key" in clean.outcomes[item][1] for item in TENANCY)


def test_the_conformance_reports_are_written_beside_pytests_junit_file(clean: SuiteSession) -> None:
    report = clean.report()
    assert report["verdict"] == "incomplete"  # the tenancy MUSTs were not run: not conformant, but exit 0
    assert {item["id"]: item["status"] for item in report["requirements"]} == {
        item: "not-run" if item in TENANCY else "passed" for item in ids()
    }
    assert "INCOMPLETE: 47 passed, 0 failed, 4 not-run of 51 requirements" in clean.output
    assert "INCOMPLETE: 4 requirement(s) that count not run: needs --second-developer-key" in clean.output


def test_no_key_value_reaches_the_output_or_any_file(clean: SuiteSession) -> None:
    directory = Path(clean.directory)
    files = [directory / "junit.xml", *(directory / "reports").iterdir()]
    written = [clean.output, *(path.read_text(encoding="utf-8") for path in files)]
    assert not [text for text in written if DEMO_PARTNER_KEY in text or DEMO_DEVELOPER_KEY in text]


# -- a faulty target, `-k LIST`, a baseline that knows one of its failures ----------------------------------------


@pytest.fixture(scope="session")
def faulty(once: Callable[..., SuiteSession]) -> SuiteSession:
    def make(directory: Path) -> SuiteSession:
        (directory / "baseline.json").write_text(json.dumps({"failed": ["LIST-01"]}), encoding="utf-8")
        args = ("--conformance-baseline", "baseline.json", "-k", "LIST")
        return suite_against_reference(directory, *args, fault="list-ignores-limit", env=KEYS)

    return once("faulty", make)


def test_k_selects_items_by_name_and_the_run_checks_only_those(faulty: SuiteSession) -> None:
    listing = {item.id for item in catalogue() if item.group == "LIST"}
    assert listing <= set(faulty.outcomes) < set(ids())
    assert set(faulty.report()["run"]["options"]["only"]) == set(faulty.outcomes)
    summary = f"subset: {len(faulty.outcomes)} of {len(ids())} requirements selected"
    assert faulty.report()["completeness"]["summary"].startswith(summary)
    assert all(summary in (Path(faulty.directory) / "reports" / name).read_text() for name in REPORT_FILES)


def test_a_broken_must_fails_its_item_with_the_finding_and_a_reproduction(faulty: SuiteSession) -> None:
    how, message = faulty.outcomes["LIST-03"]
    assert how == "failed"
    assert "LIST-03 (MUST) failed" in message and "expected:" in message and "actual:" in message
    assert 'curl -sS -i -X GET -H "x-api-key: ${CONFORMANCE_PARTNER_KEY}"' in message
    assert DEMO_PARTNER_KEY not in message and DEMO_DEVELOPER_KEY not in message


def test_a_failure_the_baseline_knows_is_xfail(faulty: SuiteSession) -> None:
    assert faulty.outcomes["LIST-01"][0] == "xfailed"
    assert faulty.outcomes["LIST-01"][1].startswith("known failure (baseline)")


def test_a_failure_the_baseline_does_not_know_fails_the_session(faulty: SuiteSession) -> None:
    new = faulty.report()["baseline"]["new"]
    assert "LIST-03" in new and "LIST-01" not in new
    assert faulty.returncode == 1


def test_requirements_the_fault_leaves_alone_still_pass(faulty: SuiteSession) -> None:
    assert {"LIST-02", "LIST-04", "LIST-06", "LIST-07"} <= faulty.ended("passed")


# -- `-m "not destructive"`: a read-only session ---------------------------------------------------------------


@pytest.fixture(scope="session")
def read_only(once: Callable[..., SuiteSession]) -> SuiteSession:
    return once(
        "read-only",
        lambda directory: suite_against_reference(directory, "-m", "not destructive", env=KEYS | SECOND_KEY),
    )


def test_not_destructive_selects_the_items_that_reads_alone_can_check(read_only: SuiteSession) -> None:
    assert set(read_only.outcomes) == read_only_requirements()
    assert read_only.ended("passed") == read_only_requirements()


def test_a_session_without_destructive_items_sends_no_write(read_only: SuiteSession) -> None:
    assert read_only.methods["GET"] > 0
    assert set(read_only.methods) <= SAFE_METHODS
    assert "read-only run (no destructive item selected)" in read_only.output


def test_items_are_marked_by_level_group_and_whether_only_writes_can_check_them() -> None:
    reads = read_only_requirements()
    assert marker_names(requirement("LIST-06"), reads) == ["must", "list"]
    assert marker_names(requirement("CREATE-06"), reads) == ["should", "create", "destructive"]
    assert {item.id for item in catalogue() if "destructive" not in marker_names(item, reads)} == reads


# -- usage errors, and sessions that do not ask for the suite --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--conformance-rate-limit", "lots"), "conformance: --conformance-rate-limit must look like '10/s'"),
        (("--conformance-url", "http://127.0.0.1:9"), "--conformance-partner-key and --conformance-developer-key"),
        (("--conformance-url", ""), "conformance: the base URL is empty (--conformance-url is set but empty"),
    ],
)
def test_a_bad_option_ends_the_session_with_one_line_and_exit_code_4(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    session = pytest_session(tmp_path, *args)
    assert session.returncode == 4
    assert message in session.output
    assert "Traceback" not in session.output


def test_a_session_that_does_not_collect_the_suite_neither_runs_nor_loads_the_checker(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\n\ndef test_plain():\n"
        "    loaded = {'conformance.checker.runner', 'conformance.checker.scenarios', 'conformance.reports'}\n"
        "    assert not loaded & set(sys.modules)\n",
        encoding="utf-8",
    )
    session = pytest_session(tmp_path, "test_plain.py", suite=False)
    assert session.returncode == 0, session.output
    assert "1 passed" in session.output
    assert "conformance:" not in session.output and "= conformance =" not in session.output
    assert not (tmp_path / "reports").exists()


# -- sessions that cannot pass: the run could not complete, or checked nothing ---------------------------------


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({**KEYS, "CONFORMANCE_DEVELOPER_KEY": "not-a-key"}, "the target rejected the partner or developer key"),
        ({**KEYS, "CONFORMANCE_SECOND_DEVELOPER_KEY": "not-a-key"}, "the target rejected the second developer key"),
    ],
    ids=["developer-key", "second-key"],
)
def test_a_run_that_cannot_complete_is_one_session_error_not_a_failure_per_item(
    tmp_path: Path, env: dict[str, str], reason: str
) -> None:
    session = suite_against_reference(tmp_path, env=env)
    assert session.returncode == 3, session.output
    errors = [line for line in session.output.splitlines() if "conformance: the run could not complete" in line]
    assert len(errors) == 1 and reason in errors[0]
    assert "FAILED" not in session.output and "Traceback" not in session.output
    assert session.report()["verdict"] == "error"


def test_a_session_that_checked_nothing_fails_and_says_incomplete(tmp_path: Path) -> None:
    session = suite_against_reference(tmp_path, "-k", "TENANT", env=KEYS)
    assert session.returncode == 3, session.output
    assert session.ended("skipped") == TENANCY
    assert "INCOMPLETE: subset: 4 of 51 requirements selected" in session.output
    report = session.report()
    assert (report["verdict"], report["exit_code"]) == ("incomplete", 3)
