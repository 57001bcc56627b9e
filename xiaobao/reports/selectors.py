"""Reads of the reports app: the jobs a user may see, and the paragraphs with their current texts."""

from django.db.models import QuerySet

from xiaobao.accounts import access
from xiaobao.reports import yearend
from xiaobao.reports.models import NarrativeTemplate, ReportJob


def job_list(*, user) -> QuerySet[ReportJob]:
    """The reports of the units the user may see, newest first."""
    return access.scope(ReportJob.objects.select_related("unit", "actor", "snapshot"), user)


def template_rows() -> list[dict]:
    """Every paragraph of the year-end report: its default and, when edited, the stored text."""
    stored = {t.key: t for t in NarrativeTemplate.objects.select_related("updated_by")}
    rows = []
    for block in yearend.all_blocks():
        mine = stored.get(block.key)
        rows.append(
            {
                "key": block.key,
                "heading": mine.heading if mine else block.heading,
                "body": mine.body if mine else block.body,
                "edited": mine,
                "default": block,
            }
        )
    return rows
