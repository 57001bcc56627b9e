"""Where the backup passphrase comes from: XIAOBAO_BACKUP_PASSPHRASE, else the terminal, else exit 2."""

import getpass
import os
import sys

from django.core.management.base import CommandError

ENV = "XIAOBAO_BACKUP_PASSPHRASE"
MIN_LENGTH = 8


def get_passphrase(*, confirm: bool) -> str:
    value = os.environ.get(ENV)
    if value:
        passphrase = value
    elif sys.stdin.isatty():
        passphrase = getpass.getpass("备份口令: ")
        if confirm and getpass.getpass("再次输入备份口令: ") != passphrase:
            raise CommandError("两次输入的备份口令不一致", returncode=2)
    else:
        raise CommandError(
            f"未提供备份口令: 请设置环境变量 {ENV}, 或在终端中交互运行以输入口令", returncode=2
        )
    if confirm and len(passphrase) < MIN_LENGTH:
        raise CommandError(f"备份口令太短: 至少 {MIN_LENGTH} 个字符", returncode=2)
    if not passphrase:
        raise CommandError("备份口令不能为空", returncode=2)
    return passphrase
