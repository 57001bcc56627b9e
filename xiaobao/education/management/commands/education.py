"""`xiaobao education stats --year Y [--unit CODE] [--format json|table]`: the year's education figures."""

import json

from django.core.management.base import CommandError

from xiaobao.education.models import Activity, Plan
from xiaobao.education.selectors import activity_in_unit, plan_in_unit
from xiaobao.education.stats import education_stats
from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.org.models import Unit


class Command(XiaobaoCommand):
    help = "金融教育统计: xiaobao education stats --year Y [--unit CODE] [--format json|table]"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stats"])
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--unit", help="只统计该机构及其下级机构")
        parser.add_argument("--format", choices=["json", "table"], default="json")

    def handle(self, *args, year, unit=None, format="json", **options):
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year: 年度无效: {year}")
        activities = Activity.objects.all()
        plans = Plan.objects.all()
        if unit:
            if not Unit.objects.filter(code=unit).exists():
                raise CommandError(f"--unit: 机构 {unit!r} 不存在")
            activities = activity_in_unit(activities, unit)
            plans = plan_in_unit(plans, unit)
        result = education_stats(activities, year=year, plans=plans)
        result["unit"] = unit or None
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(f"{year} 年金融教育 ({unit or '全部机构'})")
        self.stdout.write(f"{'形式':<8}{'次数':>8}{'触达人数':>12}{'目标次数':>10}{'目标触达':>12}")
        for mode, row in result["modes"].items():
            self.stdout.write(
                f"{mode:<8}{row['count']:>8}{row['reach']:>12}"
                f"{row['target_count'] if row['target_count'] is not None else '—':>10}"
                f"{row['target_reach'] if row['target_reach'] is not None else '—':>12}"
            )
        self.stdout.write(
            f"线下活动 {result['offline_events']} 场，触达 {result['offline_reach']} 人; "
            f"视频 {result['videos']} 部，原创文章 {result['case_articles']} 篇, "
            f"宣传稿件 {result['published_pieces']} 篇，媒体报道 {result['media_reports']} 次, "
            f"线上触达 {result['online_reach']} 人"
        )
