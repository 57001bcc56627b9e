"""lib.bulkgc: during a bulk pass the collector skips what existed before and still collects the pass's garbage."""

import gc
import weakref

from xiaobao.lib.bulkgc import YOUNG_THRESHOLD, bulk_gc


class _Node:
    pass


def test_objects_from_before_are_frozen_and_everything_is_put_back():
    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with bulk_gc:
        assert gc.get_freeze_count() > 1000  # Django, the settings, this test's own modules
        assert gc.get_threshold()[0] == max(thresholds[0], YOUNG_THRESHOLD)
        with bulk_gc:  # a second pass in another thread of the same process
            pass
        assert gc.get_freeze_count() > 1000 and gc.get_threshold()[0] >= YOUNG_THRESHOLD  # still the first's
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


def test_the_passes_own_cycles_are_still_collected():
    with bulk_gc:
        assert gc.isenabled()
        node = _Node()
        node.me = node  # a cycle: only the collector can free it
        alive = weakref.ref(node)
        del node
        gc.collect()
        assert alive() is None


def test_an_error_in_the_pass_puts_everything_back():
    thresholds = gc.get_threshold()
    try:
        with bulk_gc:
            raise RuntimeError("导入出错")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
