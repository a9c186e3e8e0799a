"""Targeted scenarios: what random generation will not reliably hit.

Each module of this package registers its scenarios with `@scenario(...)`; importing the package imports
them all, in name order.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.checker.context import SCENARIOS, RunState

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")


def run_scenarios(state: RunState, say) -> None:
    """Run every registered scenario in registration order."""
    from conformance.checker.runner import run_scenario

    for item in SCENARIOS:
        run_scenario(state, item)
