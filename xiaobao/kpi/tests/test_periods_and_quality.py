import datetime as dt

import pytest

from xiaobao.kpi.periods import PeriodError, containing, parse_period, window
from xiaobao.kpi.quality import evaluate, grade, score

D = dt.date


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("2024", D(2024, 1, 1), D(2024, 12, 31)),
        ("2024Q3", D(2024, 7, 1), D(2024, 9, 30)),
        ("2024q1", D(2024, 1, 1), D(2024, 3, 31)),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29)),
        ("2024-7", D(2024, 7, 1), D(2024, 7, 31)),
    ],
)
def test_periods(text, start, end):
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)
    assert p.day_before == start - dt.timedelta(days=1)


@pytest.mark.parametrize("text", ["", "24", "2024Q0", "2024Q5", "2024-13", "2024-00", "2024/07", "全年"])
def test_bad_periods_are_refused_in_chinese(text):
    with pytest.raises(PeriodError, match="期间格式应为"):
        parse_period(text)


def test_persistency_cohorts_are_calendar_months():
    assert parse_period("2024").cohort(13) == (D(2022, 12, 1), D(2023, 11, 30))
    assert parse_period("2024").cohort(25) == (D(2021, 12, 1), D(2022, 11, 30))
    assert parse_period("2024Q3").cohort(13) == (D(2022, 9, 1), D(2023, 8, 31))
    assert parse_period("2024-03").cohort(13) == (D(2022, 3, 1), D(2023, 2, 28))


def test_months_windows_and_fallbacks():
    assert [m.code for m in parse_period("2024Q2").months()] == ["2024-04", "2024-05", "2024-06"]
    w = window(parse_period("2024-03"), 12)
    assert (w.start, w.end, len(w.months())) == (D(2023, 4, 1), D(2024, 3, 31), 12)
    assert containing(parse_period("2024-08")) == ["2024-08", "2024Q3", "2024"]
    assert containing(parse_period("2024Q4")) == ["2024Q4", "2024"]


@pytest.mark.parametrize(
    "index, expected",
    [
        (100, "AAA"),
        (95, "AAA"),
        (94.99, "AA"),
        (90, "AA"),
        (85, "A"),
        (80, "BBB"),
        (75, "BB"),
        (70, "B"),
        (65, "CCC"),
        (60, "CC"),
        (55, "C"),
        (54.99, "D"),
        (0, "D"),
        (None, None),
    ],
)
def test_grades(index, expected):
    assert grade(index) == expected


def test_scoring_against_targets():
    assert score(0.98, "0.98", "higher") == 100
    assert score(0.49, "0.98", "higher") == 50
    assert score(1.2, "1", "higher") == 100  # capped
    assert score(8, "10", "lower") == 100
    assert score(20, "10", "lower") == 50
    assert score(None, "10", "lower") is None


def test_the_index_weights_available_indicators_and_needs_half_the_weight():
    indicators = [
        {"code": "a", "name": "A", "weight": "60", "target": "1", "direction": "higher", "source": "x"},
        {"code": "b", "name": "B", "weight": "40", "target": "10", "direction": "lower", "source": ""},
    ]
    both = evaluate(indicators, {"x": 0.9}, {"b": "20"})
    assert both["value"] == pytest.approx((60 * 90 + 40 * 50) / 100) and both["grade"] == "B"
    only_a = evaluate(indicators, {"x": 0.9}, {})
    assert only_a["value"] == pytest.approx(90) and only_a["denominator"] == 60
    only_b = evaluate(indicators, {"x": None}, {"b": "5"})
    assert only_b["value"] is None and only_b["coverage"] == pytest.approx(0.4)
