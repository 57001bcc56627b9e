"""`xiaobao report yearend|complaints|committee …`: the reports, written from records.

xiaobao report yearend --year 2024 [--unit CODE] [--snapshot ID] [--pdf] -o FILE.docx
xiaobao report complaints --quarter 2024Q4 [--unit CODE] [--snapshot ID] -o FILE.xlsx
xiaobao report committee --month 2024-11 [--unit CODE] -o FILE.docx|FILE.xlsx
"""

import re
import time
from pathlib import Path

from django.core.management.base import CommandError

from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.org.models import Unit
from xiaobao.reports.models import ReportKind
from xiaobao.reports.services import EXTENSIONS, pdf_from_docx, report_write

PERIODS = {
    ReportKind.YEAREND: ("year", re.compile(r"^\d{4}$"), "--year 2024"),
    ReportKind.COMPLAINTS: ("quarter", re.compile(r"^\d{4}Q[1-4]$"), "--quarter 2024Q4"),
    ReportKind.COMMITTEE: ("month", re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "--month 2024-11"),
}


class Command(XiaobaoCommand):
    help = (
        "生成报告: xiaobao report yearend --year 2024 [--unit CODE] -o FILE.docx (另有 complaints, committee)"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[k.value for k in ReportKind])
        parser.add_argument("--year", help="年度总结的年度, 如 2024")
        parser.add_argument("--quarter", help="季度投诉统计的季度, 如 2024Q4")
        parser.add_argument("--month", help="委员会月度材料的月份, 如 2024-11")
        parser.add_argument("--unit", help="机构代码 (含下级机构); 默认最上级机构")
        parser.add_argument("--snapshot", type=int, help="按已有指标快照重现 (不再冻结新快照)")
        parser.add_argument("--pdf", action="store_true", help="另存 PDF (需安装 LibreOffice)")
        parser.add_argument("-o", "--output", required=True, help="输出文件 (.docx / .xlsx)")

    def handle(self, *args, kind, unit=None, snapshot=None, pdf=False, output, **options):
        name, pattern, example = PERIODS[kind]
        period = options.get(name)
        if not period or not pattern.match(period):
            raise CommandError(f"{kind} 需要 {example}")
        target = Path(output)
        fmt = target.suffix.lstrip(".").lower()
        if fmt not in EXTENSIONS[kind]:
            raise CommandError(f"-o: {kind} 只能输出 {' / '.join('.' + e for e in EXTENSIONS[kind])}")
        if snapshot is not None and kind == ReportKind.COMMITTEE:
            raise CommandError("--snapshot 只用于 yearend 和 complaints")
        if unit:
            found = Unit.objects.filter(code=unit).first()
            if found is None:
                raise CommandError(f"--unit: 机构 {unit!r} 不存在")
        else:
            found = Unit.objects.filter(parent=None).order_by("code").first()
            if found is None:
                raise CommandError("系统中还没有机构")
        started = time.perf_counter()
        try:
            used = report_write(
                kind=kind, period=period, unit=found, target=target, fmt=fmt, snapshot_id=snapshot
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        seconds = time.perf_counter() - started
        cited = f", 指标快照 #{used.pk}" if used is not None else ""
        self.stdout.write(f"{target} ({found.code} {found.name}, {period}{cited}, {seconds:.2f} s)")
        if pdf:
            made = pdf_from_docx(target) if fmt == "docx" else None
            self.stdout.write(f"PDF: {made}" if made else "PDF: 未安装 LibreOffice (soffice), 未生成 PDF")
