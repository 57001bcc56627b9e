"""Writes to the unit tree."""

from django.db import transaction

from xiaobao.org.models import Unit


@transaction.atomic
def unit_save(*, unit: Unit) -> Unit:
    """Validate and save a unit, then rewrite the paths of its subtree if it moved.

    1. full_clean() checks the level hierarchy and refuses cycles.
    2. The unit's own path is recomputed from its parent.
    3. If the path changed, every descendant's path prefix is rewritten in one pass.
    """
    unit.full_clean(exclude=["path"])
    old_path = unit.path
    unit.path = unit.compute_path()
    unit.save()
    if old_path and old_path != unit.path:
        for child in Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).order_by("path"):
            child.path = unit.path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    return unit
