"""The demo's 2024 branch year gives exactly the seed summary's education figures, as computed by
`xiaobao education stats` from the activity records."""

import json
from io import StringIO

from django.core.management import call_command

from xiaobao.education.models import Activity, Plan
from xiaobao.education.tests.demo_support import TODAY, build_branch

# 交银人寿青岛分公司 2024 年消保年终总结: "年度共举办线下金融教育活动18场，触及消费者约9500人。……
# 推动制作6部金融教育相关视频, …原创“以案说险”4篇，发布原创宣传稿件24篇，媒体报道52次，线上触及消费者约25000人。"
SEED = {
    "offline_events": 18,
    "offline_reach": 9500,
    "videos": 6,
    "case_articles": 4,
    "published_pieces": 24,
    "media_reports": 52,
    "online_reach": 25000,
}


def stats(*args):
    out = StringIO()
    call_command("education", "stats", *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_the_2024_branch_year_reproduces_the_seed_summary(db):
    build_branch()
    result = stats("--year", "2024", "--unit", "8637")
    assert {name: result[name] for name in SEED} == SEED
    assert result["modes"]["线下"]["count"] == 18 and result["modes"]["线下"]["reach"] == 9500
    online = sum(result["modes"][m]["reach"] for m in ("视频", "原创文章", "宣传稿件", "媒体报道"))
    assert online == 25000
    # The figures are sums over records: every offline event has a place and people, every activity a unit.
    year = Activity.objects.filter(date__year=2024)
    assert year.count() == 18 + 6 + 4 + 24 + 52
    assert not year.filter(mode="线下", location="").exists()
    assert not year.filter(reach__lte=0).exists()
    assert set(year.exclude(campaign="").values_list("campaign", flat=True)) == {
        "3·15",
        "金融教育宣传周",
        "守住钱袋子",
        "金融知识万里行",
    }
    assert year.exclude(audience="").values("audience").distinct().count() >= 4
    assert result["plan"]["plans"] == [{"unit": "8637", "title": "2024年度金融教育宣传计划"}]
    assert all(row["target_count"] for row in result["modes"].values())
    # Later years carry on up to today, each with a plan.
    assert Activity.objects.filter(date__year=2025).count() > 50
    assert not Activity.objects.filter(date__gt=TODAY).exists()
    assert set(Plan.objects.values_list("year", flat=True)) == {2024, 2025, 2026}
