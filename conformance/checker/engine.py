"""What the runner needs of an engine (a way of checking: targeted scenarios, the lifecycle state machine,
Schemathesis), and what an engine does when it cannot go on.

A leaf module: engines import it, the runner imports it, and it imports neither (its imports of the
package are for type checking only).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from conformance.checker.results import Results
    from conformance.checker.run_state import RunState

Say = Callable[[str], None]

READ_ONLY = "it writes to the target, and this run is read-only"  # why a read-only run leaves a check out


class RunAborted(Exception):
    """The run cannot go on (the target is unreachable or rejects the keys); the message says why."""


class Engine(Protocol):
    """A way of checking: its name, what it can verify, its checks, and the function that runs them."""

    @property
    def name(self) -> str: ...

    @property
    def covers(self) -> tuple[str, ...]:
        """Every requirement it can verify."""
        ...

    @property
    def needs_writes(self) -> bool:
        """It cannot check anything without writing: a read-only run leaves it out."""
        ...

    @property
    def priority(self) -> int:
        """Its waiting requests get a free place in flight before those of engines of a lower priority
        (`transport.Places`): the engines of the longest chains of requests in a row, which bound a run's time
        across a network, go first."""
        ...

    def checks(self) -> dict[str, tuple[str, ...]]:
        """Its checks (name -> the requirements each verifies), which finish one at a time: a run that stops
        early leaves out every requirement of a check that had not finished (`RunState.unfinished`)."""
        ...

    def read_only_covers(self) -> frozenset[str]:
        """The requirements it verifies in a read-only run."""
        ...

    def run(self, state: RunState, say: Say) -> None:
        """Run its checks over the run's state, recording into `state.results`; `say` gets its one-line summary.
        RunAborted when the run cannot go on."""
        ...


@dataclass(frozen=True)
class WholeEngine:
    """An engine that is one check: it finishes as a whole, and a read-only run verifies nothing with it."""

    name: str
    covers: tuple[str, ...]
    runs: Callable[[RunState, Say], None]
    needs_writes: bool = False
    priority: int = 0

    def checks(self) -> dict[str, tuple[str, ...]]:
        return {self.name: self.covers}

    def read_only_covers(self) -> frozenset[str]:
        return frozenset()

    def run(self, state: RunState, say: Say) -> None:
        self.runs(state, say)


def not_run(results: Results, covers: Iterable[str], reason: str) -> None:
    """These requirements could not be exercised, for `reason` (kept only where nothing exercised them)."""
    for requirement_id in covers:
        results.not_run(requirement_id, reason)


def checker_error(state: RunState, covers: Iterable[str], name: str, error: Exception) -> None:
    """An unexpected error inside the checker: its requirements are not-run, whatever other checks saw of them
    (this check's part did not all run: never a pass on the strength of the rest), except a failure, which
    stands; and the report says why."""
    where = traceback.extract_tb(error.__traceback__)[-1]
    message = f"internal error in {name}: {type(error).__name__}: {error} ({Path(where.filename).name}:{where.lineno})"
    for requirement_id in covers:
        if state.results.status(requirement_id) != "failed":
            state.results.leave_out(requirement_id, message)
    state.results.notes["checker"].append(message)


def abort_if_silent(state: RunState, error: Exception) -> None:
    """RunAborted when the target has stopped answering altogether (not just one operation)."""
    if state.client.stopped_answering:
        raise RunAborted(f"the target stopped answering: {error}") from error
