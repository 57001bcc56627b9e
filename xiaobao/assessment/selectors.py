"""Reads of 消保自评: the self-assessments a user may see, their scores by element, the total score and
the comparison with the unit's previous year."""

from decimal import Decimal

from django.db.models import QuerySet

from xiaobao.accounts import access
from xiaobao.assessment.models import Assessment, Catalogue, Element, Score

CENT = Decimal("0.01")


def assessment_scope(user) -> QuerySet[Assessment]:
    return access.scope(Assessment.objects.select_related("catalogue", "unit"), user)


def assessment_previous(assessment: Assessment) -> Assessment | None:
    return (
        Assessment.objects.filter(unit=assessment.unit, catalogue__year=assessment.year - 1)
        .select_related("catalogue")
        .first()
    )


def assessment_result(assessment: Assessment, scores: list[Score] | None = None) -> dict:
    """Scores per element (0–100) and the weighted total (0–100).

    Element score = Σ indicator scores ÷ Σ indicator points × 100; an unscored indicator counts 0.
    Total = Σ element weight × element score ÷ 100.
    """
    weights = {w.element: w.weight for w in assessment.catalogue.weights.all()}
    if scores is None:
        scores = list(assessment.scores.select_related("indicator"))
    elements = []
    total = Decimal(0)
    for element in Element.values:
        rows = [s for s in scores if s.indicator.element == element]
        points = sum((s.indicator.points for s in rows), Decimal(0))
        earned = sum((s.score for s in rows if s.score is not None), Decimal(0))
        rate = earned / points if points else None
        weight = weights.get(element, Decimal(0))
        weighted = (weight * rate).quantize(CENT) if rate is not None else Decimal(0)
        total += weighted
        elements.append(
            {
                "element": element,
                "weight": weight,
                "points": points,
                "earned": earned,
                "score": (rate * 100).quantize(CENT) if rate is not None else None,
                "weighted": weighted,
                "scored": sum(1 for s in rows if s.score is not None),
                "count": len(rows),
            }
        )
    return {
        "elements": elements,
        "total": total.quantize(CENT),
        "scored": sum(1 for s in scores if s.score is not None),
        "count": len(scores),
        "prefilled": sum(1 for s in scores if s.prefilled),
    }


def assessment_comparison(assessment: Assessment, result: dict) -> dict | None:
    """Year on year: the previous year's total, element scores and indicator scores (matched by code)."""
    previous = assessment_previous(assessment)
    if previous is None:
        return None
    prev_scores = list(previous.scores.select_related("indicator"))
    prev_result = assessment_result(previous, prev_scores)
    by_element = {e["element"]: e for e in prev_result["elements"]}
    elements = []
    for row in result["elements"]:
        before = by_element.get(row["element"])
        change = None
        if before and before["score"] is not None and row["score"] is not None:
            change = row["score"] - before["score"]
        elements.append(
            {"element": row["element"], "previous": before["score"] if before else None, "change": change}
        )
    return {
        "assessment": previous,
        "year": previous.year,
        "total": prev_result["total"],
        "change": result["total"] - prev_result["total"],
        "elements": elements,
        "indicators": {s.indicator.code: s.score for s in prev_scores},
    }


def catalogue_list() -> QuerySet[Catalogue]:
    return Catalogue.objects.prefetch_related("weights").order_by("-year")
