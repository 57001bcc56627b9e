import json
from pathlib import Path

from django.core.management.base import CommandError

from xiaobao.backup.archive import restore_backup
from xiaobao.backup.crypto import BackupError
from xiaobao.backup.passphrase import ENV, get_passphrase
from xiaobao.lib.commands import Command as XiaobaoCommand


class Command(XiaobaoCommand):
    help = (
        "从备份恢复: 先完整解密并校验, 再整体替换数据库与数据目录 (全部成功或全部不变); "
        f"口令取自 {ENV}, 否则在终端输入. 恢复前请停止 Web 服务与 worker"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="备份文件")

    def handle(self, *args, file, **options):
        passphrase = get_passphrase(confirm=False)
        try:
            summary = restore_backup(file, passphrase)
        except BackupError as exc:
            raise CommandError(f"{exc}; 未做任何更改") from None
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
