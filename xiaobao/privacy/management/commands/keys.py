import os

from django.conf import settings
from django.core.management.base import CommandError

from xiaobao.lib.commands import Command as XiaobaoCommand
from xiaobao.privacy import keys
from xiaobao.privacy.services import master_key_rotate


class Command(XiaobaoCommand):
    help = "字段加密主密钥: generate 生成新密钥; rotate 轮换主密钥 (重新包裹所有数据密钥)"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["generate", "rotate", "fingerprint"])
        parser.add_argument(
            "--new-key", help="新主密钥 (base64/hex); 默认读取 XIAOBAO_FIELD_KEY_NEW, 演示模式下自动生成"
        )

    def handle(self, *args, action, new_key=None, **options):
        if action == "generate":
            self.stdout.write(keys.encode_key(keys.new_key()))
            return
        if action == "fingerprint":
            self.stdout.write(keys.key_id(keys.master_key()))
            return
        text = new_key or os.environ.get("XIAOBAO_FIELD_KEY_NEW")
        if text:
            key = keys.decode_key(text, "--new-key")
        elif settings.FIELD_KEY:
            raise CommandError("请用 --new-key 或 XIAOBAO_FIELD_KEY_NEW 提供新主密钥")
        else:
            key = keys.new_key()
        count = master_key_rotate(new_key=key)
        if not settings.FIELD_KEY:
            path = settings.FIELD_KEY_FILE
            backup = path.with_suffix(".key.previous")
            backup.write_text(path.read_text())
            backup.chmod(0o600)
            path.write_text(keys.encode_key(key))
            self.stdout.write(f"已轮换 {count} 个密钥；新主密钥已写入 {path}, 旧密钥备份在 {backup}")
        else:
            self.stdout.write(f"已轮换 {count} 个密钥；请立即把 XIAOBAO_FIELD_KEY 改为新密钥后重启服务")
        keys.clear_caches()
