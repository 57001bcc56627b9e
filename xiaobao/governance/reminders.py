"""督办提醒: reminders for the committee's and the drills' action items, run by `xiaobao worker`.

The worker calls `run()` once per loop (it finds this module with app_modules("reminders")). The
design is xiaobao.cases.reminders', for the same reasons:
- `sweep()` queues one ActionReminder row per (item, threshold, due date). The unique constraint on
  those three columns makes a duplicate impossible; concurrent sweeps insert with ignore_conflicts.
- `deliver()` claims pending rows one at a time with UPDATE … WHERE status='pending' and sends only
  the rows for which exactly one row changed, so two workers never send the same reminder.

Thresholds: due soon (the due date is within XIAOBAO_REMINDER_DUE_SOON_WORKDAYS working days, as for
cases) and overdue (past the due date, still open). Each is sent once per item and due date; a new
due date would start over. Who is told: the owner; for an overdue item also whoever gave it (the
officer who follows it up); when the owner's account is disabled, the officers and heads of the
item's unit or the nearest unit above. Channels: email through Django's send_mail (only with a real
SMTP backend), the WeCom and DingTalk group bots (one digest per chunk), and the in-app Notification.
A reminder whose item was closed or cancelled, or whose due date moved, before it went out is
'cancelled' instead of sent.
"""

import datetime as dt
import logging
from collections.abc import Callable

from django.utils import timezone

from xiaobao.accounts.models import Role, User
from xiaobao.cases.models import Notification, work_calendar
from xiaobao.cases.reminders import due_soon_until, due_soon_workdays
from xiaobao.governance.models import ActionItem, ActionReminder, ActionStatus, ReminderThreshold
from xiaobao.governance.services import unit_leaders
from xiaobao.lib import outbox
from xiaobao.lib.outbox import (  # noqa: F401  (the statuses and limits, as tests and callers read them here)
    CANCELLED,
    DIGEST_SIZE,
    FAILED,
    MAX_ATTEMPTS,
    PENDING,
    SENDING,
    SENT,
    Delivery,
    Message,
)

logger = logging.getLogger(__name__)

NOTIFICATION_MAX = outbox.NOTIFICATION_MAX


def run(*, today: dt.date | None = None) -> dict[str, int]:
    """One round for the worker: queue what has come due, then send one batch."""
    queued = sweep(today=today)
    delivery = deliver(today=today)
    return {"queued": queued, "sent": delivery.sent, "failed": delivery.failed}


# --- sweep ------------------------------------------------------------------------------------------


def sweep(*, today: dt.date | None = None) -> int:
    """Queue the reminders that have come due; return how many rows were offered to the outbox.

    1. Hand 'sending' rows older than SENDING_TIMEOUT back to pending (their worker died).
    2. Due soon: open items due from today to the N-th working day after today.
    3. Overdue: open items due before today.
    4. For each, insert the (item, threshold, due date) rows not yet queued, a page at a time, with
       ignore_conflicts: when another worker inserted the same row first, the constraint keeps one.
    """
    today = today or timezone.localdate()
    recover_stale()
    until = due_soon_until(today=today, cal=work_calendar(), workdays=due_soon_workdays())
    open_items = ActionItem.objects.filter(status=ActionStatus.OPEN)
    clocks = [
        (ReminderThreshold.DUE_SOON, open_items.filter(due_date__gte=today, due_date__lte=until)),
        (ReminderThreshold.OVERDUE, open_items.filter(due_date__lt=today)),
    ]
    return sum(OUTBOX.queue(items, threshold=threshold) for threshold, items in clocks)


def recover_stale(*, now: dt.datetime | None = None) -> int:
    """Hand back rows a dead worker left 'sending'; after MAX_ATTEMPTS they fail for good."""
    return OUTBOX.recover_stale(now=now)


# --- deliver ----------------------------------------------------------------------------------------


def deliver(
    *, batch: int = 200, today: dt.date | None = None, stop: Callable[[], bool] | None = None
) -> Delivery:
    """Send up to `batch` pending reminders (see outbox.Outbox.deliver)."""
    return OUTBOX.deliver(batch=batch, today=today, stop=stop, claim=lambda pk: _claim(pk))


def _claim(pk: int) -> bool:
    return OUTBOX.claim(pk)


def _moved_on(reminder: ActionReminder, *, today: dt.date) -> str:
    item = reminder.item
    if item.status != ActionStatus.OPEN:
        return f"督办事项当前状态为「{item.status}」，不再提醒"
    if item.due_date != reminder.due_date:
        return "完成期限已变更，原提醒不再适用"
    if reminder.threshold == ReminderThreshold.DUE_SOON and reminder.due_date < today:
        return "期限已过，改由超期提醒通知"
    return ""


def recipients(reminder: ActionReminder) -> list[User]:
    """The owner (and, once overdue, whoever gave the item); officers and heads when the owner's
    account is disabled."""
    item = reminder.item
    people = []
    if item.owner.is_active:
        people.append(item.owner)
    else:
        people.extend(unit_leaders(item.unit, (Role.OFFICER, Role.UNIT_HEAD)))
    giver = item.created_by
    if (
        reminder.threshold == ReminderThreshold.OVERDUE
        and giver is not None
        and giver.is_active
        and giver.pk not in {p.pk for p in people}
    ):
        people.append(giver)
    return people


def source_text(item: ActionItem) -> str:
    if item.resolution_id is not None:
        return f"{item.resolution.meeting.title} 决议 {item.resolution.number}"
    if item.drill_id is not None:
        return f"应急演练「{item.drill.title}」"
    return ""


def reminder_message(reminder: ActionReminder, *, today: dt.date) -> Message:
    """The reminder in Chinese: item number and title, its source, owner, due date, days overdue."""
    item = reminder.item
    due = reminder.due_date
    if reminder.threshold == ReminderThreshold.OVERDUE:
        state = f"已超期 {(today - due).days} 天"
        action = "请尽快上传佐证材料并办结"
    elif due == today:
        state, action = "今日到期", "请在期限内上传佐证材料并办结"
    else:
        state, action = f"即将到期 ({due:%m月%d日}到期)", "请在期限内上传佐证材料并办结"
    source = source_text(item)
    subject = f"【消保督办】督办事项 #{item.pk} {state}"
    body = "\n".join(
        [
            f"督办事项 #{item.pk}「{item.title}」{state}, {action}。",
            "",
            f"事项: {item.title}",
            f"来源: {source}",
            f"责任人: {item.owner} ({item.unit.name})",
            f"完成期限: {due:%Y-%m-%d}",
            f"当前状态: {item.status}",
            "",
            "请登录消保运营平台 (消保治理 → 督办事项) 处理。本邮件由系统自动发送，请勿回复。",
        ]
    )
    line = f"· #{item.pk} {item.title} · {item.owner} · 期限 {due:%Y-%m-%d} · {state}"
    note = f"督办事项 #{item.pk}「{item.title}」{state} (期限 {due:%Y-%m-%d}), {action}。来源: {source}"
    return Message(subject=subject, body=body, line=line, note=note[:NOTIFICATION_MAX])


class ActionOutbox(outbox.Outbox):
    model = ActionReminder
    subject_field = "item"
    related = ("item__owner", "item__unit", "item__created_by", "item__resolution__meeting", "item__drill")
    log_label = "督办提醒"
    digest_title = "【消保督办】{n} 项督办事项需要关注:"
    nobody = "没有可提醒的人员：责任人账号已停用，所在机构及上级机构也没有消保管理岗或机构负责人"

    def moved_on(self, reminder, *, today):
        return _moved_on(reminder, today=today)

    def recipients(self, reminders):
        return recipients

    def message(self, reminder, *, today):
        return reminder_message(reminder, today=today)

    def notification(self, reminder, message, person):
        return Notification(user=person, message=message.note)

    def describe(self, reminder):
        return f"事项 #{reminder.item_id}"


OUTBOX = ActionOutbox()
