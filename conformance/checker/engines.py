"""The engines of a run, in the order they run: the targeted scenarios, the lifecycle state machine, and
Schemathesis. A new engine is a module that exports an `ENGINE` (`checker/engine.py`), listed here."""

from __future__ import annotations

from conformance.checker import lifecycle, scenarios
from conformance.checker.engine import Engine
from conformance.checker.fuzz import engine as schemathesis

ENGINES: tuple[Engine, ...] = (scenarios.ENGINE, lifecycle.ENGINE, schemathesis.ENGINE)

