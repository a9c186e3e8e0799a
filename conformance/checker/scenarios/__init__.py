"""Targeted scenarios: what random generation will not reliably hit.

Each module of this package registers its scenarios with `@scenario(...)`; importing the package imports
them all, in name order.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.checker.run_state import RunState, Tally, engine_summary
from conformance.checker.scenario import SCENARIOS

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")


def run_scenarios(state: RunState, say) -> None:
    """Run every registered scenario in registration order; say what they found, in one line."""
    from conformance.checker.runner import SCENARIOS_ENGINE, run_scenario

    before = Tally.of(state)
    ran = [item for item in SCENARIOS if state.chosen(item.name, item.covers)]
    for item in ran:
        run_scenario(state, item)
    say(engine_summary(SCENARIOS_ENGINE, state, before, f"{len(ran)} scenario(s)"))
