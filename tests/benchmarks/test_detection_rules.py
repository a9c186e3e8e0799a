"""The detection benchmark judges a run of ours by the run's own verdict: a failed MUST stands though the run
also reports an error (a request the target left unanswered); only the verdict `error` gave none."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from detection import caught_by

from conformance.reference.faults import FAULTS

FAULT = next(fault for fault in FAULTS if fault.name == "create-stores-then-drops")


def _report(verdict: str, failed: list[str], error: str | None = None) -> dict:
    requirements = [{"id": item, "status": "failed"} for item in failed] + [{"id": "AUTH-01", "status": "passed"}]
    return {"verdict": verdict, "error": error, "requirements": requirements}


@pytest.mark.parametrize(
    ("report", "caught"),
    [
        (_report("nonconformant", [*FAULT.breaks, "HTTP-02"], "the target left 1 request(s) without..."), "yes"),
        (_report("nonconformant", list(FAULT.breaks)), "yes"),
        (_report("nonconformant", ["HTTP-02"], "the target left 1 request(s) without..."), "no"),
        (_report("conformant", []), "no"),
        (_report("error", [], "the target stopped answering"), "error"),
        (_report("error", list(FAULT.breaks), "interrupted"), "error"),
    ],
    ids=["failed-with-an-error", "failed", "other-failure-with-an-error", "passed", "broke-off", "interrupted"],
)
def test_a_fault_is_caught_by_its_requirements_failed_unless_the_verdict_is_error(report: dict, caught: str) -> None:
    assert caught_by(report, FAULT) == caught


def test_on_the_clean_server_any_failure_is_a_false_alarm_and_an_error_is_no_verdict() -> None:
    assert caught_by(_report("conformant", []), None) == "clean"
    assert caught_by(_report("nonconformant", ["LIST-02"], "a request left unanswered"), None) == "false alarm"
    assert caught_by(_report("error", [], "the target stopped answering"), None) == "error"
