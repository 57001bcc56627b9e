"""The regulatory clocks of a case, as ../shared/domain/metrics.md defines them.

- Complaint decision: 15 days from receipt (the day of receipt not counted, 民法典 Art. 201); a last
  day off rolls to the next working day (Art. 203). Extensions: 30 days, then 30 more (60 at most).
  Paused days (external appraisal) do not count.
- Urgent: a response the same working day (after hours or on a day off: the next working day).
- Other work orders: company targets in working days, per kind and channel.
- Regulator-forwarded: the regulator's working-day deadline runs too; the earlier one governs.

Every result carries the rule that produced it, in Chinese, and whether it is provisional (the
official calendar of a year involved is not known yet).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from xiaobao.lib.workdays import WorkCalendar, add_days, add_workdays, same_workday, workdays_between

DECISION_DAYS = {0: 15, 1: 30, 2: 60}
REVIEW_DAYS = 30  # 核查: the upper-level unit decides within 30 days of the written request
REGULATOR_WORKDAYS = {False: 3, True: 7}  # simple / complex, as seen in regulators' forwarding letters
OFFICE_OPENS = dt.time(8, 30)
OFFICE_CLOSES = dt.time(17, 30)
DEFAULT_TARGET = (1, 5)  # response, resolution, in working days
PROVISIONAL_NOTE = "所涉年份的法定节假日尚未公布, 暂按周末推算"


@dataclass(frozen=True)
class ClockFacts:
    kind: str
    channel: str
    urgent: bool
    received_at: dt.datetime
    extension_level: int = 0
    pauses: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)
    regulator_complex: bool = False
    target: tuple[int, int] | None = None  # (response, resolution) working days for non-complaints
    today: dt.date | None = None
    review_requested_at: dt.datetime | None = None  # 核查 requested: its own 30-day clock governs


@dataclass(frozen=True)
class ClockResult:
    due_date: dt.date
    rule: str
    provisional: bool
    response_due_date: dt.date | None
    paused_days: int


def paused_days(pauses: list[tuple[dt.date, dt.date | None]], today: dt.date) -> int:
    return sum(max(0, ((end or today) - start).days) for start, end in pauses)


def compute(facts: ClockFacts, cal: WorkCalendar) -> ClockResult:
    received = timezone.localtime(facts.received_at).date()
    local_time = timezone.localtime(facts.received_at).time()
    after_hours = not (OFFICE_OPENS <= local_time < OFFICE_CLOSES)
    today = facts.today or timezone.localdate()
    paused = paused_days(facts.pauses, today)

    response = None
    if facts.urgent:
        response = same_workday(cal, received, after_hours)

    if facts.review_requested_at is not None:
        review_day = timezone.localtime(facts.review_requested_at).date()
        due = add_days(
            cal,
            review_day,
            REVIEW_DAYS + paused_days([(s, e) for s, e in facts.pauses if s >= review_day], today),
        )
        parts = [f"核查{REVIEW_DAYS}日 (自{review_day:%Y-%m-%d}申请次日起算)"]
        if due.rolled:
            parts.append("末日逢节假日顺延")
        if due.provisional:
            parts.append(PROVISIONAL_NOTE)
        return ClockResult(due.date, ", ".join(parts), due.provisional, None, paused)
    if facts.kind == "投诉":
        limit = DECISION_DAYS[min(facts.extension_level, 2)]
        due = add_days(cal, received, limit + paused)
        parts = [f"{limit}日" + ("(已延期)" if facts.extension_level else "")]
        if paused:
            parts.append(f"暂停{paused}日不计入")
        if due.rolled:
            parts.append("末日逢节假日顺延")
    else:
        response_days, resolution_days = facts.target or DEFAULT_TARGET
        if response is None:
            response = add_workdays(cal, received, response_days)
        due = add_workdays(cal, received, resolution_days + _workdays_in(cal, facts.pauses, today))
        parts = [f"{facts.kind}: {resolution_days}个工作日办结"]
        if paused:
            parts.append(f"暂停{paused}日不计入")

    provisional = due.provisional or bool(response and response.provisional)
    if facts.channel == "监管转办":
        reg_days = REGULATOR_WORKDAYS[facts.regulator_complex]
        reg = add_workdays(cal, received, reg_days)
        provisional |= reg.provisional
        if reg.date < due.date:
            parts = [
                f"监管转办{'复杂件' if facts.regulator_complex else '简易件'}{reg_days}个工作日 (早于{parts[0]}期限)"
            ]
            due = reg
        else:
            parts.append(f"监管时限{reg_days}个工作日不早于此")
    if provisional:
        parts.append(PROVISIONAL_NOTE)
    return ClockResult(
        due_date=due.date,
        rule=", ".join(parts),
        provisional=provisional,
        response_due_date=response.date if response else None,
        paused_days=paused,
    )


def _workdays_in(cal: WorkCalendar, pauses, today: dt.date) -> int:
    return sum(workdays_between(cal, start, end or today) for start, end in pauses)


def end_of_day(day: dt.date) -> dt.datetime:
    """A period ends at 24:00 of its last day, in the configured time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)) - dt.timedelta(
        microseconds=1
    )


def met(done_at: dt.datetime | None, due: dt.date | None) -> bool | None:
    if done_at is None or due is None:
        return None
    return done_at <= end_of_day(due)
