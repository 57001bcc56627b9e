"""xiaobao worker [--once] [--interval SECONDS] [--batch N]: sweep the clocks and send the reminders.

A loop in the style of healthchecks' sendalerts: each step queues what has come due (sweep) and sends
one batch (deliver). SIGTERM or SIGINT lets the current chunk finish, so no reminder is left claimed
and unsent, then the command exits with status 0. Several workers may run at once: rows are claimed
atomically, so each reminder goes out once.
"""

import argparse
import json
import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from xiaobao.cases.reminders import deliver, sweep
from xiaobao.lib.appmodules import app_modules

logger = logging.getLogger(__name__)


def _positive(kind):
    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if number <= 0:
            raise argparse.ArgumentTypeError(f"应为正数, 实际为 {value!r}")
        return number

    return parse


class Command(BaseCommand):
    help = "提醒进程: 定期扫描工单期限, 发送即将到期与超期提醒 (邮件、企业微信/钉钉群机器人、站内通知)"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只运行一轮, 输出 JSON 汇总后退出")
        parser.add_argument(
            "--interval", type=_positive(float), default=60.0, help="两轮之间的间隔秒数 (默认 60)"
        )
        parser.add_argument(
            "--batch", type=_positive(int), default=200, help="每轮最多发送的提醒数 (默认 200)"
        )

    def handle(self, *args, once=False, interval=60.0, batch=200, **options):
        self.stopping = threading.Event()
        if once:
            self.stdout.write(json.dumps(self.step(batch=batch)))
            return
        previous = self._install_handlers()
        try:
            self.stdout.write(f"提醒进程已启动, 每 {interval:g} 秒扫描一次")
            while not self.stopping.is_set():
                self._guarded_step(batch=batch)
                # Event.wait returns as soon as a signal handler sets the event: no sleeping through a stop.
                self.stopping.wait(interval)
            self.stdout.write("收到停止信号, 提醒进程已退出")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def step(self, *, batch: int) -> dict[str, int]:
        """One round: queue what has come due, then send one batch; then each other app's
        `reminders.run()` (found by app_modules), whose counts are added to the summary."""
        queued = sweep()
        delivery = deliver(batch=batch, stop=self.stopping.is_set)
        summary = {"queued": queued, "sent": delivery.sent, "failed": delivery.failed}
        for module in app_modules("reminders"):
            if hasattr(module, "run") and not self.stopping.is_set():  # cases' own module has no run()
                for name, count in module.run().items():
                    summary[name] = summary.get(name, 0) + count
        return summary

    def _guarded_step(self, *, batch: int) -> None:
        # A long-running process outside the request cycle must drop broken or expired connections itself.
        close_old_connections()
        try:
            summary = self.step(batch=batch)
        except Exception:
            # A database restart must not end the worker: log it and try again at the next interval.
            logger.exception("提醒进程: 本轮执行失败, 将在下一轮重试")
            close_old_connections()
            return
        if any(summary.values()):
            self.stdout.write(json.dumps(summary))

    def _install_handlers(self) -> dict:
        def on_signal(signum, frame):
            # Only set the flag: the step in progress finishes its chunk and the loop then ends.
            self.stopping.set()

        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
        return previous
