"""The contract as pytest items: one per requirement of the catalogue, each reporting the session's one run.

    pytest --pyargs conformance.suite --conformance-url https://staging.example.com

Keys come from CONFORMANCE_PARTNER_KEY, CONFORMANCE_DEVELOPER_KEY and CONFORMANCE_SECOND_DEVELOPER_KEY, as for
`conformance run`; without --conformance-url the bundled reference server is checked. The pytest plugin
(`conformance.faces.pytest_plugin`) makes the run and decides each item's outcome.
"""

from __future__ import annotations

import pytest

from conformance.checker.runner import RunOutcome
from conformance.faces.pytest_plugin import report_requirement, requirement_params


@pytest.mark.parametrize("requirement_id", requirement_params())
def test_requirement(requirement_id: str, conformance_outcome: RunOutcome) -> None:
    """The requirement held in this session's conformance run."""
    report_requirement(conformance_outcome, requirement_id)
