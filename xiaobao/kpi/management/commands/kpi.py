"""xiaobao kpi: the KPI set for a period, as JSON keyed by KPI id or as a table; snapshots.

xiaobao kpi --period 2024|2024Q3|2024-07 [--unit CODE] [--by channel|product|agent|month|…]
            [--format json|table] [--backend duckdb|spark] [--freeze]
xiaobao kpi --recompute SNAPSHOT_ID [--format json|table]
xiaobao kpi --compare A B
xiaobao kpi --snapshots
"""

import json

from django.core.management.base import CommandError

from xiaobao.kpi import engine, selectors, services
from xiaobao.kpi.backends import BACKENDS
from xiaobao.kpi.expressions import GROUPINGS
from xiaobao.kpi.models import KpiSnapshot
from xiaobao.kpi.periods import PeriodError, parse_period
from xiaobao.kpi.registry import REGISTRY, format_value
from xiaobao.kpi.sources import MissingVersion
from xiaobao.lib.commands import Command as XiaobaoCommand


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


class Command(XiaobaoCommand):
    help = "指标: xiaobao kpi --period 2024|2024Q3|2024-07 [--unit CODE] [--by channel|product|agent|month] [--format json|table] [--freeze]"

    def add_arguments(self, parser):
        parser.add_argument("--period", help="2024、2024Q3 或 2024-07")
        parser.add_argument("--unit", help="机构代码：该机构及其下级机构 (默认全公司)")
        parser.add_argument("--by", choices=GROUPINGS, help="分组")
        parser.add_argument("--format", choices=["json", "table"], default="json")
        parser.add_argument(
            "--backend", choices=BACKENDS, help="计算引擎 (默认 XIAOBAO_ANALYTICS_BACKEND 或 duckdb)"
        )
        parser.add_argument(
            "--freeze", action="store_true", help="冻结为快照 (记录数据版本、导入批次和工单截止时间)"
        )
        parser.add_argument(
            "--recompute", type=int, metavar="ID", help="按快照记录的数据版本重算，另存为新快照"
        )
        parser.add_argument("--compare", type=int, nargs=2, metavar=("A", "B"), help="比较两个快照")
        parser.add_argument("--snapshots", action="store_true", help="列出快照")

    def handle(
        self,
        *args,
        period=None,
        unit=None,
        by=None,
        format="json",
        backend=None,
        freeze=False,
        recompute=None,
        compare=None,
        snapshots=False,
        **options,
    ):
        if snapshots:
            return self._list()
        if compare:
            return self._compare(*compare, format)
        if recompute is not None:
            snapshot = self._snapshot(recompute)
            try:
                fresh = services.snapshot_recompute(actor=None, snapshot=snapshot, backend=backend)
            except MissingVersion as exc:
                raise CommandError(
                    f"快照 #{snapshot.pk} 所用的数据版本 {exc.table} {exc.version} 已被清理，无法重算"
                ) from None
            self.stderr.write(f"已按快照 #{snapshot.pk} 的数据版本重算，另存为快照 #{fresh.pk}")
            return self._print(fresh.results, format, header=self._header_snapshot(fresh))
        if not period:
            raise CommandError("请用 --period 指定期间 (2024、2024Q3 或 2024-07)")
        try:
            parsed = parse_period(period)
        except PeriodError as exc:
            raise CommandError(str(exc)) from None
        from xiaobao.org.models import Unit

        unit_obj = None
        if unit:
            unit_obj = Unit.objects.filter(code=unit).first()
            if unit_obj is None:
                raise CommandError(f"未找到机构代码 “{unit}”")
        if freeze:
            snapshot = services.snapshot_freeze(
                actor=None, period=parsed, unit=unit_obj, by=by, backend=backend
            )
            self.stderr.write(f"已冻结为快照 #{snapshot.pk}")
            return self._print(snapshot.results, format, header=self._header_snapshot(snapshot))
        run = engine.compute(period=parsed, unit=unit_obj, by=by, backend=backend)
        header = (
            f"期间 {parsed.code} ({parsed.start} 至 {parsed.end}) · 机构 {unit or '全公司'} · "
            f"引擎 {run.backend} · 用时 {run.seconds:.2f} 秒"
        )
        return self._print(engine.to_json(run.results), format, header=header)

    def _snapshot(self, pk: int) -> KpiSnapshot:
        snapshot = KpiSnapshot.objects.select_related("unit").filter(pk=pk).first()
        if snapshot is None:
            raise CommandError(f"未找到快照 #{pk}")
        return snapshot

    def _header_snapshot(self, s: KpiSnapshot) -> str:
        unit = s.unit.code if s.unit else "全公司"
        return f"快照 #{s.pk} · 期间 {s.period} · 机构 {unit} · 数据版本 {s.store_versions} · 工单截止 {s.cases_cutoff:%Y-%m-%d %H:%M:%S}"

    def _print(self, results: dict, format: str, *, header: str) -> None:
        if format == "json":
            self.stdout.write(json.dumps(results, ensure_ascii=False, indent=2))
            return
        self.stdout.write(header)
        rows = [("指标", "代码", "数值", "分子", "分母")]
        for kpi, entry in results.items():
            label = REGISTRY[kpi].label() if kpi in REGISTRY else kpi
            rows.append(
                (
                    label,
                    kpi,
                    format_value(kpi, entry["value"]),
                    _number(entry["numerator"]),
                    _number(entry["denominator"]),
                )
            )
            for g in entry.get("groups") or []:
                key = "(未知)" if g["key"] is None else g["key"]
                rows.append(
                    (
                        f"  {key}",
                        "",
                        format_value(kpi, g["value"]),
                        _number(g["numerator"]),
                        _number(g["denominator"]),
                    )
                )
        widths = [max(_width(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            self.stdout.write("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())

    def _list(self) -> None:
        for s in KpiSnapshot.objects.select_related("unit").order_by("pk"):
            unit = s.unit.code if s.unit else "全公司"
            origin = f" ← #{s.recomputed_from_id}" if s.recomputed_from_id else ""
            self.stdout.write(
                f"#{s.pk}  {s.period}  {unit}  {s.by or '-'}  {s.computed_at:%Y-%m-%d %H:%M}{origin}"
            )

    def _compare(self, a: int, b: int, format: str) -> None:
        diff = selectors.snapshot_compare(self._snapshot(a), self._snapshot(b))
        if format == "json":
            out = {
                "changed": {
                    r["id"]: {
                        "a": r["a"].get("value"),
                        "b": r["b"].get("value"),
                        "fields": r["changed"],
                        "groups": r["groups"],
                    }
                    for r in diff["changed"]
                },
                "versions": diff["versions"],
                "cases_changed": diff["cases_changed"],
                "parameters_changed": diff["parameters_changed"],
            }
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"快照 #{a} 与 #{b}: {len(diff['changed'])} 项指标不同")
        for t, (x, y) in diff["versions"].items():
            self.stdout.write(f"  数据版本 {t}: {x or '—'}{'' if x == y else ' → ' + (y or '—')}")
        self.stdout.write(
            f"  工单数据{'已变化' if diff['cases_changed'] else '相同'}; 计算参数{'不同' if diff['parameters_changed'] else '相同'}"
        )
        for r in diff["changed"]:
            self.stdout.write(f"  {r['label']} ({r['id']}): {r['a_display']} → {r['b_display']}")
            for g in r["groups"]:
                self.stdout.write(f"    {g['key']}: {g['a']} → {g['b']}")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))
