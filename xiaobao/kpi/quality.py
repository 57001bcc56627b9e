"""服务质量指数 (service quality index): indicator scores against targets, weighted, and the grade.

Scoring rule (documented on the settings page and in the registry):
- "higher is better" (rates): score = 100 × value ÷ target, at most 100 (target 0 → 100);
- "lower is better" (days, complaint rates): score = 100 when value ≤ target, else 100 × target ÷ value;
- scores are never below 0.
Index = Σ weight × score ÷ Σ weight, over the indicators that have a value for the period; a missing
indicator is left out (and listed), so the index never silently counts it as zero. When the
indicators with a value carry less than half of the total weight, there is no index (null): a grade
built on a few indicators would mislead. The grade follows the 人身险 service evaluation bands,
lower bound included.
"""

from decimal import Decimal

MIN_COVERAGE = 0.5  # share of the total weight that must have values for an index to be given
GRADES = [
    (95, "AAA"),
    (90, "AA"),
    (85, "A"),
    (80, "BBB"),
    (75, "BB"),
    (70, "B"),
    (65, "CCC"),
    (60, "CC"),
    (55, "C"),
]


def grade(index: float | None) -> str | None:
    if index is None:
        return None
    for floor, name in GRADES:
        if index >= floor:
            return name
    return "D"


def score(value, target, direction: str) -> float | None:
    if value is None or target is None:
        return None
    value, target = float(value), float(target)
    if direction == "lower":
        if value <= target:
            return 100.0
        return max(0.0, 100.0 * target / value)
    if target <= 0:
        return 100.0
    return max(0.0, min(100.0, 100.0 * value / target))


def evaluate(indicators: list[dict], kpi_values: dict[str, float | None], manual: dict[str, str]) -> dict:
    """indicators: [{code, name, weight, target, direction, source}] (weights/targets as strings);
    kpi_values: KPI id → value for this period/group; manual: indicator code → entered value."""
    items, weighted, weights, total = [], 0.0, 0.0, 0.0
    for ind in indicators:
        if ind["source"]:
            value = kpi_values.get(ind["source"])
        else:
            raw = manual.get(ind["code"])
            value = float(Decimal(raw)) if raw is not None else None
        s = score(value, ind["target"], ind["direction"])
        weight = float(Decimal(ind["weight"]))
        total += weight
        if s is not None and weight > 0:
            weighted += weight * s
            weights += weight
        items.append(
            {
                "code": ind["code"],
                "name": ind["name"],
                "manual": not ind["source"],
                "value": value,
                "target": float(Decimal(ind["target"])),
                "direction": ind["direction"],
                "weight": weight,
                "score": s,
            }
        )
    coverage = weights / total if total else 0.0
    index = weighted / weights if weights and coverage >= MIN_COVERAGE else None
    return {
        "value": index,
        "numerator": weighted,
        "denominator": weights,
        "coverage": coverage,
        "grade": grade(index),
        "items": items,
    }
