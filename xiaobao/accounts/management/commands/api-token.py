from django.core.management.base import CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from xiaobao.accounts.models import User
from xiaobao.audit.services import audit_record
from xiaobao.lib.commands import Command as XiaobaoCommand


class Command(XiaobaoCommand):
    help = "API 令牌: xiaobao api-token USERNAME [--reset] 打印该用户的令牌 (没有则创建; --reset 作废旧令牌)"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true", help="作废旧令牌并签发新令牌")

    def handle(self, *args, username, reset=False, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"找不到用户 {username!r}") from None
        if not user.is_active:
            raise CommandError(f"用户 {username!r} 已停用，不能签发令牌")
        with transaction.atomic():
            if reset:
                Token.objects.filter(user=user).delete()
            token, created = Token.objects.get_or_create(user=user)
            if created:
                # The token is a password for the API: who got one, and when, belongs in the audit log.
                audit_record(
                    action="update",
                    obj=user,
                    unit=user.unit,
                    actor_name="xiaobao api-token",
                    details={"api_token": "reset" if reset else "issued"},
                )
        # Only the key on stdout, so that a script can capture it.
        self.stdout.write(token.key)
