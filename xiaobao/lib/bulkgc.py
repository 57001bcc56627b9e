"""Python's cyclic garbage collector during a bulk pass (an import of hundreds of thousands of rows).

A full collection walks every object the process tracks: Django's modules, models, URL patterns and
translations as much as the pass's own rows. A pass allocates millions of small objects, and each
few hundred thousand of them set off a collection; the full ones (53 during the Texas import)
walked the whole process again each time: about 5 of the import's 20 CPU seconds.

bulk_gc() freezes the objects that exist when the pass starts (gc.freeze(): they stay where they
are, outside every collection, until the pass ends) and makes the youngest generation's threshold
larger, so the pass's own garbage is still collected, in fewer and cheaper rounds. Both are
process-wide, so the first pass to start sets them and the last to end puts them back.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000  # allocations between collections of the youngest generation (default 700)

_state = {"passes": 0, "thresholds": (700, 10, 10)}
_lock = threading.Lock()


@contextmanager
def bulk_gc() -> Iterator[None]:
    with _lock:
        if _state["passes"] == 0:
            _state["thresholds"] = gc.get_threshold()
            gc.freeze()
            young, middle, old = _state["thresholds"]
            gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
        _state["passes"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["passes"] -= 1
            if _state["passes"] == 0:
                gc.set_threshold(*_state["thresholds"])
                gc.unfreeze()
