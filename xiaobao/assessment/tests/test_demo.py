"""The demo's reviews and self-assessments: a 2024 self-assessment pre-filled from the demo's own
records and submitted, the next year compared with it, and review figures that trace to records."""

import datetime as dt

from xiaobao.assessment.models import Assessment
from xiaobao.assessment.selectors import assessment_comparison, assessment_result
from xiaobao.education.tests.demo_support import build_branch
from xiaobao.reviews.models import ReviewRequest
from xiaobao.reviews.stats import review_period, review_stats


def test_the_demo_branch_has_reviews_and_a_2024_self_assessment(db):
    build_branch()
    year = review_stats(
        review_period(ReviewRequest.objects.all(), dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    )
    total = year["total"]
    assert total["submitted"] >= 10 and total["signed_off"] == total["submitted"]
    assert total["rereviews"] >= 1 and 0.5 < total["adoption_rate"] <= 1
    assert 0 < total["median_days"] < 10
    assert ReviewRequest.objects.filter(status="审查中", items__result="有意见", items__adoption="").exists()
    for review in ReviewRequest.objects.filter(status="已签批"):
        assert review.reviewed_sha256 == review.documents.order_by("-version").first().sha256

    first = Assessment.objects.select_related("catalogue", "unit").get(
        catalogue__year=2024, unit__code="8637"
    )
    assert first.status == "已提交" and first.submitted_at.date() == dt.date(2025, 1, 20)
    result = assessment_result(first)
    assert result["scored"] == result["count"] and 60 < result["total"] <= 100
    figures = {s.indicator.code: s.figure for s in first.scores.select_related("indicator")}
    assert figures["EDU-01"]["value"] == 115.0  # 34,500 reached against the plan's 30,000
    assert figures["EDU-02"]["display"] == "18 场"
    assert figures["DIS-02"]["value"] == 0  # 零转办 in 2024
    assert figures["MKT-01"]["value"] == total["signed_off"]
    assert first.scores.filter(evidence__isnull=False).exists()

    second = Assessment.objects.get(catalogue__year=2025, unit__code="8637")
    comparison = assessment_comparison(second, assessment_result(second))
    assert comparison["year"] == 2024 and comparison["total"] == result["total"]
    current = Assessment.objects.get(catalogue__year=2026, unit__code="8637")
    assert current.status == "进行中" and current.scores.filter(score=None).exists()
