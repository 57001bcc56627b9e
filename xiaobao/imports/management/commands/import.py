"""`xiaobao import KIND FILE`: import a core-system, hotline or regulator extract.

Prints exactly one JSON object on stdout (the batch summary), so scripts can read the outcome.
Exit status: 0 when the import ran (rejected rows are in the summary and the error file),
1 when the file was refused as a whole (unreadable, no header, missing columns, invalid profile),
3 when --strict refused the file because of rejected rows. Messages on stderr are Chinese.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from xiaobao.accounts import access
from xiaobao.imports.models import BatchStatus
from xiaobao.imports.registry import importer_kinds
from xiaobao.imports.services import import_run
from xiaobao.lib.commands import Command as XiaobaoCommand

EXIT_REFUSED = 1
EXIT_STRICT = 3
# Characters JSON may carry raw but line-oriented readers split on (NEL, LINE/PARAGRAPH SEPARATOR):
# escaped, so the summary is one physical line even when it quotes a garbled value.
LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class Command(XiaobaoCommand):
    help = "导入数据文件 (.csv / .xlsx), 按自然键新增或更新; 输出一个 JSON 摘要"

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", help="数据类型, 如 units")
        parser.add_argument("file", help="要导入的 .csv 或 .xlsx 文件")
        parser.add_argument("--profile", default="", help="导入配置名 (profiles/<名称>.json)")
        parser.add_argument("--dry-run", action="store_true", help="只校验, 不写入任何数据")
        parser.add_argument("--strict", action="store_true", help="有任何错误行则整个文件不写入")
        parser.add_argument("--sheet", default=None, help="xlsx 的工作表名称 (默认第一个)")
        parser.add_argument("--user", default=None, help="以该用户名义导入 (记录在批次和审计日志中)")

    def handle(self, *args, **options) -> None:
        kind = options["kind"]
        if kind not in importer_kinds():
            raise CommandError(f"未知的导入类型 {kind!r}; 可用的类型: {'、'.join(importer_kinds()) or '无'}")
        actor = None
        if options["user"]:
            try:
                actor = get_user_model().objects.select_related("unit").get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户 {options['user']!r} 不存在") from None
            if not access.can_import(actor):
                raise CommandError(f"用户 {options['user']!r} 无权导入数据")
        batch = import_run(
            kind=kind,
            path=Path(options["file"]),
            actor=actor,
            actor_name="" if actor else "命令行",
            profile=options["profile"],
            dry_run=options["dry_run"],
            strict=options["strict"],
            sheet=options["sheet"],
        )
        self.stdout.write(json.dumps(batch.summary(), ensure_ascii=False, default=str).translate(LINE_BREAKS))
        if batch.status == BatchStatus.FAILED:
            raise CommandError(f"导入失败 (批次 {batch.pk}): {batch.message}", returncode=EXIT_REFUSED)
        if batch.status == BatchStatus.REJECTED:
            raise CommandError(batch.message, returncode=EXIT_STRICT)
