"""Fixtures for testing the checker: run it in-process against a reference server, clean or faulty.

def test_catches_off_by_one(check_reference):
    outcome = check_reference(fault="list-off-by-one", only="LIST")
    assert outcome.results.status("LIST-03") == "failed"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.checker.options import NETWORK_CONCURRENCY, resolve_options
from conformance.checker.outcome import RunOutcome
from conformance.checker.profile import make_options
from conformance.checker.runner import run
from conformance.faces.console import RunConsole
from conformance.reference.app import RunningServer
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY


@pytest.fixture
def check_reference(start_reference, tmp_path: Path) -> Callable[..., RunOutcome]:
    """Run the checker against a fresh reference server (`fault=` plants one defect).

    Keyword arguments are `conformance run` options by their long name with underscores (`only="LIST"`,
    `budget="quick"`, `seed=1`, `second_developer_key=None` to leave it out); the default is a quick run
    with both developer keys, the seed 1234 and 8 requests in flight. `engines=(SCENARIOS_ENGINE,)` runs the
    targeted scenarios alone, to show that they catch a fault by themselves (and in a second rather than the
    fuzzers' budget); `console=` shows the run's progress there, as `conformance run` does. `check.servers`
    are the servers it started, for counting records in their own store.
    """
    servers: list[RunningServer] = []

    def check(
        fault: str | None = None, engines: tuple[str, ...] = (), console: RunConsole | None = None, **flags: object
    ) -> RunOutcome:
        server = start_reference(fault=fault)
        servers.append(server)
        values: dict[str, object] = {
            "base_url": server.base_url,
            "partner_key": DEMO_PARTNER_KEY,
            "developer_key": DEMO_DEVELOPER_KEY,
            "second_developer_key": DEMO_SECOND_DEVELOPER_KEY,
            "budget": "quick",
            "seed": 1234,
            "concurrency": NETWORK_CONCURRENCY,  # side by side, as across a network (`auto` has tests of its own)
            "report_dir": tmp_path / "reports",
        }
        values.update(flags)
        merged = resolve_options({k: v for k, v in values.items() if v is not None}, environ={}, directory=tmp_path)
        if values.get("second_developer_key") is None:
            merged.pop("second_developer_key", None)
        options = replace(make_options(merged), engines=engines)
        if console is None:
            return run(options, merged)
        with console:
            return run(options, merged, console.say, console.watch)

    check.servers = servers  # type: ignore[attr-defined]
    return check
