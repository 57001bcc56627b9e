import json
from pathlib import Path

from django.core.management.base import CommandError

from xiaobao.backup.archive import create_backup
from xiaobao.backup.crypto import BackupError
from xiaobao.backup.passphrase import ENV, get_passphrase
from xiaobao.lib.commands import Command as XiaobaoCommand


class Command(XiaobaoCommand):
    help = (
        "备份: 数据库 (原生转储), 数据目录 (Parquet 存储、佐证文件、导入错误文件) 与演示模式下的密钥, "
        f"加密写入 FILE (口令取自 {ENV}, 否则在终端输入)"
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, type=Path, help="备份文件路径")

    def handle(self, *args, output, **options):
        passphrase = get_passphrase(confirm=True)
        try:
            manifest = create_backup(output, passphrase)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        summary = {
            "file": str(output.resolve()),
            "bytes": output.stat().st_size,
            "created_at": manifest["created_at"],
            "database": manifest["database"]["vendor"],
            "tables": len(manifest["database"]["tables"]),
            "rows": sum(manifest["database"]["tables"].values()),
            "files": len(manifest["files"]) - 1,
            "keys_included": manifest["keys"]["included"],
            "keys_note": manifest["keys"]["note"],
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
