"""The garbage collector during a run's engines (`collector.loaded_set_aside`): what was loaded before them is set
aside and collections come less often while they run, and afterwards the collector is as it was, whatever ended
the block."""

from __future__ import annotations

import gc
import weakref

import pytest

from conformance.checker import runner
from conformance.checker.collector import OLDER, YOUNG, loaded_set_aside
from conformance.checker.scenarios import SCENARIOS_ENGINE


def test_the_loaded_objects_are_set_aside_while_the_block_runs_and_the_collector_is_restored_after() -> None:
    before = gc.get_threshold()
    with loaded_set_aside():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG, OLDER, OLDER)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_an_interrupt_in_the_block_restores_the_collector_too() -> None:
    before = gc.get_threshold()
    with pytest.raises(KeyboardInterrupt), loaded_set_aside():
        raise KeyboardInterrupt
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


class _Node:
    """An object that can be in a cycle and have a weak reference."""

    other: _Node | None = None


def test_a_cycle_made_in_the_block_is_still_collected() -> None:
    with loaded_set_aside():
        node = _Node()
        node.other = node
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None


def test_the_engines_of_a_run_run_with_the_loaded_objects_set_aside(check_reference, monkeypatch) -> None:
    seen: list[tuple[tuple[int, ...], int]] = []
    real = runner.run_side_by_side

    def spied(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_side_by_side", spied)
    before = gc.get_threshold()
    check_reference(engines=(SCENARIOS_ENGINE,), only="AUTH-01")

    (thresholds, frozen), *_ = seen
    assert thresholds == (YOUNG, OLDER, OLDER) and frozen > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
