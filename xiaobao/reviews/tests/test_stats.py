import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xiaobao.reviews.models import ReviewRequest
from xiaobao.reviews.services import review_items_record, review_respond, review_sign_off
from xiaobao.reviews.stats import review_stats
from xiaobao.reviews.tests.conftest import at, opinions


def stats(*args):
    out = StringIO()
    call_command("reviews", "stats", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def year(submit, alice, bob, clock):
    """Three reviews: signed off after 1 and 3 days, one still open; four opinions answered, one not."""
    first = submit(title="折页")
    review_items_record(actor=alice, review=first, entries=opinions(first, disclosure="补充公司全称"))
    review_respond(actor=bob, review=first, item_id=first.items.get(code="disclosure").pk, adoption="采纳")
    clock.move_to(at("2024-05-07 09:00"))
    review_sign_off(actor=alice, review=first, outcome="通过")

    second = submit(title="话术", review_type="销售话术")
    marks = opinions(
        second, traceable="增加双录提示", no_misleading_returns="删除保本表述", disclosure="补充免责"
    )
    review_items_record(actor=alice, review=second, entries=marks)
    items = {i.code: i.pk for i in second.items.all()}
    review_respond(actor=bob, review=second, item_id=items["traceable"], adoption="部分采纳", response="部分")
    review_respond(
        actor=bob, review=second, item_id=items["no_misleading_returns"], adoption="不采纳", response="沿用"
    )
    review_respond(actor=bob, review=second, item_id=items["disclosure"], adoption="采纳")
    clock.move_to(at("2024-05-10 09:00"))
    review_sign_off(actor=alice, review=second, outcome="不通过")

    third = submit(title="条款", review_type="合同条款")
    review_items_record(actor=alice, review=third, entries=opinions(third, fair_terms="免责条款加粗"))


def test_turnaround_and_adoption_rate(year):
    total = review_stats(ReviewRequest.objects.all())["total"]
    assert (total["submitted"], total["signed_off"], total["open"], total["not_approved"]) == (3, 2, 1, 1)
    assert total["median_days"] == 2.0 and total["mean_days"] == 2.0  # 1 day and 3 days (from 05-07 09:00)
    assert (total["opinions"], total["answered"]) == (5, 4)
    assert (total["adopted"], total["partly_adopted"], total["not_adopted"]) == (2, 1, 1)
    assert total["adoption_rate"] == 0.75 and total["full_adoption_rate"] == 0.5


def test_the_command_groups_by_type_and_month(year):
    result = stats("--year", "2024", "--by", "type")
    groups = {g["key"]: g for g in result["groups"]}
    assert set(groups) == {"营销宣传", "销售话术", "合同条款"}
    assert groups["销售话术"]["adoption_rate"] == round(2 / 3, 4) and groups["营销宣传"]["median_days"] == 1.0
    assert groups["合同条款"]["median_days"] is None and groups["合同条款"]["opinions"] == 1
    assert stats("--year", "2024", "--by", "month")["groups"][0]["key"] == "2024-05"
    assert stats("--year", "2023")["total"]["submitted"] == 0
    assert stats("--year", "2024", "--unit", "C2")["total"]["submitted"] == 0


def test_bad_arguments_are_refused(year):
    with pytest.raises(CommandError, match="不存在"):
        stats("--year", "2024", "--unit", "NOPE")
    with pytest.raises(CommandError, match="同时使用"):
        stats("--year", "2024", "--from", "2024-01-01")
    with pytest.raises(CommandError, match="日期格式"):
        stats("--from", "2024/01/01")
