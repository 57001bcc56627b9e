"""The regulatory clocks against China's official calendar, with a frozen clock.

Expected dates come from the State Council's schedules: National Day 2024 (Oct 1–7 off, Sep 29
and Oct 12 worked), Spring Festival 2024 (Feb 10–17 off, Feb 4 and Feb 18 worked), New Year 2025.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from xiaobao.cases.clocks import ClockFacts, compute, end_of_day, met
from xiaobao.lib.workdays import WorkCalendar, add_days, add_workdays

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def complaint(received: str, **kw) -> ClockFacts:
    return ClockFacts(
        kind="投诉",
        channel=kw.pop("channel", "4008热线"),
        urgent=kw.pop("urgent", False),
        received_at=at(received),
        **kw,
    )


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(at("2024-11-15 10:00"), tick=False):
        yield


def test_the_metrics_example_national_day_rolls_to_october_8():
    result = compute(complaint("2024-09-20 09:00"), CAL)
    assert result.due_date == dt.date(2024, 10, 8)
    assert result.rule == "15日, 末日逢节假日顺延"
    assert result.provisional is False


def test_a_make_up_saturday_is_a_working_day_and_does_not_roll():
    result = compute(complaint("2024-09-27 09:00"), CAL)
    assert result.due_date == dt.date(2024, 10, 12)  # a Saturday, worked in lieu
    assert "顺延" not in result.rule


def test_spring_festival_rolls_onto_the_make_up_sunday():
    result = compute(complaint("2024-01-27 15:00"), CAL)
    assert result.due_date == dt.date(2024, 2, 18)  # Feb 11 is in the holiday; Feb 18 (Sunday) was worked


def test_the_day_of_receipt_is_not_counted_even_late_at_night():
    assert compute(complaint("2024-11-01 23:59"), CAL).due_date == dt.date(2024, 11, 16) + dt.timedelta(
        days=2
    )
    assert compute(complaint("2024-11-01 00:01"), CAL).due_date == dt.date(2024, 11, 18)


def test_year_end_crosses_into_the_next_year_and_rolls_past_the_weekend():
    result = compute(complaint("2024-12-20 11:00"), CAL)
    assert result.due_date == dt.date(2025, 1, 6)
    assert result.provisional is False


def test_a_year_the_calendar_does_not_know_is_provisional_and_says_so():
    with time_machine.travel(at("2026-12-21 10:00"), tick=False):
        result = compute(complaint("2026-12-20 11:00"), CAL)
    assert result.due_date == dt.date(2027, 1, 4)  # Monday, by weekends only
    assert result.provisional is True
    assert "尚未公布" in result.rule


def test_an_administrator_confirming_the_year_removes_the_provisional_mark():
    cal = WorkCalendar(overrides={dt.date(2027, 1, 4): False}, confirmed_years=frozenset({2027}))
    result = compute(complaint("2026-12-20 11:00"), cal)
    assert result.due_date == dt.date(2027, 1, 5)
    assert result.provisional is False


def test_an_administrator_override_moves_the_deadline():
    cal = WorkCalendar(overrides={dt.date(2024, 10, 8): False})
    assert compute(complaint("2024-09-20 09:00"), cal).due_date == dt.date(2024, 10, 9)


@pytest.mark.parametrize(
    "level, due, rule",
    [
        (1, dt.date(2024, 10, 21), "30日(已延期), 末日逢节假日顺延"),  # Oct 20 is a Sunday
        (2, dt.date(2024, 11, 19), "60日(已延期)"),
    ],
)
def test_extensions_move_the_decision_deadline(level, due, rule):
    result = compute(complaint("2024-09-20 09:00", extension_level=level), CAL)
    assert (result.due_date, result.rule) == (due, rule)


def test_paused_days_for_external_appraisal_do_not_count():
    pauses = [(dt.date(2024, 9, 23), dt.date(2024, 9, 28))]
    result = compute(complaint("2024-09-20 09:00", pauses=pauses), CAL)
    assert result.paused_days == 5
    assert result.due_date == dt.date(2024, 10, 10)
    assert "暂停5日不计入" in result.rule


def test_an_open_pause_counts_until_today():
    pauses = [(dt.date(2024, 11, 10), None)]
    result = compute(complaint("2024-11-01 09:00", pauses=pauses), CAL)
    assert result.paused_days == 5  # frozen today is 2024-11-15


def test_urgent_tickets_are_due_the_same_working_day():
    assert compute(complaint("2024-10-08 10:00", urgent=True), CAL).response_due_date == dt.date(2024, 10, 8)


def test_urgent_after_hours_is_due_the_next_working_day():
    assert compute(complaint("2024-10-08 18:30", urgent=True), CAL).response_due_date == dt.date(2024, 10, 9)


def test_urgent_on_a_holiday_is_due_the_first_working_day_after():
    assert compute(complaint("2024-10-01 10:00", urgent=True), CAL).response_due_date == dt.date(2024, 10, 8)


def test_an_urgent_friday_evening_ticket_before_a_make_up_saturday():
    # Friday 2024-10-11 after hours; Saturday 2024-10-12 was worked in lieu.
    assert compute(complaint("2024-10-11 19:00", urgent=True), CAL).response_due_date == dt.date(2024, 10, 12)


def test_work_orders_count_working_days_across_national_day():
    facts = ClockFacts(kind="咨询", channel="4008热线", urgent=False, received_at=at("2024-09-27 10:00"))
    result = compute(facts, CAL)
    # Sep 29 (worked Sunday), Sep 30, then Oct 8, 9, 10.
    assert result.due_date == dt.date(2024, 10, 10)
    assert result.response_due_date == dt.date(2024, 9, 29)
    assert result.rule == "咨询: 5个工作日办结"


def test_work_order_targets_are_configurable():
    facts = ClockFacts(
        kind="求助", channel="柜面", urgent=False, received_at=at("2024-09-27 10:00"), target=(2, 3)
    )
    result = compute(facts, CAL)
    assert (result.response_due_date, result.due_date) == (dt.date(2024, 9, 30), dt.date(2024, 10, 8))


def test_regulator_forwarded_complaints_take_the_earlier_clock():
    result = compute(complaint("2024-09-20 09:00", channel="监管转办"), CAL)
    assert result.due_date == dt.date(2024, 9, 25)  # 3 working days beats Oct 8
    assert result.rule.startswith("监管转办简易件3个工作日")
    complex_ = compute(complaint("2024-09-20 09:00", channel="监管转办", regulator_complex=True), CAL)
    assert complex_.due_date == dt.date(2024, 9, 30)  # Sep 23–27, the worked Sunday Sep 29, then Sep 30


def test_on_time_means_at_or_before_24_00_of_the_due_day():
    due = dt.date(2024, 10, 8)
    assert end_of_day(due) == at("2024-10-08 23:59:59.999999")
    assert met(at("2024-10-08 23:59:00"), due) is True
    assert met(at("2024-10-09 00:00:00"), due) is False
    assert met(None, due) is None


def test_workday_helpers_count_from_the_day_after():
    assert add_workdays(CAL, dt.date(2024, 9, 30), 1).date == dt.date(2024, 10, 8)
    assert add_days(CAL, dt.date(2024, 2, 1), 3).date == dt.date(2024, 2, 4)  # Sunday Feb 4 was worked
