"""Pre-fill: each figure comes from the records through a registered source, with its definition;
a source nobody provides, or one that fails, is 'not available' and never stops the pre-fill."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xiaobao.accounts.models import Role
from xiaobao.assessment import sources
from xiaobao.assessment.models import Indicator
from xiaobao.assessment.services import assessment_create, assessment_prefill, score_set
from xiaobao.assessment.sources import Figure, Source, figure_for
from xiaobao.cases.models import Case
from xiaobao.cases.services import case_create
from xiaobao.conftest import make_user
from xiaobao.education.services import activity_create, plan_save, plan_target_set
from xiaobao.reviews.services import review_items_record, review_respond, review_sign_off, review_submit


@pytest.fixture
def records(tree, alice, clock):
    """2024 in C1: two complaints decided (one late), one forwarded by the regulator; two education
    activities against a plan of 1000; one review signed off with two opinions (one adopted)."""
    received = timezone.make_aware(dt.datetime(2024, 6, 3, 10, 0))
    for channel in ("4008热线", "监管转办"):
        case_create(
            actor=alice,
            unit=tree["C1"],
            kind="投诉",
            channel=channel,
            category="销售纠纷",
            description="销售误导",
            received_at=received,
        )
    # The clocks are what the case services compute; here only their outcome matters.
    Case.objects.filter(channel="4008热线").update(on_time=True)
    Case.objects.filter(channel="监管转办").update(on_time=False)
    for mode, reach in (("线下", 300), ("视频", 900)):
        activity_create(
            actor=alice,
            unit=tree["C1KF"],
            date=dt.date(2024, 3, 15),
            mode=mode,
            title="宣传",
            location="社区" if mode == "线下" else "",
            reach=reach,
        )
    plan = plan_save(actor=alice, unit=tree["C1"], year=2024, title="计划")
    plan_target_set(actor=alice, plan=plan, dimension="mode", key="线下", count=2, reach=1000)

    bob = make_user("bob_c1", tree["C1"], [Role.HANDLER])
    clock.move_to(timezone.make_aware(dt.datetime(2024, 6, 10, 9, 0)))  # reviewed within 2024
    review = review_submit(
        actor=bob,
        unit=tree["C1"],
        title="折页",
        review_type="营销宣传",
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n"),
    )
    items = list(review.items.all())
    entries = {i.pk: ("符合", "") for i in items}
    entries[items[0].pk] = ("有意见", "意见一")
    entries[items[1].pk] = ("有意见", "意见二")
    review_items_record(actor=alice, review=review, entries=entries)
    review_respond(actor=bob, review=review, item_id=items[0].pk, adoption="采纳")
    review_respond(actor=bob, review=review, item_id=items[1].pk, adoption="不采纳", response="理由")
    clock.move_to(timezone.make_aware(dt.datetime(2024, 6, 12, 21, 0)))
    review_sign_off(actor=alice, review=review, outcome="通过")
    clock.move_to(timezone.make_aware(dt.datetime(2025, 1, 15, 9, 0)))


def test_the_figures_come_from_the_records_with_their_source(records, tree):
    c1 = tree["C1"]
    on_time = figure_for("cases.complaint_on_time_rate", c1, 2024)
    assert on_time["available"] and on_time["value"] == 50.0 and on_time["detail"] == "1 / 2 件"
    assert on_time["label"] == "投诉按时办理率" and "15日" in on_time["definition"]
    assert on_time["link"].startswith("/cases/?") and "unit=C1" in on_time["link"]
    assert figure_for("cases.regulator_forwarded", c1, 2024)["value"] == 1
    assert figure_for("cases.complaints", c1, 2023)["value"] == 0
    assert figure_for("education.total_reach", c1, 2024)["value"] == 1200
    assert figure_for("education.plan_completion", c1, 2024)["value"] == 120.0
    assert figure_for("education.offline_events", tree["C2"], 2024)["value"] == 0
    assert figure_for("reviews.done", c1, 2024)["value"] == 1
    assert figure_for("reviews.adoption_rate", c1, 2024)["value"] == 50.0
    assert figure_for("reviews.median_turnaround_days", c1, 2024)["value"] == 2.5


def test_a_source_nobody_provides_is_not_available_with_a_note(db, tree):
    missing = figure_for("kpi.nothing_here", tree["C1"], 2024)
    assert missing == {
        "available": False,
        "source": "kpi.nothing_here",
        "note": "数据来源未接入: xiaobao.kpi 尚未提供该指标，请手工填写",
    }
    assert "未知的数据来源" in figure_for("elsewhere.x", tree["C1"], 2024)["note"]


def test_a_failing_source_is_reported_not_raised(db, tree, monkeypatch):
    def broken(unit, year):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(sources._sources, "test.broken", Source("test.broken", "坏来源", "口径", broken))
    monkeypatch.setattr(sources, "_discovered", True)
    figure = figure_for("test.broken", tree["C1"], 2024)
    assert figure["available"] is False and "ZeroDivisionError" in figure["note"]


def test_registering_a_key_twice_is_an_error(db):
    sources.autodiscover()
    key = next(iter(sources.all_sources()))
    with pytest.raises(ValueError, match="已注册"):
        sources.register(Source(key, "重复", "口径", lambda u, y: Figure(1, "1")))


def test_the_apps_register_their_sources_through_the_hook(db):
    keys = set(sources.all_sources())
    assert {
        "cases.complaint_on_time_rate",
        "cases.regulator_forwarded",
        "education.plan_completion",
        "reviews.adoption_rate",
        "reviews.median_turnaround_days",
    } <= keys


def test_prefill_suggests_scores_and_never_overwrites_a_persons(records, tree, alice, catalogue):
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    scores = {s.indicator.code: s for s in assessment.scores.select_related("indicator")}
    assert scores["DIS-01"].figure["value"] == 50.0
    assert scores["DIS-01"].score == Decimal("5.00") and scores["DIS-01"].prefilled  # 50% of a 100% target
    assert scores["DIS-02"].score == Decimal("0.00")  # one forwarded complaint: 零转办 missed
    assert scores["EDU-01"].score == Decimal("10.00")
    assert scores["GOV-02"].score is None and scores["GOV-02"].figure == {}  # scored by hand
    dis01 = Indicator.objects.get(catalogue=catalogue, code="DIS-01")
    score_set(actor=alice, assessment=assessment, indicator_id=dis01.pk, score="7", comment="核查后调整")
    assessment_prefill(actor=alice, assessment=assessment)
    row = assessment.scores.get(indicator=dis01)
    assert row.score == Decimal("7.00") and not row.prefilled and row.figure["value"] == 50.0
