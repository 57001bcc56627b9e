"""`xiaobao retention [--dry-run] [--as-of DATE] [--format json|table]`: apply the retention rules now."""

import datetime as dt
import json

from django.core.management.base import CommandError

from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.retention.models import RecordClass, RunTrigger
from xiaobao.retention.services import retention_run


class Command(XiaobaoCommand):
    help = (
        "按保存期限规则清理到期数据: xiaobao retention [--dry-run] [--as-of 2026-12-31] [--format json|table]"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只统计将删除的数量, 不做任何修改")
        parser.add_argument("--as-of", help="按该日期计算到期 (YYYY-MM-DD), 默认今天")
        parser.add_argument("--format", choices=["json", "table"], default="json")

    def handle(self, *args, dry_run=False, as_of=None, format="json", **options):
        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"--as-of: 日期格式应为 YYYY-MM-DD, 收到 {as_of!r}") from None
        run = retention_run(trigger=RunTrigger.COMMAND, as_of=day, dry_run=dry_run)
        if format == "json":
            self.stdout.write(
                json.dumps(
                    {"run": run.pk, "day": run.day.isoformat(), "dry_run": dry_run, "results": run.results},
                    ensure_ascii=False,
                )
            )
            return
        verb = "将删除" if dry_run else "已删除"
        for record_class, result in run.results.items():
            label = RecordClass(record_class).label
            days = result.get("keep_days")
            kept = "永久保存" if days is None else f"保存 {days} 天"
            outcome = result.get("error") or f"{verb} {result.get('count', 0)}"
            self.stdout.write(f"{label}\t{kept}\t{outcome}")
