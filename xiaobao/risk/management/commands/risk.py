"""xiaobao risk scan [--as-of DATE] [--format json] [--no-save]: the ring scan, as a JSON object with
`clusters` (id, score, reasons, policy_nos, case_nos, size); the alerts are saved unless --no-save.

xiaobao risk surrenders --period YYYY-MM [--by unit,agent,...] [--format json]: the month's surrender
series and their anomalies (xiaobao.risk.monitor)."""

import dataclasses
import datetime as dt
import json

from django.core.management.base import CommandError
from django.utils import timezone

from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.risk import monitor, rings


class Command(XiaobaoCommand):
    help = "退保风险监测: scan 识别疑似退保黑产团伙; surrenders 输出月度退保序列及异常"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["scan", "surrenders"])
        parser.add_argument("--as-of", default=None, help="扫描基准日 YYYY-MM-DD (默认今天)")
        parser.add_argument("--period", default=None, help="月份 YYYY-MM (surrenders)")
        parser.add_argument("--by", default=None, help=f"维度, 逗号分隔: {','.join(monitor.DIMENSIONS)}")
        parser.add_argument("--format", choices=["json", "text"], default="json")
        parser.add_argument("--no-save", action="store_true", help="只输出, 不保存预警")
        parser.add_argument("--hub-cap", type=int, default=None, help="共享人数超过此值的信息不连边")
        parser.add_argument("--text-threshold", type=float, default=None, help="文本相似度阈值 (0–1)")
        parser.add_argument("--false-alarm-rate", type=float, default=None, help="误报率 (BH 校正)")

    def handle(self, *args, action, format="json", **options):
        if action == "scan":
            result = self._scan(options)
        else:
            result = self._surrenders(options)
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self._text(action, result)

    def _scan(self, options) -> dict:
        as_of = self._date(options["as_of"]) if options["as_of"] else timezone.localdate()
        config = rings.RingConfig()
        changes = {}
        if options["hub_cap"] is not None:
            if options["hub_cap"] < 1:
                raise CommandError("--hub-cap 应为正整数")
            changes["hub_cap"] = options["hub_cap"]
        if options["text_threshold"] is not None:
            if not 0 < options["text_threshold"] <= 1:
                raise CommandError("--text-threshold 应在 0 与 1 之间")
            changes["text_threshold"] = options["text_threshold"]
        config = dataclasses.replace(config, **changes)
        if options["no_save"]:
            from xiaobao.risk.sources import scan_records

            clusters = rings.find_clusters(scan_records(as_of), config)
            return {"as_of": as_of.isoformat(), "clusters": [c.as_json() for c in clusters]}
        from xiaobao.risk.services import scan_run

        result = scan_run(as_of=as_of, config=config)
        return {"as_of": as_of.isoformat(), **result}

    def _surrenders(self, options) -> dict:
        if not options["period"]:
            raise CommandError("surrenders 需要 --period YYYY-MM")
        try:
            period = monitor.parse_period(options["period"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        by = [b.strip() for b in options["by"].split(",") if b.strip()] if options["by"] else None
        config = monitor.MonitorConfig()
        if options["false_alarm_rate"] is not None:
            if not 0 < options["false_alarm_rate"] < 1:
                raise CommandError("--false-alarm-rate 应在 0 与 1 之间")
            config = dataclasses.replace(config, false_alarm_rate=options["false_alarm_rate"])
        try:
            return monitor.surrender_monitor(period, by, config)
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def _date(self, text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD, 实际为 {text!r}") from None

    def _text(self, action: str, result: dict) -> None:
        if action == "scan":
            for c in result["clusters"]:
                self.stdout.write(
                    f"[{c['score']:5.1f}] {c['id']} {c['size']} 条记录, {c['holders']} 位投保人"
                )
                for reason in c["reasons"]:
                    self.stdout.write(f"        - {reason}")
            return
        for alert in result["alerts"]:
            self.stdout.write(alert["explanation"])
        if not result["alerts"]:
            self.stdout.write(f"{result['period']}: 无异常 ({result['tests']} 项检验)")
