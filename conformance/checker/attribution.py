"""Which check, of which engine, is sending on this thread: what a request or a finding is counted under.

Context variables, not globals: checks run side by side (`side_by_side` runs each in a copy of its caller's
context, so a scenario's thread knows its engine), and each thread sees only the check it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

CHECK: ContextVar[str] = ContextVar("check", default="preflight")  # the scenario or engine sending now
ENGINE: ContextVar[str] = ContextVar("engine", default="")  # the engine it belongs to ("" before the engines)
RECORDING: ContextVar[bool] = ContextVar("recording", default=False)  # whether its requests are kept
# Judgements of answers put off until the check takes its answers in order (`Probe.side_by_side`); None: judge
# each answer as it comes.
DEFERRED: ContextVar[list[Callable[[], None]] | None] = ContextVar("deferred", default=None)
