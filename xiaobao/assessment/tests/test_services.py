from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from xiaobao.accounts.models import Role
from xiaobao.assessment.models import MIN_WEIGHTS, Assessment, Element, Indicator
from xiaobao.assessment.selectors import assessment_comparison, assessment_result
from xiaobao.assessment.services import (
    assessment_create,
    assessment_submit,
    catalogue_create,
    catalogue_weights_set,
    evidence_add,
    indicator_delete,
    indicator_save,
    score_set,
    suggested_score,
    weights_problems,
)

D = Decimal


def test_the_default_catalogue_has_seven_elements_at_their_minimum_weights_or_more(catalogue):
    weights = {w.element: w.weight for w in catalogue.weights.all()}
    assert set(weights) == set(Element.values)
    assert all(weights[e] >= MIN_WEIGHTS[e] for e in Element.values)
    assert sum(weights.values()) == 100
    assert MIN_WEIGHTS == {
        "体制机制": 10,
        "适当性管理": 10,
        "营销行为管理": 25,
        "纠纷化解": 25,
        "金融教育": 10,
        "消费者服务": 5,
        "个人信息保护": 5,
    }
    for element in Element.values:
        assert catalogue.indicators.filter(element=element).exists()
    sources = set(catalogue.indicators.exclude(source="").values_list("source", flat=True))
    assert {
        "cases.complaint_on_time_rate",
        "training.coverage",
        "reviews.done",
        "education.total_reach",
    } - sources == {"education.total_reach"}


def test_weights_must_respect_the_minimums_and_add_up_to_100(catalogue, admin, alice):
    weights = {w.element: w.weight for w in catalogue.weights.all()}
    low = dict(weights, **{"营销行为管理": D(20), "体制机制": D(20)})
    assert "低于监管评价办法规定的最低 25%" in weights_problems(low)[0]
    with pytest.raises(ValidationError, match="合计应为 100%"):
        catalogue_weights_set(actor=admin, catalogue=catalogue, weights=dict(weights, 体制机制=D(20)))
    with pytest.raises(PermissionDenied):
        catalogue_weights_set(actor=alice, catalogue=catalogue, weights=weights)
    moved = dict(weights, 体制机制=D(10), 消费者服务=D(15))
    catalogue_weights_set(actor=admin, catalogue=catalogue, weights=moved)
    assert catalogue.weights.get(element="消费者服务").weight == 15


def test_a_new_year_copies_the_last_one_and_the_catalogue_locks_on_submission(
    catalogue, admin, alice, tree, clock
):
    indicator_save(
        actor=admin, catalogue=catalogue, element="金融教育", code="EDU-09", name="适老化宣传", points=D(5)
    )
    later = catalogue_create(actor=admin, year=2025)
    assert later.indicators.count() == catalogue.indicators.count()
    assert later.indicators.get(code="EDU-09").points == 5
    with pytest.raises(ValidationError, match="已存在"):
        catalogue_create(actor=admin, year=2025)
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    for score in assessment.scores.all():
        score_set(
            actor=alice, assessment=assessment, indicator_id=score.indicator_id, score=score.indicator.points
        )
    assessment_submit(actor=alice, assessment=assessment)
    with pytest.raises(ValidationError, match="已锁定"):
        indicator_save(actor=admin, catalogue=catalogue, element="金融教育", code="EDU-10", name="x")
    indicator_save(
        actor=admin, catalogue=later, element="金融教育", code="EDU-10", name="x"
    )  # 2025 is still open


def test_suggested_scores_follow_the_target_and_direction(catalogue):
    higher = Indicator(points=D(10), target=D(100), direction="higher")
    assert suggested_score(higher, {"value": 93.3}) == D("9.33")
    assert suggested_score(higher, {"value": 120}) == D("10.00")
    assert suggested_score(higher, {"value": None}) is None
    lower = Indicator(points=D(10), target=D(5), direction="lower")
    assert suggested_score(lower, {"value": 3}) == D("10.00")
    assert suggested_score(lower, {"value": 10}) == D("5.00")
    zero = Indicator(points=D(10), target=D(0), direction="lower")
    assert suggested_score(zero, {"value": 0}) == D("10.00") and suggested_score(zero, {"value": 1}) == D(
        "0.00"
    )
    assert suggested_score(Indicator(points=D(10), target=None), {"value": 5}) is None


def test_scores_evidence_submission_and_the_total(catalogue, alice, tree, clock, personas):
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    assert assessment.scores.count() == catalogue.indicators.count()
    with pytest.raises(PermissionDenied):
        assessment_create(actor=personas[(Role.OFFICER, "outside")], unit=tree["C1"], year=2025)
    with pytest.raises(PermissionDenied):
        score_set(actor=personas[(Role.HANDLER, "inside")], assessment=assessment, indicator_id=1, score=1)
    first = catalogue.indicators.get(code="GOV-02")
    with pytest.raises(ValidationError, match="0 到 10 之间"):
        score_set(actor=alice, assessment=assessment, indicator_id=first.pk, score="11")
    with pytest.raises(ValidationError, match="http"):
        evidence_add(
            actor=alice, assessment=assessment, indicator_id=first.pk, label="x", url="javascript:alert(1)"
        )
    with pytest.raises(ValidationError):
        evidence_add(
            actor=alice, assessment=assessment, indicator_id=first.pk, label="x", url="//evil.example"
        )
    evidence_add(
        actor=alice, assessment=assessment, indicator_id=first.pk, label="计划", url="/education/plans/"
    )
    with pytest.raises(ValidationError, match="项指标未评分"):
        assessment_submit(actor=alice, assessment=assessment)
    for score in assessment.scores.select_related("indicator"):
        score_set(
            actor=alice,
            assessment=assessment,
            indicator_id=score.indicator_id,
            score=score.indicator.points * D("0.8"),
        )
    result = assessment_result(assessment)
    assert result["total"] == D("80.00") and result["scored"] == result["count"]
    assert {e["score"] for e in result["elements"]} == {D("80.00")}
    assessment = assessment_submit(actor=alice, assessment=assessment, summary="年度自评")
    assert assessment.status == "已提交"
    with pytest.raises(ValidationError, match="已提交"):
        score_set(actor=alice, assessment=assessment, indicator_id=first.pk, score=10)


def test_year_on_year_matches_elements_and_indicators(catalogue, alice, tree, clock):
    before = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    for score in before.scores.select_related("indicator"):
        score_set(
            actor=alice, assessment=before, indicator_id=score.indicator_id, score=score.indicator.points / 2
        )
    catalogue_create(actor=None, year=2025)
    after = assessment_create(actor=alice, unit=tree["C1"], year=2025)
    for score in after.scores.select_related("indicator"):
        value = (
            score.indicator.points if score.indicator.element == "纠纷化解" else score.indicator.points / 2
        )
        score_set(actor=alice, assessment=after, indicator_id=score.indicator_id, score=value)
    result = assessment_result(after)
    comparison = assessment_comparison(after, result)
    assert comparison["year"] == 2024 and comparison["total"] == D("50.00")
    assert result["total"] == D("62.50") and comparison["change"] == D("12.50")
    disputes = next(e for e in comparison["elements"] if e["element"] == "纠纷化解")
    assert disputes == {"element": "纠纷化解", "previous": D("50.00"), "change": D("50.00")}
    assert comparison["indicators"]["DIS-01"] == D("5.00")
    assert assessment_comparison(before, assessment_result(before)) is None


def test_an_indicator_with_a_score_cannot_be_deleted(catalogue, admin, alice, tree, clock):
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    indicator = catalogue.indicators.get(code="PRI-02")
    score_set(actor=alice, assessment=assessment, indicator_id=indicator.pk, score=5)
    with pytest.raises(ValidationError, match="已有评分"):
        indicator_delete(actor=admin, catalogue=catalogue, indicator_id=indicator.pk)
    other = catalogue.indicators.get(code="PRI-01")
    indicator_delete(actor=admin, catalogue=catalogue, indicator_id=other.pk)
    assert not Indicator.objects.filter(pk=other.pk).exists()
    assert Assessment.objects.get().scores.count() == catalogue.indicators.count()
