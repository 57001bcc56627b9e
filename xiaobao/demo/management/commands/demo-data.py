import json

from django.core.management.base import BaseCommand

from xiaobao.audit.services import audit_record
from xiaobao.demo.builders import build_demo, demo_loaded


class Command(BaseCommand):
    help = "生成确定性的演示数据：一家虚构分公司，六家中心支公司，约 30 名用户及客户"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--scale", type=float, default=1.0, help="案件数量比例 (测试用，默认 1)")

    def handle(self, *args, seed, scale=1.0, **options):
        if demo_loaded():
            self.stdout.write(
                json.dumps({"loaded": False, "reason": "演示数据已存在，未重复加载"}, ensure_ascii=False)
            )
            return
        counts = build_demo(seed, scale=scale)
        audit_record(action="import", actor_name="demo-data", details={"seed": seed, **counts})
        self.stdout.write(json.dumps({"loaded": True, "seed": seed, **counts}, ensure_ascii=False))
