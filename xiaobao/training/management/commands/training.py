"""xiaobao training coverage [--year Y] [--unit CODE] [--untrained]: the year's training coverage of all
staff, by unit and by role, as one JSON object (with --untrained, the people not yet trained)."""

import json

from django.core.management.base import CommandError
from django.utils import timezone

from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.org.models import Unit
from xiaobao.training.selectors import coverage, untrained


def _tally(t) -> dict:
    return {"label": t.label, "code": t.code, "staff": t.staff, "trained": t.trained, "rate": t.rate}


class Command(XiaobaoCommand):
    help = "员工培训: coverage 输出年度培训覆盖率 (按机构、按角色), --untrained 列出未参训人员"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["coverage"])
        parser.add_argument("--year", type=int, default=None, help="年度 (默认今年)")
        parser.add_argument("--unit", default=None, help="机构代码 (默认根机构), 含下级机构")
        parser.add_argument("--untrained", action="store_true", help="同时列出未参训人员")

    def handle(self, *args, action, year=None, unit=None, **options):
        year = year or timezone.localdate().year
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year: 年度应在 2000 至 2100 之间，实际为 {year}")
        if unit:
            scope = Unit.objects.filter(code=unit).first()
            if scope is None:
                raise CommandError(f"机构 {unit!r} 不存在")
        else:
            scope = Unit.objects.filter(parent=None).order_by("path").first()
            if scope is None:
                raise CommandError("系统中还没有机构")
        result = coverage(unit=scope, year=year)
        out = {
            "year": year,
            "unit": scope.code,
            "total": _tally(result.total),
            "units": [_tally(t) for t in result.units],
            "roles": [_tally(t) for t in result.roles],
        }
        if options.get("untrained"):
            out["untrained"] = [
                {"username": u.username, "name": u.display_name, "unit": u.unit.code}
                for u in untrained(unit=scope, year=year)
            ]
        self.stdout.write(json.dumps(out, ensure_ascii=False))
