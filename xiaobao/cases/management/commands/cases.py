import datetime as dt
import json

from django.core.management.base import CommandError

from xiaobao.cases.models import Case
from xiaobao.cases.stats import GROUPINGS, case_period, case_stats
from xiaobao.lib.commands import Command as XiaobaoCommand

COLUMNS = [
    "key",
    "count",
    "closed",
    "open",
    "median_days_to_close",
    "on_time_rate",
    "overdue_now",
    "extended",
    "regulator_forwarded",
]


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name}: 日期格式应为 YYYY-MM-DD, 实际为 {value!r}") from None


class Command(XiaobaoCommand):
    help = "工单统计: xiaobao cases stats [--from D] [--to D] [--by unit|channel|category|kind|month] [--format json|table]"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stats"])
        parser.add_argument("--from", dest="date_from")
        parser.add_argument("--to", dest="date_to")
        parser.add_argument("--by", choices=sorted(GROUPINGS))
        parser.add_argument("--unit", help="只统计该机构及其下级机构")
        parser.add_argument("--format", choices=["json", "table"], default="json")

    def handle(self, *args, date_from=None, date_to=None, by=None, unit=None, format="json", **options):
        start = _date(date_from, "--from") if date_from else None
        end = _date(date_to, "--to") if date_to else None
        if start and end and start > end:
            raise CommandError("--from 不能晚于 --to")
        cases = case_period(Case.objects.all(), start, end)
        if unit:
            cases = cases.filter(unit__path__contains=f"/{unit}/")
        result = case_stats(cases, by=by)
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        rows = result["groups"] + [result["total"]]
        widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS]
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
        for r in rows:
            self.stdout.write("  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
