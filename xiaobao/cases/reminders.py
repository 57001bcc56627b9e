"""到期提醒 (reminders): the worker's sweep of the clocks and the delivery of the reminders it queues.
The outbox itself (claiming, digests, retries) is xiaobao.lib.outbox, shared with governance's 督办.

Two steps, both safe with several workers running at once:
- `sweep()` queues one Reminder row per (case, threshold, deadline). The unique constraint on those
  three columns makes a duplicate impossible, so concurrent sweeps simply insert with ignore_conflicts.
- `deliver()` claims pending rows one at a time with UPDATE … WHERE status='pending' (healthchecks'
  sendalerts): exactly one worker sees "one row changed", and only that worker sends.

Channels: email through Django's `send_mail` (only when XIAOBAO_SMTP_URL configures a real backend), the
WeCom and DingTalk group bots (群机器人), and the in-app Notification list. Group bots get one digest per
chunk of reminders rather than one message each: both allow only 20 messages a minute per bot, and
DingTalk then blocks the bot for 10 minutes.

While a row is 'sending', its `sent_at` holds the moment it was claimed. A row still 'sending' after
SENDING_TIMEOUT belongs to a worker that died mid-send, and the next sweep hands it back to pending.
A reminder whose clock has moved on by the time it is sent (decided, paused, extended, answered) is
'cancelled' instead of sent.

Messages are in Chinese, the site language: a worker has no request, hence no user language to follow.
"""

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils import timezone

from xiaobao.accounts.models import Role, User
from xiaobao.cases.models import (
    UNDECIDED_STATUSES,
    Case,
    Notification,
    Reminder,
    ReminderThreshold,
    work_calendar,
)
from xiaobao.cases.selectors import overdue_q
from xiaobao.lib import outbox
from xiaobao.lib.outbox import (  # noqa: F401  (the statuses and limits, as tests and callers read them here)
    CANCELLED,
    DIGEST_SIZE,
    FAILED,
    MAX_ATTEMPTS,
    PENDING,
    SENDING,
    SENDING_TIMEOUT,
    SENT,
    Delivery,
    Message,
)
from xiaobao.lib.workdays import WorkCalendar, add_workdays

logger = logging.getLogger(__name__)

STAFF_ROLES = (Role.OFFICER, Role.UNIT_HEAD)
NOTIFICATION_MAX = outbox.NOTIFICATION_MAX


# --- sweep ------------------------------------------------------------------------------------------


def due_soon_workdays() -> int:
    """XIAOBAO_REMINDER_DUE_SOON_WORKDAYS: 1 reminds on the working day before the deadline (and on the day)."""
    value = int(getattr(settings, "XIAOBAO_REMINDER_DUE_SOON_WORKDAYS", 1))
    if value < 0:
        raise ValueError(f"XIAOBAO_REMINDER_DUE_SOON_WORKDAYS: 不得小于 0, 实际为 {value}")
    return value


def due_soon_until(*, today: dt.date, cal: WorkCalendar, workdays: int) -> dt.date:
    """The last deadline that counts as due soon: the `workdays`-th working day after today.

    Counting working days, not calendar days, is what makes a deadline right after a holiday week
    (2024-10-08, after National Day) due soon on the last working day before the holiday (2024-09-30).
    """
    if workdays == 0:
        return today
    return add_workdays(cal, today, workdays).date


def sweep(*, today: dt.date | None = None) -> int:
    """Queue the reminders that have come due; return how many new rows were offered to the outbox.

    1. Hand 'sending' rows older than SENDING_TIMEOUT back to pending (their worker died mid-send).
    2. Work out the due-soon window: from today to the N-th working day after today.
    3. For each clock (decision due soon, decision overdue, first response overdue), read the
       (case, deadline) pairs that have no reminder yet, a page at a time, and insert them with
       ignore_conflicts: when another worker inserted the same row first, the constraint keeps one.

    The count can include rows a concurrent worker inserted first; the outbox itself never doubles.
    """
    today = today or timezone.localdate()
    reminder_recover_stale()
    until = due_soon_until(today=today, cal=work_calendar(), workdays=due_soon_workdays())
    undecided = Case.objects.filter(status__in=UNDECIDED_STATUSES)
    clocks = [
        (ReminderThreshold.DUE_SOON, "due_date", undecided.filter(due_date__gte=today, due_date__lte=until)),
        (ReminderThreshold.OVERDUE, "due_date", Case.objects.filter(overdue_q(today))),
        # 紧急工单 and work orders also have a first-response deadline; answering it is a separate duty.
        (
            ReminderThreshold.OVERDUE,
            "response_due_date",
            undecided.filter(responded_at=None, response_due_date__lt=today),
        ),
    ]
    return sum(OUTBOX.queue(cases, threshold=threshold, field=field) for threshold, field, cases in clocks)


def reminder_recover_stale(*, now: dt.datetime | None = None) -> int:
    """Hand back 'sending' rows a dead worker left behind (see outbox.Outbox.recover_stale)."""
    return OUTBOX.recover_stale(now=now)


# --- deliver ----------------------------------------------------------------------------------------


def deliver(*, batch: int = 200, stop: Callable[[], bool] | None = None) -> Delivery:
    """Send up to `batch` pending reminders (see outbox.Outbox.deliver)."""
    return OUTBOX.deliver(batch=batch, stop=stop, claim=lambda pk: _claim(pk))


def _claim(pk: int) -> bool:
    return OUTBOX.claim(pk)


def _moved_on(reminder: Reminder, *, today: dt.date) -> str:
    """Why the reminder no longer applies ('' when it does): the case was decided or paused, the
    deadline moved (an extension), the first response was recorded, or a due-soon reminder is late."""
    case = reminder.case
    if case.status not in UNDECIDED_STATUSES:
        return f"工单当前状态为「{case.status}」, 不再提醒"
    if reminder.threshold == ReminderThreshold.DUE_SOON and reminder.due_date < today:
        return "期限已过, 改由超期提醒通知"
    if not _clocks(reminder):
        return "期限已变更或已响应, 原提醒不再适用"
    return ""


def _clocks(reminder: Reminder) -> list[str]:
    """Which clocks of the case the reminder is about: 'decision' (due_date) and/or 'response'."""
    case = reminder.case
    found = []
    if case.due_date == reminder.due_date:
        found.append("decision")
    if (
        reminder.threshold == ReminderThreshold.OVERDUE
        and case.responded_at is None
        and case.response_due_date == reminder.due_date
    ):
        found.append("response")
    return found


def _unit_staff(units: Iterable) -> dict[str, list[User]]:
    """Active officers and unit heads of the given units and every unit above them, by unit code."""
    codes = {code for unit in units for code in unit.path.strip("/").split("/")}
    staff: dict[str, list[User]] = defaultdict(list)
    # Roles live in a JSON list; filtering them in Python keeps one query that works on SQLite too.
    for user in (
        User.objects.filter(is_active=True, unit__code__in=codes).select_related("unit").order_by("pk")
    ):
        if user.has_role(*STAFF_ROLES):
            staff[user.unit.code].append(user)
    return staff


def _recipients(case: Case, staff: dict[str, list[User]]) -> list[User]:
    """The handler; without one, the officers and heads of the case's unit, or of the nearest unit above
    that has any (a department rarely has its own officer)."""
    if case.handler is not None and case.handler.is_active:
        return [case.handler]
    for code in reversed(case.unit.path.strip("/").split("/")):
        if staff.get(code):
            return staff[code]
    return []


def reminder_message(reminder: Reminder, *, today: dt.date) -> Message:
    """The reminder in Chinese: case number, kind, unit, each deadline with its rule, days overdue."""
    case = reminder.case
    clocks = _clocks(reminder)
    due = reminder.due_date
    if reminder.threshold == ReminderThreshold.OVERDUE:
        state = f"已超期 {(today - due).days} 天"
    elif due == today:
        state = "今日到期"
    else:
        state = f"即将到期 ({due:%m月%d日}到期)"
    what = "响应" if clocks == ["response"] else ""
    deadlines = []
    if "decision" in clocks:
        rule = case.deadline_rule + (", 期限为暂定" if case.deadline_provisional else "")
        deadlines.append(f"办理期限: {due:%Y-%m-%d} 24:00 ({rule})")
    if "response" in clocks:
        rule = "紧急工单须当个工作日响应" if case.urgent else "首次响应期限, 按工作日计"
        deadlines.append(f"响应期限: {due:%Y-%m-%d} 24:00 ({rule}), 尚未响应")
    action = "请尽快处理" if reminder.threshold == ReminderThreshold.OVERDUE else "请在期限内处理"
    handler = str(case.handler) if case.handler else "未分配"
    subject = f"【消保提醒】工单 {case.case_no} {what}{state}"
    body = "\n".join(
        [
            f"工单 {case.case_no} {what}{state}, {action}。",
            "",
            f"工单号: {case.case_no}",
            f"工单类型: {case.kind} ({case.channel})",
            f"责任机构: {case.unit.name}",
            f"处理人: {handler}",
            *deadlines,
            f"当前状态: {case.status}",
            "",
            "请登录消保运营平台查看工单并处理。本邮件由系统自动发送, 请勿回复。",
        ]
    )
    first_rule = deadlines[0].split(": ", 1)[1] if deadlines else ""
    line = f"· {case.case_no} {case.unit.name} {case.kind} {what}{state}, 期限 {first_rule}"
    note = f"工单 {case.case_no} {what}{state}, {action}。" + "; ".join(deadlines)
    return Message(subject=subject, body=body, line=line, note=note[:NOTIFICATION_MAX])


class CaseOutbox(outbox.Outbox):
    model = Reminder
    subject_field = "case"
    related = ("case__unit", "case__handler")
    log_label = "提醒"
    digest_title = "【消保提醒】{n} 件工单需要关注:"
    nobody = "没有可提醒的人员: 工单未分配处理人, 所在机构及上级机构也没有消保管理岗或机构负责人"
    stale_note = "发送中断: 处理进程在发送过程中退出 (超过 10 分钟仍为发送中)"

    def moved_on(self, reminder, *, today):
        return _moved_on(reminder, today=today)

    def recipients(self, reminders):
        staff = _unit_staff(r.case.unit for r in reminders)
        return lambda reminder: _recipients(reminder.case, staff)

    def message(self, reminder, *, today):
        return reminder_message(reminder, today=today)

    def notification(self, reminder, message, person):
        return Notification(user=person, case=reminder.case, message=message.note)

    def describe(self, reminder):
        return f"工单 {reminder.case.case_no}"


OUTBOX = CaseOutbox()
