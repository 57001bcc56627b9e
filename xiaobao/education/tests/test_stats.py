import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaobao.accounts.models import Role
from xiaobao.education.services import plan_save, plan_target_set


def stats(*args):
    out = StringIO()
    call_command("education", "stats", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def year(make_activity, tree, alice, personas):
    admin = personas[(Role.ADMIN, "outside")]  # C2 and the branch are outside alice's scope
    make_activity(reach=300)  # 3·15, 老年人, C1
    make_activity(date=dt.date(2024, 9, 20), campaign="金融教育宣传周", audience="青少年", reach=500)
    make_activity(unit=tree["C1KF"], mode="视频", location="", campaign="", audience="", reach=2000)
    make_activity(
        actor=admin, unit=tree["C2"], mode="媒体报道", location="", campaign="3.15", audience="", reach=7000
    )
    make_activity(mode="原创文章", location="", title="以案说险", audience="", reach=900)
    make_activity(mode="宣传稿件", location="", date=dt.date(2023, 12, 31), reach=50)  # another year
    branch = plan_save(actor=admin, unit=tree["BR"], year=2024, title="分公司计划")
    plan_target_set(actor=admin, plan=branch, dimension="mode", key="线下", count=4, reach=1000)
    plan_target_set(actor=admin, plan=branch, dimension="mode", key="视频", count=2, reach=None)
    plan_target_set(actor=admin, plan=branch, dimension="audience", key="农村居民", count=1, reach=200)
    central = plan_save(actor=alice, unit=tree["C1"], year=2024, title="甲中支计划")
    plan_target_set(actor=alice, plan=central, dimension="mode", key="线下", count=2, reach=600)


def test_the_json_gives_each_mode_and_the_headline_figures(year):
    result = stats("--year", "2024")
    assert result["modes"]["线下"] == {
        "count": 2,
        "reach": 800,
        "target_count": 4,
        "target_reach": 1000,
        "count_rate": 0.5,
        "reach_rate": 0.8,
    }
    assert {m: (v["count"], v["reach"]) for m, v in result["modes"].items()} == {
        "线下": (2, 800),
        "视频": (1, 2000),
        "原创文章": (1, 900),
        "宣传稿件": (0, 0),
        "媒体报道": (1, 7000),
    }
    headline = {k: result[k] for k in ("offline_events", "offline_reach", "online_reach", "videos")}
    assert headline == {"offline_events": 2, "offline_reach": 800, "online_reach": 9900, "videos": 1}
    assert (result["case_articles"], result["published_pieces"], result["media_reports"]) == (1, 0, 1)
    assert result["total_reach"] == 10700 and result["activities"] == 5
    # Only the branch's plan counts: the central sub-branch's plan is inside it.
    assert result["plan"]["plans"] == [{"unit": "BR", "title": "分公司计划"}]


def test_by_month_campaign_and_audience_against_the_plan(year):
    result = stats("--year", "2024")
    march = result["by_month"][2]
    assert march == {
        "key": "2024-03",
        "count": 4,
        "reach": 10200,
        "offline_reach": 300,
        "online_reach": 9900,
        "cumulative_reach": 10200,
    }
    assert result["by_month"][-1]["cumulative_reach"] == 10700
    campaigns = {row["key"]: (row["count"], row["reach"]) for row in result["by_campaign"]}
    assert campaigns == {"3·15": (3, 8200), "金融教育宣传周": (1, 500), "(未归属活动)": (1, 2000)}
    audiences = {
        row["key"]: (row["count"], row["reach"], row["target_reach"]) for row in result["by_audience"]
    }
    assert audiences["农村居民"] == (0, 0, 200)  # a target with nothing done yet still shows
    assert audiences["老年人"][:2] == (1, 300) and audiences["青少年"][:2] == (1, 500)
    assert audiences["(未注明受众)"][:2] == (3, 9900)


def test_one_unit_compares_with_its_own_plan(year):
    result = stats("--year", "2024", "--unit", "C1")
    assert result["unit"] == "C1"
    assert result["offline_events"] == 2 and result["online_reach"] == 2900
    assert result["modes"]["线下"]["target_reach"] == 600
    assert stats("--year", "2023")["published_pieces"] == 1


def test_bad_arguments_are_refused(year):
    with pytest.raises(CommandError, match="不存在"):
        stats("--year", "2024", "--unit", "NOPE")
    with pytest.raises(CommandError, match="年度无效"):
        stats("--year", "1900")


def test_the_table_format_prints_the_headline(year):
    out = StringIO()
    call_command("education", "stats", "--year", "2024", "--format", "table", stdout=out)
    assert "线下活动 2 场，触达 800 人" in out.getvalue()
