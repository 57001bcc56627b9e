import pytest
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.assessment.models import Assessment, Catalogue, EvidenceLink
from xiaobao.assessment.services import assessment_create, catalogue_create, score_set


@pytest.fixture
def as_alice(client, alice, clock):
    client.force_login(alice)
    return client


def test_an_officer_starts_a_years_assessment_and_sees_the_sources(as_alice, catalogue):
    response = as_alice.post(reverse("assessment-index"), {"year": "2024", "unit": "C1"})
    assessment = Assessment.objects.get()
    assert response["Location"] == reverse("assessment-detail", args=[assessment.pk])
    page = as_alice.get(response["Location"]).content.decode()
    assert "投诉按时办理率" in page and "[cases.complaint_on_time_rate]" in page  # label, key and definition
    assert "[kpi.complaints_per_100m_premium]" in page  # whether provided or not, the source is named
    again = as_alice.post(reverse("assessment-index"), {"year": "2024", "unit": "C1"})
    assert again.status_code == 400 and "已存在" in again.content.decode()
    missing = as_alice.post(reverse("assessment-index"), {"year": "2030", "unit": "C1"})
    assert missing.status_code == 400 and "尚未建立" in missing.content.decode()


def test_scoring_and_evidence_through_the_page(as_alice, alice, tree, catalogue):
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    indicator = catalogue.indicators.get(code="GOV-02")
    url = reverse("assessment-score", args=[assessment.pk, indicator.pk])
    bad = as_alice.post(url, {"score": "12", "comment": ""})
    assert bad.status_code == 400 and "得分应在 0 到 10 之间" in bad.content.decode()
    response = as_alice.post(url, {"score": "9.5", "comment": "计划经委员会审议"})
    assert response["Location"].endswith("#ind-GOV-02")
    assert assessment.scores.get(indicator=indicator).score == 9.5
    evidence = reverse("assessment-evidence", args=[assessment.pk, indicator.pk])
    assert as_alice.post(evidence, {"label": "x", "url": "javascript:alert(1)"}).status_code == 400
    assert as_alice.post(evidence, {"label": "计划", "url": "/education/plans/"}).status_code == 302
    assert EvidenceLink.objects.get().url == "/education/plans/"
    page = as_alice.get(reverse("assessment-detail", args=[assessment.pk])).content.decode()
    assert 'href="/education/plans/"' in page and "计划经委员会审议" in page


def test_submission_is_refused_until_every_indicator_is_scored(as_alice, alice, tree, catalogue):
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    response = as_alice.post(
        reverse("assessment-submit", args=[assessment.pk]), {"summary": "x"}, follow=True
    )
    assert "项指标未评分" in response.content.decode()
    for score in assessment.scores.select_related("indicator"):
        score_set(
            actor=alice, assessment=assessment, indicator_id=score.indicator_id, score=score.indicator.points
        )
    as_alice.post(reverse("assessment-submit", args=[assessment.pk]), {"summary": "全年自评"})
    assessment.refresh_from_db()
    assert assessment.status == "已提交" and assessment.summary == "全年自评"
    page = as_alice.get(reverse("assessment-detail", args=[assessment.pk])).content.decode()
    assert reverse("assessment-prefill", args=[assessment.pk]) not in page
    assert 'data-testid="assessment-total">100.00<' in page


def test_the_year_on_year_column_appears_with_a_previous_year(as_alice, alice, tree, catalogue):
    before = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    for score in before.scores.select_related("indicator"):
        score_set(
            actor=alice, assessment=before, indicator_id=score.indicator_id, score=score.indicator.points / 2
        )
    catalogue_create(actor=None, year=2025)
    after = assessment_create(actor=alice, unit=tree["C1"], year=2025)
    page = as_alice.get(reverse("assessment-detail", args=[after.pk])).content.decode()
    assert "较 2024 年 (50.00 分)" in page


def test_outsiders_and_read_only_roles(client, personas, alice, tree, catalogue, clock):
    assessment = assessment_create(actor=alice, unit=tree["C1"], year=2024)
    client.force_login(personas[(Role.OFFICER, "outside")])
    assert client.get(reverse("assessment-detail", args=[assessment.pk])).status_code == 404
    client.force_login(personas[(Role.AUDITOR, "inside")])
    page = client.get(reverse("assessment-detail", args=[assessment.pk])).content.decode()
    assert "保存得分" not in page


def test_the_administrator_edits_the_catalogue(client, admin, catalogue, alice):
    client.force_login(alice)
    assert client.post(reverse("assessment-catalogue", args=[2024]), {"form": "weights"}).status_code == 403
    client.force_login(admin)
    url = reverse("assessment-catalogue", args=[2024])
    weights = {f"w{i}": w for i, w in enumerate(["15", "10", "20", "30", "10", "10", "5"])}
    bad = client.post(url, {"form": "weights", **weights})
    assert bad.status_code == 400 and "低于监管评价办法规定的最低 25%" in bad.content.decode()
    weights["w2"], weights["w3"] = "25", "25"
    assert client.post(url, {"form": "weights", **weights}).status_code == 302
    new = {
        "form": "indicator",
        "element": "金融教育",
        "code": "EDU-09",
        "name": "适老化宣传",
        "points": "5",
        "source": "education.total_reach",
        "target": "",
        "direction": "higher",
        "order": "30",
        "criteria": "",
    }
    assert client.post(url, new).status_code == 302
    assert catalogue.indicators.get(code="EDU-09").source == "education.total_reach"
    assert client.post(reverse("assessment-catalogues"), {"year": "2025"}).status_code == 302
    assert Catalogue.objects.get(year=2025).indicators.filter(code="EDU-09").exists()
    page = client.get(url).content.decode()
    assert "education.total_reach" in page and "已接入的预填来源" in page
