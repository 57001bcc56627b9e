import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.education.models import Activity, PlanTarget, ReachLimit
from xiaobao.education.services import (
    DEFAULT_REACH_LIMIT,
    activity_update,
    campaign_normalize,
    evidence_add_file,
    evidence_add_link,
    plan_save,
    plan_target_set,
    reach_limit_for,
    reach_limit_set,
)


def test_an_activity_is_numbered_and_audited(make_activity, alice):
    first = make_activity()
    second = make_activity(mode="视频", location="", title="短视频：什么是犹豫期")
    assert first.activity_no == "JY20240315-001" and second.activity_no == "JY20240315-002"
    assert first.created_by == alice
    entry = AuditEntry.objects.get(object_type="education.activity", object_id=str(first.pk))
    assert entry.action == "create" and entry.unit_code == "C1" and entry.details["reach"] == 300


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reach": -5}, "reach", "不能为负数"),
        ({"location": ""}, "location", "线下活动必须填写地点"),
        ({"date": dt.date(2024, 12, 21)}, "date", "不能晚于今天"),
        ({"cost": Decimal("-1")}, "cost", "不能为负数"),
        ({"mode": "直播"}, "mode", "未知的活动形式"),
        ({"audience": "学生"}, "audience", "未知的受众"),
        ({"title": " "}, "title", "请填写主题"),
    ],
)
def test_bad_facts_are_refused_and_nothing_is_saved(make_activity, changes, field, message):
    with pytest.raises(ValidationError) as info:
        make_activity(**changes)
    assert message in " ".join(info.value.message_dict[field])
    assert not Activity.objects.exists()


def test_a_reach_above_the_region_population_is_absurd(make_activity, tree, personas):
    admin = personas[(Role.ADMIN, "outside")]
    assert reach_limit_for(tree["C1"]) == DEFAULT_REACH_LIMIT
    with pytest.raises(ValidationError, match="系统默认"):
        make_activity(reach=DEFAULT_REACH_LIMIT + 1)
    reach_limit_set(actor=admin, unit=tree["BR"], population=5_000_000, note="省人口")
    reach_limit_set(actor=admin, unit=tree["C1"], population=80_000, note="甲市人口")
    assert reach_limit_for(tree["C1KF"]) == 80_000  # the nearest unit above with a limit
    assert reach_limit_for(tree["C2"]) == 5_000_000
    with pytest.raises(ValidationError, match="超过 甲中心支公司 辖区人口上限 80000"):
        make_activity(reach=80_001)
    assert make_activity(reach=80_000).reach == 80_000


def test_only_the_administrator_sets_reach_limits(tree, alice):
    with pytest.raises(PermissionDenied):
        reach_limit_set(actor=alice, unit=tree["C1"], population=1000)
    assert not ReachLimit.objects.exists()


def test_writers_only_and_only_in_their_scope(make_activity, personas):
    with pytest.raises(PermissionDenied):
        make_activity(actor=personas[(Role.AUDITOR, "inside")])
    with pytest.raises(PermissionDenied):
        make_activity(actor=personas[(Role.OFFICER, "outside")])
    assert make_activity(actor=personas[(Role.HANDLER, "inside")]).pk


def test_an_update_follows_the_same_rules_and_records_old_and_new(make_activity, alice):
    activity = make_activity()
    with pytest.raises(ValidationError):
        activity_update(actor=alice, activity=activity, reach=-1)
    activity = activity_update(actor=alice, activity=activity, reach=450, campaign="3.15")
    assert activity.reach == 450 and activity.campaign == "3·15"
    entry = AuditEntry.objects.filter(action="update", object_type="education.activity").get()
    assert entry.details == {"reach": ["300", "450"]}


def test_campaign_spellings_meet_on_one_name():
    assert campaign_normalize(" 3.15 ") == "3·15"
    assert campaign_normalize("315") == "3·15"
    assert campaign_normalize("守住“钱袋子”") == "守住钱袋子"
    assert campaign_normalize("金融知识万里行") == "金融知识万里行"
    assert campaign_normalize(None) == ""


def test_evidence_files_are_sniffed_and_hashed_links_must_be_http(make_activity, alice):
    activity = make_activity()
    photo = evidence_add_file(
        actor=alice, activity=activity, upload=SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff\xe0 photo")
    )
    assert photo.content_type == "image/jpeg" and len(photo.sha256) == 64 and photo.size == 10
    with pytest.raises(ValidationError, match="网页或脚本"):
        evidence_add_file(
            actor=alice, activity=activity, upload=SimpleUploadedFile("x.jpg", b"<html><script>1</script>")
        )
    with pytest.raises(ValidationError, match="http"):
        evidence_add_link(actor=alice, activity=activity, url="javascript:alert(1)")
    link = evidence_add_link(
        actor=alice, activity=activity, url="https://mp.weixin.qq.com/s/abc", label="推文"
    )
    assert link.original_name == "推文"
    assert activity.evidence.count() == 2


def test_a_plan_is_one_per_unit_and_year_with_targets(tree, alice):
    plan = plan_save(actor=alice, unit=tree["C1"], year=2024, title="2024年度金融教育计划")
    again = plan_save(actor=alice, unit=tree["C1"], year=2024, title="2024年度金融教育计划 (修订)")
    assert again.pk == plan.pk and again.title.endswith("(修订)")
    plan_target_set(actor=alice, plan=plan, dimension="mode", key="线下", count=10, reach=3000)
    plan_target_set(actor=alice, plan=plan, dimension="mode", key="线下", count=12, reach=3500)
    plan_target_set(actor=alice, plan=plan, dimension="campaign", key="3.15", count=3, reach=None)
    assert list(PlanTarget.objects.values_list("dimension", "key", "count", "reach")) == [
        ("campaign", "3·15", 3, None),
        ("mode", "线下", 12, 3500),
    ]
    with pytest.raises(ValidationError, match="形式应为"):
        plan_target_set(actor=alice, plan=plan, dimension="mode", key="直播", count=1, reach=None)
    with pytest.raises(ValidationError, match="至少填写"):
        plan_target_set(actor=alice, plan=plan, dimension="audience", key="老年人", count=None, reach=None)
