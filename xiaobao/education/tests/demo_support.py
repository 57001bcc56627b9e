"""The demo branch with the education, review and self-assessment records, for tests.

build_demo() runs each app's demo.py once the demo builder discovers them (DemoContext); until then
the three modules are called here with an equivalent context (units and users by code and name)."""

import datetime as dt
import random
from types import SimpleNamespace

from xiaobao.accounts.models import User
from xiaobao.demo.builders import build_demo
from xiaobao.education.models import Activity
from xiaobao.org.models import Unit

TODAY = dt.date(2026, 11, 28)


def build_branch(seed: int = 2024, *, today: dt.date = TODAY, scale: float = 0.05) -> dict:
    summary = build_demo(seed, today=today, scale=scale)
    if not Activity.objects.exists():
        from xiaobao.assessment import demo as assessment_demo
        from xiaobao.education import demo as education_demo
        from xiaobao.reviews import demo as reviews_demo

        ctx = SimpleNamespace(
            rng=random.Random(seed),
            today=today,
            scale=scale,
            units={u.code: u for u in Unit.objects.all()},
            users={u.username: u for u in User.objects.select_related("unit")},
        )
        for module in (education_demo, reviews_demo, assessment_demo):
            summary.update(module.build(ctx))
    return summary
