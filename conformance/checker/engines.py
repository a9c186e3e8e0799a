"""The engines of a run, in the order they run: the targeted scenarios, the lifecycle state machine, and
Schemathesis. A new engine is a module that exports an `ENGINE` (`checker/engine.py`), listed here."""

from __future__ import annotations

from conformance.checker import lifecycle, scenarios, schema_fuzz
from conformance.checker.engine import Engine

ENGINES: tuple[Engine, ...] = (scenarios.ENGINE, lifecycle.ENGINE, schema_fuzz.ENGINE)

