"""到期提醒 (reminders): the worker's sweep of the clocks and the delivery of the reminders it queues.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
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
from xiaobao.lib import webhooks
from xiaobao.lib.workdays import WorkCalendar, add_workdays

logger = logging.getLogger(__name__)

# Reminder.status values: pending → sending → sent | failed, or cancelled when the clock moved on.
PENDING = "pending"  # queued, or handed back after a failed attempt
SENDING = "sending"  # claimed by one worker; sent_at holds the claim time
SENT = "sent"  # delivered; sent_at holds the delivery time
FAILED = "failed"  # given up after MAX_ATTEMPTS attempts
CANCELLED = "cancelled"  # the case was decided, paused, extended or answered before the reminder went out

MAX_ATTEMPTS = 5
# Longer than one chunk can take (DIGEST_SIZE emails and two bot posts, each with its own timeout).
SENDING_TIMEOUT = dt.timedelta(minutes=10)
INSERT_BATCH = 2000  # (case, deadline) pairs read and inserted per round trip by sweep()
# Reminders claimed and sent together: one digest per group bot. 200 per run make 14 posts, under 20 a minute.
DIGEST_SIZE = 15
SMTP_TIMEOUT = 10  # seconds, when settings.EMAIL_TIMEOUT is not set: Django's default waits forever
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Who is told about a case without a handler: the officers and heads of its unit (or the nearest unit above).
STAFF_ROLES = (Role.OFFICER, Role.UNIT_HEAD)
NOTIFICATION_MAX = 300  # Notification.message max_length


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0  # attempts that failed in this run (retried later, or given up after MAX_ATTEMPTS)
    cancelled: int = 0


@dataclass(frozen=True)
class Message:
    subject: str  # email subject
    body: str  # email body
    line: str  # one line of a group-bot digest
    note: str  # the in-app notification


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
    return sum(_queue(cases, threshold=threshold, field=field) for threshold, field, cases in clocks)


def _queue(cases: QuerySet[Case], *, threshold: str, field: str) -> int:
    # The NOT EXISTS keeps the steady state cheap: an overdue case is read once, not every minute.
    already = Reminder.objects.filter(case=OuterRef("pk"), threshold=threshold, due_date=OuterRef(field))
    missing = cases.filter(~Exists(already)).order_by("pk")
    queued = 0
    last_pk = 0
    while True:
        # Keyset pages rather than one cursor: SQLite gives no isolation between a cursor being read
        # and inserts on the same connection, and memory stays bounded with 100k open cases.
        page = list(missing.filter(pk__gt=last_pk).values_list("pk", field)[:INSERT_BATCH])
        if not page:
            return queued
        Reminder.objects.bulk_create(
            [Reminder(case_id=pk, threshold=threshold, due_date=day) for pk, day in page],
            ignore_conflicts=True,
        )
        queued += len(page)
        last_pk = page[-1][0]


def reminder_recover_stale(*, now: dt.datetime | None = None) -> int:
    """Hand back 'sending' rows claimed more than SENDING_TIMEOUT ago; return how many.

    1. Rows whose attempts would reach MAX_ATTEMPTS become failed: a reminder that kills its worker
       every time must not kill it forever.
    2. The others go back to pending with the attempt counted and the reason in last_error.
    """
    now = now or timezone.now()
    stale = Reminder.objects.filter(status=SENDING).filter(
        Q(sent_at__lt=now - SENDING_TIMEOUT) | Q(sent_at=None)
    )
    note = "发送中断: 处理进程在发送过程中退出 (超过 10 分钟仍为发送中)"
    gave_up = stale.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        status=FAILED, attempts=F("attempts") + 1, last_error=note + ", 已放弃", sent_at=None
    )
    back = stale.filter(attempts__lt=MAX_ATTEMPTS - 1).update(
        status=PENDING, attempts=F("attempts") + 1, last_error=note + ", 已退回待发送", sent_at=None
    )
    if gave_up or back:
        logger.warning("提醒: %s 条发送中断的提醒已退回待发送, %s 条已放弃", back, gave_up)
    return gave_up + back


# --- deliver ----------------------------------------------------------------------------------------


def deliver(*, batch: int = 200, stop: Callable[[], bool] | None = None) -> Delivery:
    """Send up to `batch` pending reminders; return how many were sent, failed and cancelled.

    1. Read the ids of the oldest pending reminders.
    2. Take them DIGEST_SIZE at a time and claim each row with UPDATE … WHERE status='pending'; keep
       only the rows where exactly one row changed, because another worker has the others.
    3. Load the claimed rows with their cases and the people to tell, in a fixed number of queries,
       and cancel those whose clock has moved on.
    4. Post one digest per configured group bot. If a bot fails, every reminder of the chunk fails this
       attempt; no email has gone out yet, so the retry sends no email twice.
    5. Email each reminder's recipients; a failure fails that reminder alone.
    6. Mark the rest sent and add their in-app notifications, in one transaction.

    Between chunks `stop()` is asked whether the worker was told to shut down; a claimed chunk is
    always finished, so no row is left 'sending'.
    """
    today = timezone.localdate()
    result = Delivery()
    ids = list(Reminder.objects.filter(status=PENDING).order_by("pk").values_list("pk", flat=True)[:batch])
    bots = _bots()
    mailer = _mailer()
    for chunk in _chunks(ids, DIGEST_SIZE):
        if stop is not None and stop():
            break
        claimed = [pk for pk in chunk if _claim(pk)]
        if claimed:
            _deliver_chunk(claimed, today=today, bots=bots, mailer=mailer, result=result)
    if result.sent or result.failed or result.cancelled:
        logger.info("提醒: 已发送 %s, 失败 %s, 取消 %s", result.sent, result.failed, result.cancelled)
    return result


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _claim(pk: int) -> bool:
    """Claim one row; True when this worker won it (exactly one row changed)."""
    return Reminder.objects.filter(pk=pk, status=PENDING).update(status=SENDING, sent_at=timezone.now()) == 1


def _bots() -> list[tuple[str, Callable[..., None]]]:
    """The configured group bots as (name, send(content=...)); an empty setting means no bot."""
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
    """An email connection, or None when no SMTP server is configured.

    Without XIAOBAO_SMTP_URL the backend is locmem, which would only pile messages up in the worker's
    memory; the in-app list and the group bots still carry the reminder.
    """
    if settings.EMAIL_BACKEND == LOCMEM_BACKEND:
        return None
    return get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT)


def _deliver_chunk(claimed: list[int], *, today: dt.date, bots, mailer, result: Delivery) -> None:
    reminders = list(
        Reminder.objects.filter(pk__in=claimed).select_related("case__unit", "case__handler").order_by("pk")
    )
    staff = _unit_staff(r.case.unit for r in reminders)
    ready: list[tuple[Reminder, Message, list[User]]] = []
    for reminder in reminders:
        reason = _moved_on(reminder, today=today)
        if reason:
            _mark(reminder, status=CANCELLED, last_error=reason)
            result.cancelled += 1
            continue
        people = _recipients(reminder.case, staff)
        if not people and not bots:
            _fail(
                [(reminder, None, [])],
                "没有可提醒的人员: 工单未分配处理人, 所在机构及上级机构也没有消保管理岗或机构负责人",
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
            logger.warning("提醒: %s群机器人发送失败: %s", name, exc)
            _fail(ready, f"{name}群机器人: {exc}")
            result.failed += len(ready)
            return

    delivered = []
    for reminder, message, people in ready:
        addresses = sorted({person.email for person in people if person.email})
        if mailer is not None and addresses:
            try:
                send_mail(
                    message.subject,
                    message.body,
                    settings.DEFAULT_FROM_EMAIL,
                    addresses,
                    connection=mailer,
                )
            except Exception as exc:  # SMTP refusals and network errors alike: retry this one later
                logger.warning("提醒: 工单 %s 的邮件发送失败: %s", reminder.case.case_no, exc)
                _fail([(reminder, message, people)], f"邮件: {exc}")
                result.failed += 1
                continue
        delivered.append((reminder, message, people))
    if delivered:
        _mark_sent(delivered)
        result.sent += len(delivered)


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


def _digest(messages: list[Message]) -> str:
    lines = [
        f"【消保提醒】{len(messages)} 件工单需要关注:",
        *(m.line for m in messages),
        "请登录消保运营平台处理。",
    ]
    return webhooks.truncate_utf8("\n".join(lines))


def _mark(reminder: Reminder, *, status: str, last_error: str = "") -> None:
    # The status guard: a row handed back by reminder_recover_stale meanwhile is no longer ours.
    Reminder.objects.filter(pk=reminder.pk, status=SENDING).update(
        status=status, last_error=last_error[:2000], sent_at=None
    )


def _notifications(items) -> list[Notification]:
    return [
        Notification(user=person, case=reminder.case, message=message.note)
        for reminder, message, people in items
        for person in people
    ]


def _mark_sent(items: list[tuple[Reminder, Message, list[User]]]) -> None:
    """Mark the rows sent and add the in-app notifications together: both or neither."""
    with transaction.atomic():
        changed = Reminder.objects.filter(pk__in=[r.pk for r, _, _ in items], status=SENDING).update(
            status=SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        Notification.objects.bulk_create(_notifications(items))
    if changed != len(items):
        logger.warning("提醒: %s 条提醒在发送期间被判定为中断, 可能会再发一次", len(items) - changed)


def _fail(items: list[tuple[Reminder, Message | None, list[User]]], error: str) -> None:
    """Count a failed attempt: back to pending, or failed after MAX_ATTEMPTS.

    A reminder given up on still reaches the in-app list, so the people concerned hear of it once.
    """
    error = error[:2000]
    last = [item for item in items if item[0].attempts + 1 >= MAX_ATTEMPTS]
    retry = [item[0].pk for item in items if item[0].attempts + 1 < MAX_ATTEMPTS]
    with transaction.atomic():
        Reminder.objects.filter(pk__in=retry, status=SENDING).update(
            status=PENDING, attempts=F("attempts") + 1, last_error=error, sent_at=None
        )
        if last:
            Reminder.objects.filter(pk__in=[item[0].pk for item in last], status=SENDING).update(
                status=FAILED, attempts=F("attempts") + 1, last_error=error, sent_at=None
            )
            Notification.objects.bulk_create(_notifications([item for item in last if item[1] is not None]))
    for reminder, _, _ in last:
        logger.error("提醒: 工单 %s 的提醒在 %s 次尝试后放弃: %s", reminder.case.case_no, MAX_ATTEMPTS, error)
