"""xiaobao governance summary|overdue [--year Y] [--unit CODE]: the year's governance figures, or the open
action items past their due date, as JSON (for the year-end report and for scripts)."""

import json

from django.core.management.base import CommandError
from django.utils import timezone

from xiaobao.governance.models import ActionItem
from xiaobao.governance.selectors import overdue_q, year_figures
from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.org.models import Unit


class Command(XiaobaoCommand):
    help = "消保治理: summary 输出年度数据 (委员会、督办、计划、制度、演练、品质、通报); overdue 列出超期督办事项"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["summary", "overdue"])
        parser.add_argument("--year", type=int, default=None, help="年度 (默认今年)")
        parser.add_argument("--unit", default=None, help="机构代码 (默认根机构), 含下级机构")

    def handle(self, *args, action, year=None, unit=None, **options):
        if unit:
            try:
                scope = Unit.objects.get(code=unit)
            except Unit.DoesNotExist:
                raise CommandError(f"机构 {unit!r} 不存在") from None
        else:
            scope = Unit.objects.filter(parent=None).order_by("path").first()
            if scope is None:
                raise CommandError("系统中还没有机构")
        today = timezone.localdate()
        if action == "summary":
            year = year or today.year
            if not 2000 <= year <= 2100:
                raise CommandError(f"--year: 年度应在 2000 至 2100 之间，实际为 {year}")
            figures = year_figures(year=year, unit=scope)
            self.stdout.write(json.dumps({"year": year, "unit": scope.code, **figures}, ensure_ascii=False))
            return
        items = (
            ActionItem.objects.filter(overdue_q(today), unit__path__startswith=scope.path)
            .select_related("owner", "unit")
            .order_by("due_date", "pk")
        )
        for item in items:
            row = {
                "id": item.pk,
                "title": item.title,
                "owner": item.owner.get_username(),
                "unit": item.unit.code,
                "due_date": item.due_date.isoformat(),
                "days_overdue": (today - item.due_date).days,
            }
            self.stdout.write(json.dumps(row, ensure_ascii=False))
