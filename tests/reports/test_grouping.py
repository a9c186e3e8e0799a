"""Findings from one answer are shown once, naming every requirement they fail; each requirement still fails."""

from __future__ import annotations

from typing import Any

from written_reports import WrittenRun

from conformance.reports import render
from conformance.reports.digest import failed_rows, same_answer


def _finding(requirement_id: str, check: str, exchange: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{requirement_id}-{check}", "requirement": requirement_id, "check": check, "exchanges": [exchange]}


def _report(*requirements: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "requirements": [
            {"id": rid, "status": "failed" if findings else "passed", "findings": findings}
            for rid, findings in requirements
        ]
    }


A_500 = {"method": "POST", "url": "http://t/x", "status": 500, "elapsed_ms": 1.5}
ANOTHER_500 = {**A_500, "elapsed_ms": 2.5}


def test_requirements_failed_only_by_one_answer_share_a_row() -> None:
    report = _report(
        ("HTTP-01", [_finding("HTTP-01", "every-response", A_500)]),
        ("HTTP-02", []),
        ("HTTP-06", [_finding("HTTP-06", "every-response", A_500)]),
    )
    assert [row.ids for row in failed_rows(report)] == [["HTTP-01", "HTTP-06"]]
    assert [item["id"] for item in same_answer(report)["HTTP-06-every-response"]] == [
        "HTTP-01-every-response",
        "HTTP-06-every-response",
    ]


def test_a_requirement_with_an_answer_of_its_own_keeps_its_row() -> None:
    report = _report(
        ("HTTP-01", [_finding("HTTP-01", "every-response", A_500)]),
        ("HTTP-06", [_finding("HTTP-06", "every-response", A_500), _finding("HTTP-06", "other", ANOTHER_500)]),
    )
    assert [row.ids for row in failed_rows(report)] == [["HTTP-01"], ["HTTP-06"]]


def test_markdown_names_the_other_requirements_of_an_answer_and_keeps_code_in_texts(crash_run: WrittenRun) -> None:
    text = crash_run.text("report.md")
    assert "- this answer also fails HTTP-06" in text
    assert "`NaN`" in text and "\\`NaN\\`" not in text
    statuses = {item["id"]: item["status"] for item in crash_run.report["requirements"]}
    assert statuses["HTTP-01"] == statuses["HTTP-06"] == "failed"


def test_the_requirement_text_is_shown_once_per_requirement(crash_run: WrittenRun) -> None:
    report = crash_run.report
    item = next(entry for entry in report["requirements"] if entry["id"] == "VALID-04")
    assert len(item["findings"]) > 1
    html = render(report, "html")
    text = item["text"].split("`")[0]  # up to its first code span, which the page renders as <code>
    assert html.count(text) == 2  # once in the failure's article, once in the list of every requirement
    assert render(report, "md").count(text) == 1
