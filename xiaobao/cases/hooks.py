"""Hooks other apps hang on the cases app, so that cases never imports them.

- on_cases_created: called with the ids of the cases just created, by case_create (one id) and by
  the cases import (the ids of a chunk, after its bulk insert, which bypasses post_save). Runs inside
  the creating transaction; a hook must cost a constant number of queries whatever the number of ids.
- desk_annotations: functions that annotate the desk's page of cases (the sliced queryset of one
  page, after the capped count: e.g. a flag from another app's table as an Exists subquery), so the
  list shows it without a query per row.

Apps register in their AppConfig.ready() (xiaobao.risk appends its watchlist check).
"""

from collections.abc import Callable

from django.db.models import QuerySet

on_cases_created: list[Callable[[list[int]], None]] = []
desk_annotations: list[Callable[[QuerySet], QuerySet]] = []


def cases_created(case_ids: list[int]) -> None:
    if not case_ids:
        return
    for hook in on_cases_created:
        hook(list(case_ids))


def annotate_desk(cases: QuerySet) -> QuerySet:
    for annotate in desk_annotations:
        cases = annotate(cases)
    return cases
