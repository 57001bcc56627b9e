import datetime as dt
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.education.models import Activity, Plan, PlanTarget, ReachLimit


@pytest.fixture
def logged_in(client, alice, clock):
    client.force_login(alice)
    return client


def test_the_register_lists_the_years_activities_in_scope_only(logged_in, make_activity, client, personas):
    mine = make_activity(title="保险知识进校园")
    make_activity(title="去年的活动", date=dt.date(2023, 5, 1))
    page = logged_in.get(reverse("education-index")).content.decode()
    assert mine.activity_no in page and "去年的活动" not in page
    assert (
        "保险知识进校园"
        in logged_in.get(reverse("education-index"), {"year": "2024", "q": "校园"}).content.decode()
    )
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert mine.activity_no not in client.get(reverse("education-index")).content.decode()
    assert client.get(reverse("education-detail", args=[mine.pk])).status_code == 404


def test_the_register_runs_a_constant_number_of_queries(logged_in, make_activity):
    make_activity()
    with CaptureQueriesContext(connection) as one:
        assert logged_in.get(reverse("education-index")).status_code == 200
    for i in range(20):
        make_activity(title=f"第 {i} 场讲座")
    with CaptureQueriesContext(connection) as many:
        assert logged_in.get(reverse("education-index")).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def form_data(**kw):
    data = {
        "unit": "C1",
        "date": "2024-06-15",
        "mode": "线下",
        "campaign": "守住钱袋子",
        "title": "金融知识下乡",
        "location": "甲市某村村委会",
        "audience": "农村居民",
        "reach": "260",
        "cost": "800",
    }
    data.update(kw)
    return data


def test_the_form_records_an_activity(logged_in):
    response = logged_in.post(reverse("education-new"), form_data())
    activity = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "education-detail", args=[activity.pk]
    )
    assert (activity.reach, activity.audience, str(activity.cost)) == (260, "农村居民", "800.00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reach": "-1"}, "确保该值大于或等于0"),
        ({"location": ""}, "线下活动必须填写地点"),
        ({"reach": "30000000"}, "辖区人口上限"),
        ({"unit": "C2"}, "选择一个有效的选项"),
    ],
)
def test_bad_input_is_a_400_with_the_reason(logged_in, changes, message):
    response = logged_in.post(reverse("education-new"), form_data(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Activity.objects.exists()


def test_edit_changes_the_facts(logged_in, make_activity):
    activity = make_activity()
    response = logged_in.post(reverse("education-edit", args=[activity.pk]), form_data(reach="999"))
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.reach == 999 and activity.title == "金融知识下乡"


def test_evidence_photo_and_link(logged_in, make_activity):
    activity = make_activity()
    upload = SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n-photo-")
    assert (
        logged_in.post(reverse("education-evidence-upload", args=[activity.pk]), {"file": upload}).status_code
        == 302
    )
    evidence = activity.evidence.get()
    response = logged_in.get(reverse("education-evidence-download", args=[activity.pk, evidence.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    bad = logged_in.post(
        reverse("education-evidence-link", args=[activity.pk]), {"url": "javascript:alert(1)"}
    )
    assert bad.status_code == 400 and "http" in bad.content.decode()
    good = logged_in.post(
        reverse("education-evidence-link", args=[activity.pk]),
        {"url": "https://example.com/a", "label": "推文"},
    )
    assert good.status_code == 302
    page = logged_in.get(reverse("education-detail", args=[activity.pk])).content.decode()
    assert "现场.png" in page and 'href="https://example.com/a"' in page


def test_the_stats_page_charts_by_month_without_inline_script(logged_in, make_activity):
    make_activity(reach=321)
    make_activity(mode="视频", location="", reach=1000)
    response = logged_in.get(reverse("education-stats"), {"year": "2024"})
    page = response.content.decode()
    data = json.loads(
        re.search(r'<script id="education-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert data["count"][2] == 321 and data["closed"][2] == 1000 and len(data["labels"]) == 12
    assert re.findall(r"<script(?![^>]*(src=|application/json))", page) == []
    assert logged_in.get(reverse("education-stats"), {"year": "abc"}).status_code == 200


def test_a_plan_with_targets_shows_progress(logged_in, make_activity):
    response = logged_in.post(
        reverse("education-plans"), {"unit": "C1", "year": "2024", "title": "甲中支 2024 计划", "notes": ""}
    )
    plan = Plan.objects.get()
    assert response["Location"] == reverse("education-plan-detail", args=[plan.pk])
    target_url = reverse("education-plan-target", args=[plan.pk])
    assert (
        logged_in.post(
            target_url, {"dimension": "mode", "key": "线下", "count": "2", "reach": "1000"}
        ).status_code
        == 302
    )
    bad = logged_in.post(target_url, {"dimension": "mode", "key": "直播", "count": "1"})
    assert bad.status_code == 400 and "形式应为" in bad.content.decode()
    make_activity(reach=400)
    page = logged_in.get(reverse("education-plan-detail", args=[plan.pk])).content.decode()
    assert '<progress max="1000" value="400">' in page
    target = PlanTarget.objects.get()
    # Through another plan's address the target is neither deleted nor said to be.
    other = logged_in.post(
        reverse("education-plans"), {"unit": "C1", "year": "2025", "title": "甲中支 2025 计划", "notes": ""}
    )
    assert other.status_code == 302
    other_plan = Plan.objects.exclude(pk=plan.pk).get()
    wrong = logged_in.post(reverse("education-plan-target-delete", args=[other_plan.pk, target.pk]))
    assert wrong.status_code == 404 and "已删除目标" not in wrong.content.decode()
    assert PlanTarget.objects.filter(pk=target.pk).exists()
    logged_in.post(reverse("education-plan-target-delete", args=[plan.pk, target.pk]))
    assert not PlanTarget.objects.exists()


def test_only_the_administrator_sets_limits(client, personas, tree, clock):
    client.force_login(personas[(Role.OFFICER, "inside")])
    assert client.post(reverse("education-limits"), {"unit": "C1", "population": "100"}).status_code == 403
    client.force_login(personas[(Role.ADMIN, "outside")])
    response = client.post(
        reverse("education-limits"), {"unit": "C1", "population": "9400000", "note": "甲市"}
    )
    assert response.status_code == 302
    limit = ReachLimit.objects.get()
    assert (limit.unit.code, limit.population) == ("C1", 9_400_000)
    assert "9,400,000" in client.get(reverse("education-limits")).content.decode()
    client.post(reverse("education-limits"), {"delete": str(limit.pk)})
    assert not ReachLimit.objects.exists()
