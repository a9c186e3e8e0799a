"""Run budgets: how hard each engine tries, and the bound on a whole run's time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """How much work a run does. `time_limit` bounds the whole run, cleanup excepted."""

    name: str
    stateful_examples: int  # Hypothesis examples of the lifecycle state machine
    stateful_steps: int  # steps per example
    stateful_lanes: int  # the examples are split among this many machines, each seeded on its own, run side by side
    schema_examples: int  # Schemathesis examples per operation and phase
    page_records: int  # records created for the pagination walk
    time_limit: float  # seconds
    wide_edges: bool = False  # the edge corpus at every key combination and on every field, not a sample
    # Schemathesis's coverage phase enumerates each operation's invalid boundary cases too (its negative half).
    # Off in quick: across a network that half is quick's longest chain of requests and a fifth of its CPU, and
    # without it quick still catches every fault of the catalogue (benchmarks/RESULTS.md, tenth round); its
    # fuzzing still draws invalid requests, and the scenarios send the contract's own.
    invalid_coverage: bool = True


BUDGETS = {
    "quick": Budget(
        "quick",
        stateful_examples=6,
        stateful_steps=12,
        stateful_lanes=3,
        schema_examples=6,
        page_records=7,
        time_limit=90,
        invalid_coverage=False,
    ),
    "standard": Budget(
        "standard",
        stateful_examples=25,
        stateful_steps=25,
        stateful_lanes=8,
        schema_examples=40,
        page_records=13,
        time_limit=300,
        wide_edges=True,
    ),
    "deep": Budget(
        "deep",
        stateful_examples=100,
        stateful_steps=50,
        stateful_lanes=4,
        schema_examples=200,
        page_records=31,
        time_limit=1800,
        wide_edges=True,
    ),
}
