import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from xiaobao.accounts.models import User
from xiaobao.demo.builders import DEMO_PASSWORD, demo_loaded


class Command(BaseCommand):
    help = "启动演示：建库迁移，首次加载演示数据，在 127.0.0.1 上提供服务并打印登录账号"

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="只准备数据库和演示数据，不启动服务")
        parser.add_argument("--no-worker", action="store_true", help="不启动后台提醒进程 (xiaobao worker)")

    def handle(self, *args, port, seed, workers, no_serve, no_worker=False, **options):
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"数据目录: {settings.DATA_DIR}")
        call_command("migrate", interactive=False, verbosity=0)
        if not demo_loaded():
            self.stdout.write("首次启动，正在生成演示数据……")
            call_command("demo-data", seed=seed, stdout=self.stdout)
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(f"\n小保 消保运营平台已就绪: {url}\n")
        self.stdout.write(f"演示账号 (密码均为 {DEMO_PASSWORD}):")
        for user in User.objects.select_related("unit").order_by("pk")[:12]:
            self.stdout.write(
                f"  {user.username:<12} {' / '.join(user.role_labels()):<16} {user.unit.name if user.unit else ''}"
            )
        self.stdout.write(f"  …… 共 {User.objects.count()} 个账号，见「机构」页面\n")
        if no_serve:
            return
        worker = None
        if not no_worker:
            # The reminder worker runs beside the web server, as it would in production.
            worker = subprocess.Popen([sys.executable, "-m", "xiaobao", "worker", "--interval", "60"])
            self.stdout.write(f"后台提醒进程已启动 (pid {worker.pid})")
        try:
            serve(port=port, workers=workers)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)


def serve(*, port: int, workers: int) -> None:
    """Run gunicorn in this process: a real WSGI server even for the demo."""
    from gunicorn.app.base import BaseApplication

    from xiaobao.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"127.0.0.1:{port}",
                "workers": workers,
                "threads": 4,
                "timeout": 120,
                "accesslog": "-",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    Server().run()
