"""The engines of a run, in the order they run: the targeted scenarios, the lifecycle state machine, and
Schemathesis. A new engine is a module that exports an `ENGINE` (`checker/engine.py`), listed here."""

from __future__ import annotations

from conformance.checker import scenarios
from conformance.checker.engine import Engine


def engines() -> tuple[Engine, ...]:
    """Every engine, in run order."""
    # Hypothesis and Schemathesis take seconds to load; loaded inside the run, a Ctrl-C meanwhile ends the run
    # like any other (cleaned up, reported, exit 3) rather than with a traceback before it starts.
    from conformance.checker import lifecycle  # late: Hypothesis, see above
    from conformance.checker.fuzz import engine as schemathesis  # late: Schemathesis, see above

    return (scenarios.ENGINE, lifecycle.ENGINE, schemathesis.ENGINE)
