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
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from xiaobao.accounts.models import Role, User
from xiaobao.cases.models import Notification, work_calendar
from xiaobao.cases.reminders import due_soon_until, due_soon_workdays
from xiaobao.governance.models import ActionItem, ActionReminder, ActionStatus, ReminderThreshold
from xiaobao.governance.services import unit_leaders
from xiaobao.lib import webhooks

logger = logging.getLogger(__name__)

# ActionReminder.status values: pending → sending → sent | failed, or cancelled when the item moved on.
PENDING = "pending"  # queued, or handed back after a failed attempt
SENDING = "sending"  # claimed by one worker; sent_at holds the claim time
SENT = "sent"  # delivered; sent_at holds the delivery time
FAILED = "failed"  # given up after MAX_ATTEMPTS attempts
CANCELLED = "cancelled"  # the item was closed, cancelled or re-dated before the reminder went out

MAX_ATTEMPTS = 5
SENDING_TIMEOUT = dt.timedelta(minutes=10)  # longer than one chunk can take
INSERT_BATCH = 2000
DIGEST_SIZE = 15  # reminders per group-bot message: both bots allow 20 messages a minute
SMTP_TIMEOUT = 10
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
NOTIFICATION_MAX = 300


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    line: str  # one line of a group-bot digest
    note: str  # the in-app notification


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
    return sum(_queue(items, threshold=threshold) for threshold, items in clocks)


def _queue(items: QuerySet[ActionItem], *, threshold: str) -> int:
    already = ActionReminder.objects.filter(
        item=OuterRef("pk"), threshold=threshold, due_date=OuterRef("due_date")
    )
    missing = items.filter(~Exists(already)).order_by("pk")
    queued, last_pk = 0, 0
    while True:
        page = list(missing.filter(pk__gt=last_pk).values_list("pk", "due_date")[:INSERT_BATCH])
        if not page:
            return queued
        ActionReminder.objects.bulk_create(
            [ActionReminder(item_id=pk, threshold=threshold, due_date=day) for pk, day in page],
            ignore_conflicts=True,
        )
        queued += len(page)
        last_pk = page[-1][0]


def recover_stale(*, now: dt.datetime | None = None) -> int:
    """Hand back rows a dead worker left 'sending'; after MAX_ATTEMPTS they fail for good."""
    now = now or timezone.now()
    stale = ActionReminder.objects.filter(status=SENDING).filter(
        Q(sent_at__lt=now - SENDING_TIMEOUT) | Q(sent_at=None)
    )
    note = "发送中断: 处理进程在发送过程中退出"
    gave_up = stale.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=FAILED, attempts=F("attempts") + 1, last_error=note + ", 已放弃", sent_at=None
    )
    back = stale.filter(attempts__lt=MAX_ATTEMPTS - 1).update(
        status=PENDING, attempts=F("attempts") + 1, last_error=note + ", 已退回待发送", sent_at=None
    )
    if gave_up or back:
        logger.warning("督办提醒: %s 条发送中断的提醒已退回待发送, %s 条已放弃", back, gave_up)
    return gave_up + back


# --- deliver ----------------------------------------------------------------------------------------


def deliver(
    *, batch: int = 200, today: dt.date | None = None, stop: Callable[[], bool] | None = None
) -> Delivery:
    """Send up to `batch` pending reminders.

    1. Read the ids of the oldest pending reminders.
    2. Take them DIGEST_SIZE at a time; claim each with UPDATE … WHERE status='pending' and keep the
       rows where exactly one row changed.
    3. Load the claimed rows with their items; cancel those whose item moved on.
    4. Post one digest per group bot; a bot failure fails the whole chunk before any email went out.
    5. Email each reminder's recipients; a failure fails that reminder alone.
    6. Mark the rest sent and add their in-app notifications in one transaction.
    """
    today = today or timezone.localdate()
    result = Delivery()
    ids = list(
        ActionReminder.objects.filter(status=PENDING).order_by("pk").values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return result
    bots = _bots()
    mailer = _mailer()
    for start in range(0, len(ids), DIGEST_SIZE):
        if stop is not None and stop():
            break
        claimed = [pk for pk in ids[start : start + DIGEST_SIZE] if _claim(pk)]
        if claimed:
            _deliver_chunk(claimed, today=today, bots=bots, mailer=mailer, result=result)
    if result.sent or result.failed or result.cancelled:
        logger.info("督办提醒: 已发送 %s, 失败 %s, 取消 %s", result.sent, result.failed, result.cancelled)
    return result


def _claim(pk: int) -> bool:
    """Claim one row; True when this worker won it (exactly one row changed)."""
    return (
        ActionReminder.objects.filter(pk=pk, status=PENDING).update(status=SENDING, sent_at=timezone.now())
        == 1
    )


def _bots() -> list[tuple[str, Callable[..., None]]]:
    bots = []
    wecom = getattr(settings, "XIAOBAO_WECOM_WEBHOOK", "")
    if wecom:
        bots.append(("企业微信", partial(webhooks.wecom_send_text, url=wecom)))
    dingtalk = getattr(settings, "XIAOBAO_DINGTALK_WEBHOOK", "")
    if dingtalk:
        secret = getattr(settings, "XIAOBAO_DINGTALK_SECRET", "") or ""
        bots.append(("钉钉", partial(webhooks.dingtalk_send_text, url=dingtalk, secret=secret)))
    return bots


def _mailer():
    """An SMTP connection, or None when no real backend is configured (locmem would only pile up
    messages in the worker's memory; the in-app list and the bots still carry the reminder)."""
    if settings.EMAIL_BACKEND == LOCMEM_BACKEND:
        return None
    return get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT)


def _deliver_chunk(claimed: list[int], *, today: dt.date, bots, mailer, result: Delivery) -> None:
    reminders = list(
        ActionReminder.objects.filter(pk__in=claimed)
        .select_related(
            "item__owner", "item__unit", "item__created_by", "item__resolution__meeting", "item__drill"
        )
        .order_by("pk")
    )
    ready: list[tuple[ActionReminder, Message, list[User]]] = []
    for reminder in reminders:
        reason = _moved_on(reminder, today=today)
        if reason:
            _mark(reminder, status=CANCELLED, last_error=reason)
            result.cancelled += 1
            continue
        people = recipients(reminder)
        if not people and not bots:
            _fail(
                [(reminder, None, [])],
                "没有可提醒的人员: 责任人账号已停用, 所在机构及上级机构也没有消保管理岗或机构负责人",
            )
            result.failed += 1
            continue
        ready.append((reminder, reminder_message(reminder, today=today), people))
    if not ready:
        return

    for name, send in bots:
        try:
            send(content=_digest([message for _, message, _ in ready]))
        except Exception as exc:  # any failure of a bot fails the chunk; the reason is kept on each row
            logger.warning("督办提醒: %s群机器人发送失败: %s", name, exc)
            _fail(ready, f"{name}群机器人: {exc}")
            result.failed += len(ready)
            return

    delivered = []
    for reminder, message, people in ready:
        addresses = sorted({person.email for person in people if person.email})
        if mailer is not None and addresses:
            try:
                send_mail(
                    message.subject, message.body, settings.DEFAULT_FROM_EMAIL, addresses, connection=mailer
                )
            except Exception as exc:  # SMTP refusals and network errors alike: retry this one later
                logger.warning("督办提醒: 事项 #%s 的邮件发送失败: %s", reminder.item_id, exc)
                _fail([(reminder, message, people)], f"邮件: {exc}")
                result.failed += 1
                continue
        delivered.append((reminder, message, people))
    if delivered:
        _mark_sent(delivered)
        result.sent += len(delivered)


def _moved_on(reminder: ActionReminder, *, today: dt.date) -> str:
    item = reminder.item
    if item.status != ActionStatus.OPEN:
        return f"督办事项当前状态为「{item.status}」, 不再提醒"
    if item.due_date != reminder.due_date:
        return "完成期限已变更, 原提醒不再适用"
    if reminder.threshold == ReminderThreshold.DUE_SOON and reminder.due_date < today:
        return "期限已过, 改由超期提醒通知"
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
            "请登录消保运营平台 (消保治理 → 督办事项) 处理。本邮件由系统自动发送, 请勿回复。",
        ]
    )
    line = f"· #{item.pk} {item.title} · {item.owner} · 期限 {due:%Y-%m-%d} · {state}"
    note = f"督办事项 #{item.pk}「{item.title}」{state} (期限 {due:%Y-%m-%d}), {action}。来源: {source}"
    return Message(subject=subject, body=body, line=line, note=note[:NOTIFICATION_MAX])


def _digest(messages: list[Message]) -> str:
    lines = [
        f"【消保督办】{len(messages)} 项督办事项需要关注:",
        *(m.line for m in messages),
        "请登录消保运营平台处理。",
    ]
    return webhooks.truncate_utf8("\n".join(lines))


def _mark(reminder: ActionReminder, *, status: str, last_error: str = "") -> None:
    # The status guard: a row handed back by recover_stale meanwhile is no longer ours.
    ActionReminder.objects.filter(pk=reminder.pk, status=SENDING).update(
        status=status, last_error=last_error[:2000], sent_at=None
    )


def _notifications(items) -> list[Notification]:
    return [
        Notification(user=person, message=message.note)
        for reminder, message, people in items
        if message is not None
        for person in people
    ]


def _mark_sent(items: list[tuple[ActionReminder, Message, list[User]]]) -> None:
    """Mark the rows sent and add the in-app notifications together: both or neither."""
    with transaction.atomic():
        changed = ActionReminder.objects.filter(pk__in=[r.pk for r, _, _ in items], status=SENDING).update(
            status=SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        Notification.objects.bulk_create(_notifications(items))
    if changed != len(items):
        logger.warning("督办提醒: %s 条提醒在发送期间被判定为中断, 可能会再发一次", len(items) - changed)


def _fail(items, error: str) -> None:
    """Count a failed attempt: back to pending, or failed after MAX_ATTEMPTS (then the people
    concerned still hear of it once, in the app)."""
    error = error[:2000]
    last = [item for item in items if item[0].attempts + 1 >= MAX_ATTEMPTS]
    retry = [item[0].pk for item in items if item[0].attempts + 1 < MAX_ATTEMPTS]
    with transaction.atomic():
        ActionReminder.objects.filter(pk__in=retry, status=SENDING).update(
            status=PENDING, attempts=F("attempts") + 1, last_error=error, sent_at=None
        )
        if last:
            ActionReminder.objects.filter(pk__in=[item[0].pk for item in last], status=SENDING).update(
                status=FAILED, attempts=F("attempts") + 1, last_error=error, sent_at=None
            )
            Notification.objects.bulk_create(_notifications(last))
    for reminder, _, _ in last:
        logger.error("督办提醒: 事项 #%s 的提醒在 %s 次尝试后放弃: %s", reminder.item_id, MAX_ATTEMPTS, error)
