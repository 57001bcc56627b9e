"""Python's cyclic garbage collector during a bulk pass (an import of hundreds of thousands of rows).

A full collection walks every object the process tracks: Django's modules, models, URL patterns and
translations as much as the pass's own rows. A pass allocates millions of small objects, and each
few hundred thousand of them set off a collection; the full ones (53 during the Texas import)
walked the whole process again each time: about 5 of the import's 20 CPU seconds.

`with bulk_gc:` freezes the objects that exist when the pass starts (gc.freeze(): they stay where they
are, outside every collection, until the pass ends) and makes the youngest generation's threshold
larger, so the pass's own garbage is still collected, in fewer and cheaper rounds. Both are
process-wide, so the first pass to start sets them and the last to end puts them back.
"""

import gc

from xiaobao.lib.processwide import ProcessWide

YOUNG_THRESHOLD = 50_000  # allocations between collections of the youngest generation (default 700)


def _quiet() -> tuple[int, int, int]:
    thresholds = gc.get_threshold()
    gc.freeze()
    young, middle, old = thresholds
    gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
    return thresholds


def _restore(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(*thresholds)
    gc.unfreeze()


# `with bulk_gc:` around a bulk pass.
bulk_gc = ProcessWide(_quiet, _restore)
