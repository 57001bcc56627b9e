import json

from xiaobao.audit.models import AuditEntry
from xiaobao.audit.services import audit_verify
from xiaobao.lib.commands import Command as XiaobaoCommand


class Command(XiaobaoCommand):
    help = "审计日志: verify 校验哈希链是否完整 (发现篡改、删除或重排时以非零状态退出)"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, format, **options):
        problems = audit_verify()
        total = AuditEntry.objects.count()
        if format == "json":
            self.stdout.write(
                json.dumps({"entries": total, "ok": not problems, "problems": problems}, ensure_ascii=False)
            )
        elif problems:
            for p in problems:
                self.stdout.write(f"位置 {p['seq']}: {p['message']}")
        else:
            self.stdout.write(f"审计日志完整：共 {total} 条记录，哈希链校验通过")
        if problems:
            raise SystemExit(1)
