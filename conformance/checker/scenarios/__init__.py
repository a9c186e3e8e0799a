"""Targeted scenarios: what random generation will not reliably hit.

Each module of this package registers its scenarios with `@scenario(...)` (`checker/scenario.py`); importing
the package imports them all, in name order. `ENGINE` runs them, side by side, each as its own check.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from conformance.checker.client import TransportError
from conformance.checker.engine import READ_ONLY, Say, abort_if_silent, checker_error, not_run
from conformance.checker.run_state import RunState, Tally, engine_summary
from conformance.checker.scenario import SCENARIOS, SECOND_KEY, Probe, Scenario, ScenarioAborted
from conformance.checker.side_by_side import run_side_by_side

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

SCENARIOS_ENGINE = "targeted scenarios"


class ScenarioEngine:
    """The registered scenarios as one engine; each scenario is a check of its own, finished as it ends."""

    name = SCENARIOS_ENGINE
    needs_writes = False  # the scenarios that only read run in a read-only run
    priority = 0  # many short checks side by side: they fill the places the longer chains leave free

    @property
    def covers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item for scenario in SCENARIOS for item in scenario.covers))

    def checks(self) -> dict[str, tuple[str, ...]]:
        return {scenario.name: scenario.covers for scenario in SCENARIOS}

    def read_only_covers(self) -> frozenset[str]:
        return frozenset().union(*(scenario.covers for scenario in SCENARIOS if not scenario.writes))

    def run(self, state: RunState, say: Say) -> None:
        """Run every chosen scenario, up to `state.workers` at a time, started in registration order; say what
        they found, in one line."""
        before = Tally.of(state)
        ran = [item for item in SCENARIOS if state.chosen(item.name, item.covers)]
        run_side_by_side([functools.partial(run_scenario, state, item) for item in ran], state.workers, "scenario")
        say(engine_summary(self.name, state, before, f"{len(ran)} scenario(s)"))


ENGINE = ScenarioEngine()


def second_key_covers() -> tuple[str, ...]:
    """The requirements only the scenarios that need a second developer key verify."""
    return tuple(item for scenario in SCENARIOS if scenario.needs == SECOND_KEY for item in scenario.covers)


def run_scenario(state: RunState, item: Scenario) -> None:
    """Run one scenario; what it could not exercise is not-run with the reason."""
    try:
        _run_scenario(state, item)
    finally:
        state.finish(item.name)


def _run_scenario(state: RunState, item: Scenario) -> None:
    if not state.chosen(item.name, item.covers):
        return
    if item.writes and state.client.read_only:
        not_run(state.results, item.covers, f"{item.name}: {READ_ONLY}")
        return
    if item.needs == SECOND_KEY and state.profile.second is None:
        not_run(state.results, item.covers, "needs --second-developer-key (a developer key of another company)")
        return
    state.current_check, state.recording = item.name, True
    state.traffic[item.name] = []
    try:
        item.run(Probe(state, item.name))
    except ScenarioAborted as error:
        not_run(state.results, item.covers, f"{item.name}: {error}")
    except TransportError as error:
        not_run(state.results, item.covers, f"{item.name}: {error}")
        abort_if_silent(state, error)
    except Exception as error:  # a bug of ours must not cost the user the rest of the run
        checker_error(state, item.covers, item.name, error)
    finally:
        state.recording = False
