"""junit.xml: one testcase per requirement, in one testsuite per group (AUTH, TENANT, CREATE, ...).

A failed requirement is a `failure` with the finding text; a not-run one is `skipped` with the reason. A failed
SHOULD is a failure only under --strict; otherwise it passes with a warning in `system-out`, as a failure the
baseline knows is skipped. A run that could not complete adds one errored testcase saying why. The shape is the
common JUnit XSD that Jenkins, GitLab and GitHub test reporters read (tests/reports/junit-10.xsd).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from conformance.reports.digest import (
    KNOWN_FAILURE,
    fails_run,
    headline,
    incomplete_line,
    one_line,
    reason,
    target_name,
)

SUITE_PACKAGE = "conformance"
RUN_SUITE = "RUN"
# Characters XML 1.0 cannot carry at all; a hostile target's body may hold them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: dict[str, Any]) -> str:
    """The JUnit XML text of a report model."""
    strict = report["run"]["strict"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for requirement in report["requirements"]:
        groups.setdefault(requirement["group"], []).append(requirement)
    suites = ET.Element("testsuites", name=_xml(f"conformance of {target_name(report)}"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for number, (group, requirements) in enumerate(groups.items()):
        suite = _suite(suites, report, group, number)
        for requirement in requirements:
            _testcase(suite, requirement, strict)
        _count(suite, totals)
    if report["error"]:
        suite = _suite(suites, report, RUN_SUITE, len(groups))
        case = ET.SubElement(suite, "testcase", classname=RUN_SUITE, name="the run completed", time="0")
        ET.SubElement(case, "error", type=report["verdict"], message=_xml(one_line(report["error"]))).text = _xml(
            f"{headline(report)}\n{report['error']}"
        )
        _count(suite, totals)
    elif incomplete_line(report):  # a gate reading junit.xml alone must see that not everything was checked
        suite = _suite(suites, report, RUN_SUITE, len(groups))
        case = ET.SubElement(suite, "testcase", classname=RUN_SUITE, name="the whole contract was checked", time="0")
        kind = "error" if report["exit_code"] == 3 else "skipped"
        ET.SubElement(case, kind, type=report["verdict"], message=_xml(incomplete_line(report) or ""))
        _count(suite, totals)
    suites.set("tests", str(totals["tests"]))
    suites.set("failures", str(totals["failures"]))
    suites.set("errors", str(totals["errors"]))
    suites.set("time", _seconds(report["run"]["duration_seconds"]))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _suite(parent: ET.Element, report: dict[str, Any], name: str, number: int) -> ET.Element:
    run = report["run"]
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=name,
        id=str(number),
        package=SUITE_PACKAGE,
        timestamp=run["started"],
        time="0",
    )
    if number == 0:  # the run's properties once, on the first suite
        properties = ET.SubElement(suite, "properties")
        for key, value in _properties(report).items():
            ET.SubElement(properties, "property", name=key, value=_xml(value))
    return suite


def _properties(report: dict[str, Any]) -> dict[str, str]:
    run = report["run"]
    spec = run["spec"] or {}
    return {
        "verdict": report["verdict"],
        "target": run["target"] or "",
        "tool_version": run["tool_version"],
        "spec": f"{spec.get('title', '')} {spec.get('version', '')}".strip(),
        "spec_sha256": spec.get("sha256", ""),
        "seed": "" if run["seed"] is None else str(run["seed"]),
        "budget": run["budget"],
        "strict": str(run["strict"]).lower(),
        "requests": str(run["requests"]),
    } | {f"note {number}": note for number, note in enumerate(run["notes"], 1)}


def _testcase(suite: ET.Element, requirement: dict[str, Any], strict: bool) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=requirement["group"],
        name=_xml(f"{requirement['id']} ({requirement['level']}): {requirement['text']}"),
        time="0",
    )
    status = requirement["status"]
    if status == "not-run":
        ET.SubElement(case, "skipped", message=_xml(reason(requirement) or "not run"))
    elif status == "failed" and requirement.get("baselined"):
        ET.SubElement(case, "skipped", message=KNOWN_FAILURE).text = _xml(_finding_text(requirement))
    elif status == "failed" and fails_run(requirement, strict):
        failure = ET.SubElement(case, "failure", type=requirement["level"], message=_xml(reason(requirement)))
        failure.text = _xml(_finding_text(requirement))
    elif status == "failed":
        ET.SubElement(case, "system-out").text = _xml(
            f"WARNING: this SHOULD requirement failed (a failure only under --strict).\n\n{_finding_text(requirement)}"
        )


def _finding_text(requirement: dict[str, Any]) -> str:
    """Every kept finding as plain text: expected, actual, the exchanges, the curl commands, the rerun."""
    blocks = [f"{requirement['id']} ({requirement['level']}): {requirement['text']}"]
    blocks.append(f"{requirement['failures']} failed assertion(s); checks: {', '.join(requirement['checks'])}")
    for number, finding in enumerate(requirement["findings"], 1):
        lines = [
            f"Finding {number} ({finding['check']})",
            f"  expected: {finding['expected']}",
            f"  actual:   {finding['actual']}",
        ]
        for exchange in finding["exchanges"]:
            outcome = exchange["error"] if exchange["status"] is None else exchange["status"]
            lines.append(f"  {exchange['method']} {exchange['url']} -> {outcome}")
            if exchange["response_body"]:
                lines.append(f"    body: {exchange['response_body']}")
        lines += ["  reproduce:", *(f"    {command}" for command in finding["reproduction"])]
        lines.append(f"  rerun: {finding['rerun']}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _count(suite: ET.Element, totals: dict[str, int]) -> None:
    cases = suite.findall("testcase")
    counted = {
        "tests": len(cases),
        "failures": sum(1 for case in cases if case.find("failure") is not None),
        "errors": sum(1 for case in cases if case.find("error") is not None),
        "skipped": sum(1 for case in cases if case.find("skipped") is not None),
    }
    for key, value in counted.items():
        suite.set(key, str(value))
        if key in totals:
            totals[key] += value


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _xml(text: str) -> str:
    """Text that XML 1.0 can carry: each character it cannot is written as its escape, e.g. `\\x1b`."""
    return _NOT_XML.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
