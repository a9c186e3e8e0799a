"""Python's garbage collector during a run's engines: what was loaded before them is set aside, and it runs less
often.

Each collection stops every thread of the run, the ones that read answers too, and across a network a run's
requests wait on those. By the time the engines start, the run has loaded Schemathesis, Hypothesis and the spec:
hundreds of thousands of objects that live as long as the process, which every full collection walked again
(a standard run made 16 full collections, 0.06 to 0.32 s each, and about 1,400 young ones: 3.6 s in all).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG = 10_000  # new objects between collections of the youngest generation (Python's default: 700)
OLDER = 20  # collections of one generation between collections of the next (Python's default: 10)


@contextlib.contextmanager
def loaded_set_aside() -> Iterator[None]:
    """While the block runs, the collector leaves alone every object alive as it starts (`gc.freeze`) and
    collects less often; as it was afterwards. What the block frees is freed as before: reference counting frees
    almost everything, and cycles are still collected."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
