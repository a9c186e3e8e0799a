"""The runs whose reports the tests read, written by the real checker, and how to read those reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import xmlschema

from conformance.checker.options import resolve_options
from conformance.checker.profile import make_options
from conformance.checker.runner import run
from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.reference.app import start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY
from conformance.reports import write_reports

REPORT_FILES = ("report.json", "junit.xml", "report.md", "report.html")
JUNIT_XSD = Path(__file__).with_name("junit-10.xsd")
SEED = 1234
# What a hostile target answers: markup that must never become live, and characters XML 1.0 cannot carry.
HOSTILE_BODY = (
    '<script>window.__pwned = true;</script><img src=x onerror="window.__pwned = true">'
    "</details>|**bold**| \x1b[31m red \x00 nul ``` fence"
)


@dataclass
class WrittenRun:
    """The reports one run wrote, and the exit code where the run was a subprocess."""

    directory: Path
    exit_code: int | None = None

    def text(self, name: str) -> str:
        return (self.directory / name).read_text(encoding="utf-8")

    @cached_property
    def report(self) -> dict[str, Any]:
        return json.loads(self.text("report.json"))

    @cached_property
    def junit(self) -> ET.Element:
        return ET.fromstring(self.text("junit.xml"))

    def requirement(self, requirement_id: str) -> dict[str, Any]:
        return next(item for item in self.report["requirements"] if item["id"] == requirement_id)

    def testcase(self, requirement_id: str) -> ET.Element:
        return next(case for case in self.junit.iter("testcase") if case.get("name", "").startswith(requirement_id))


def check_and_report(directory: Path, fault: str | None = None, **flags: Any) -> WrittenRun:
    """Run the checker in-process (targeted scenarios, quick budget, seed 1234) against a fresh reference server
    and write the reports into `directory`."""
    server = start_server(fault=fault)
    try:
        return check_target_and_report(directory, server.base_url, **flags)
    finally:
        server.stop()


def check_target_and_report(directory: Path, base_url: str, **flags: Any) -> WrittenRun:
    """Run the checker in-process (targeted scenarios, quick budget, seed 1234) against any target with the demo
    keys and write the reports into `directory`."""
    values = {
        "base_url": base_url,
        "partner_key": DEMO_PARTNER_KEY,
        "developer_key": DEMO_DEVELOPER_KEY,
        "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
        "budget": "quick",
        "seed": SEED,
        **flags,
    }
    merged = resolve_options(values, environ={}, directory=directory)
    outcome = run(replace(make_options(merged), engines=(SCENARIOS_ENGINE,)), merged)
    write_reports(outcome, directory)
    return WrittenRun(directory, int(outcome.exit_code))


@cache
def junit_schema() -> xmlschema.XMLSchema:
    """The Jenkins xUnit plugin's junit-10.xsd, which the JUnit readers of Jenkins, GitLab and GitHub accept."""
    return xmlschema.XMLSchema(str(JUNIT_XSD))
