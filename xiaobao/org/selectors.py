from django.db.models import QuerySet

from xiaobao.org.models import Unit


def unit_subtree(unit: Unit) -> QuerySet[Unit]:
    """The unit itself and every unit below it."""
    return Unit.objects.filter(path__startswith=unit.path)


def unit_ancestors(unit: Unit) -> list[Unit]:
    codes = [c for c in unit.path.strip("/").split("/")][:-1]
    by_code = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]
