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


def build_unicode_tables() -> None:
    """Have Hypothesis build its table of the characters UTF-8 can encode now, in this one thread (a run calls
    this before its engines start side by side).

    Its string strategies build it on first use (once per machine; then it is read from Hypothesis's storage
    directory in milliseconds) in a cache without a lock: on a fresh machine, eight threads side by side each
    built it at once, about 130 MB and 3 s of CPU apiece, and a first run took 1.2 GB and 20 s longer."""
    from hypothesis import strategies

    strategies.characters(codec="utf-8").validate()  # the codec of Schemathesis's strings
