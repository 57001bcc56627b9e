"""The demo branch with the education, review and self-assessment records, for tests.

The core demo (units, users, cases) is built as `xiaobao demo-data` builds it; then only these three
apps' demo modules run, with the same DemoContext, so the tests do not depend on every other app's
demo (the full build runs them all, in INSTALLED_APPS order)."""

import datetime as dt
import random

from xiaobao.accounts.models import User
from xiaobao.demo.builders import DemoContext, build_demo
from xiaobao.org.models import Unit

TODAY = dt.date(2026, 11, 28)


def build_branch(seed: int = 2024, *, today: dt.date = TODAY, scale: float = 0.05) -> dict:
    from xiaobao.assessment import demo as assessment_demo
    from xiaobao.education import demo as education_demo
    from xiaobao.reviews import demo as reviews_demo

    summary = build_demo(seed, today=today, scale=scale, with_apps=False)
    ctx = DemoContext(
        seed=seed,
        rng=random.Random(seed),
        today=today,
        units={u.code: u for u in Unit.objects.all()},
        users={u.username: u for u in User.objects.select_related("unit")},
        scale=scale,
    )
    for module in (education_demo, reviews_demo, assessment_demo):
        summary.update(module.build(ctx))
    return summary
