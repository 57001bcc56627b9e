"""`xiaobao reviews stats`: 消保审查 volumes, turnaround time and adoption rate."""

import datetime as dt
import json

from django.core.management.base import CommandError

from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.org.models import Unit
from xiaobao.reviews.models import ReviewRequest
from xiaobao.reviews.selectors import review_in_unit
from xiaobao.reviews.stats import GROUPINGS, review_period, review_stats

COLUMNS = ["key", "submitted", "signed_off", "open", "median_days", "mean_days", "opinions", "adoption_rate"]


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name}: 日期格式应为 YYYY-MM-DD, 实际为 {value!r}") from None


class Command(XiaobaoCommand):
    help = (
        "消保审查统计: xiaobao reviews stats [--year Y | --from D --to D] [--unit CODE] "
        "[--by type|unit|month] [--format json|table]"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stats"])
        parser.add_argument("--year", type=int)
        parser.add_argument("--from", dest="date_from")
        parser.add_argument("--to", dest="date_to")
        parser.add_argument("--by", choices=sorted(GROUPINGS))
        parser.add_argument("--unit", help="只统计该机构及其下级机构")
        parser.add_argument("--format", choices=["json", "table"], default="json")

    def handle(
        self, *args, year=None, date_from=None, date_to=None, by=None, unit=None, format="json", **options
    ):
        start = _date(date_from, "--from") if date_from else None
        end = _date(date_to, "--to") if date_to else None
        if year is not None:
            if start or end:
                raise CommandError("--year 不能与 --from/--to 同时使用")
            if not 2000 <= year <= 2100:
                raise CommandError(f"--year: 年度无效: {year}")
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        if start and end and start > end:
            raise CommandError("--from 不能晚于 --to")
        reviews = review_period(ReviewRequest.objects.all(), start, end)
        if unit:
            if not Unit.objects.filter(code=unit).exists():
                raise CommandError(f"--unit: 机构 {unit!r} 不存在")
            reviews = review_in_unit(reviews, unit)
        result = review_stats(reviews, by=by)
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        rows = result["groups"] + [result["total"]]
        widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS]
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
        for r in rows:
            self.stdout.write("  ".join(str(r[c]).ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
