"""The reminder outbox shared by the case clocks (xiaobao.cases.reminders) and the committee's action
items (xiaobao.governance.reminders).

A reminder is a row with `status`, `attempts`, `last_error` and `sent_at`, unique per (subject,
threshold, due date). The life of a row: pending → sending → sent | failed, or cancelled when its
subject moved on before it went out. Both steps are safe with several workers running at once:
- queue(): one row per (subject, threshold, due date), inserted with ignore_conflicts, so concurrent
  sweeps keep one row (the unique constraint);
- deliver(): each row is claimed with UPDATE … WHERE status='pending' (healthchecks' sendalerts), so
  exactly one worker sees "one row changed", and only that worker sends.

Channels: email through Django's send_mail (only when XIAOBAO_SMTP_URL configures a real backend),
the WeCom and DingTalk group bots (群机器人), one digest per chunk of DIGEST_SIZE reminders (both allow
20 messages a minute per bot, and DingTalk then blocks the bot for 10 minutes), and the in-app
Notification list. While a row is 'sending', `sent_at` holds the claim time; a row still 'sending'
after SENDING_TIMEOUT belongs to a worker that died mid-send, and the next sweep hands it back.

A domain subclasses Outbox and says what its reminders are about: which rows to load with them, when
one no longer applies, who is told, and the message.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from xiaobao.lib import webhooks

logger = logging.getLogger(__name__)

PENDING = "pending"  # queued, or handed back after a failed attempt
SENDING = "sending"  # claimed by one worker; sent_at holds the claim time
SENT = "sent"  # delivered; sent_at holds the delivery time
FAILED = "failed"  # given up after MAX_ATTEMPTS attempts
CANCELLED = "cancelled"  # the subject moved on before the reminder went out

MAX_ATTEMPTS = 5
SENDING_TIMEOUT = dt.timedelta(minutes=10)  # longer than one chunk can take
INSERT_BATCH = 2000  # (subject, due date) pairs read and inserted per round trip by queue()
DIGEST_SIZE = 15  # reminders per group-bot message
SMTP_TIMEOUT = 10  # seconds, when settings.EMAIL_TIMEOUT is not set: Django's default waits forever
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
NOTIFICATION_MAX = 300  # cases.Notification.message max_length


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


def group_bots() -> list[tuple[str, Callable[..., None]]]:
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


def mailer():
    """An email connection, or None when no SMTP server is configured.

    Without XIAOBAO_SMTP_URL the backend is locmem, which would only pile messages up in the worker's
    memory; the in-app list and the group bots still carry the reminder.
    """
    if settings.EMAIL_BACKEND == LOCMEM_BACKEND:
        return None
    return get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT)


Ready = tuple[Model, Message, list]  # (reminder, its message, the users to tell)


class Outbox:
    model: type[Model]  # the reminder model
    subject_field: str  # its foreign key to what it reminds about ("case", "item")
    related: tuple[str, ...] = ()  # select_related when a chunk is loaded
    log_label: str  # how log lines start ("提醒", "督办提醒")
    digest_title: str  # "{n}" is the number of reminders in the digest
    nobody: str  # why a reminder with nobody to tell (and no bot) failed
    stale_note: str = "发送中断: 处理进程在发送过程中退出"

    # --- what a domain says -------------------------------------------------------------------------

    def moved_on(self, reminder, *, today: dt.date) -> str:
        """Why the reminder no longer applies ('' when it does)."""
        raise NotImplementedError

    def recipients(self, reminders: list) -> Callable[[Model], list]:
        """Who is told of each reminder of a chunk (one lookup for the chunk, then per reminder)."""
        raise NotImplementedError

    def message(self, reminder, *, today: dt.date) -> Message:
        raise NotImplementedError

    def notification(self, reminder, message: Message, person):
        raise NotImplementedError

    def describe(self, reminder) -> str:
        """The reminder's subject in a log line, e.g. "工单 TS2024…"."""
        raise NotImplementedError

    # --- sweep ----------------------------------------------------------------------------------------

    def queue(self, subjects: QuerySet, *, threshold: str, field: str = "due_date") -> int:
        """Insert the (subject, threshold, date in `field`) rows not queued yet, a keyset page at a time
        (SQLite gives no isolation between a cursor being read and inserts on the same connection, and
        memory stays bounded), with ignore_conflicts. The NOT EXISTS keeps the steady state cheap: an
        overdue subject is read once, not every minute."""
        already = self.model.objects.filter(
            **{self.subject_field: OuterRef("pk"), "threshold": threshold, "due_date": OuterRef(field)}
        )
        missing = subjects.filter(~Exists(already)).order_by("pk")
        queued, last_pk = 0, 0
        owner_id = f"{self.subject_field}_id"
        while True:
            page = list(missing.filter(pk__gt=last_pk).values_list("pk", field)[:INSERT_BATCH])
            if not page:
                return queued
            self.model.objects.bulk_create(
                [self.model(**{owner_id: pk, "threshold": threshold, "due_date": day}) for pk, day in page],
                ignore_conflicts=True,
            )
            queued += len(page)
            last_pk = page[-1][0]

    def recover_stale(self, *, now: dt.datetime | None = None) -> int:
        """Hand back 'sending' rows claimed more than SENDING_TIMEOUT ago; return how many.

        Rows whose attempts would reach MAX_ATTEMPTS fail for good (a reminder that kills its worker
        every time must not kill it forever); the others go back to pending with the attempt counted."""
        now = now or timezone.now()
        stale = self.model.objects.filter(status=SENDING).filter(
            Q(sent_at__lt=now - SENDING_TIMEOUT) | Q(sent_at=None)
        )
        gave_up = stale.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
            status=FAILED, attempts=F("attempts") + 1, last_error=self.stale_note + ", 已放弃", sent_at=None
        )
        back = stale.filter(attempts__lt=MAX_ATTEMPTS - 1).update(
            status=PENDING,
            attempts=F("attempts") + 1,
            last_error=self.stale_note + ", 已退回待发送",
            sent_at=None,
        )
        if gave_up or back:
            logger.warning("%s: %s 条发送中断的提醒已退回待发送, %s 条已放弃", self.log_label, back, gave_up)
        return gave_up + back

    # --- deliver --------------------------------------------------------------------------------------

    def claim(self, pk: int) -> bool:
        """Claim one row; True when this worker won it (exactly one row changed)."""
        return (
            self.model.objects.filter(pk=pk, status=PENDING).update(status=SENDING, sent_at=timezone.now())
            == 1
        )

    def deliver(
        self,
        *,
        batch: int = 200,
        today: dt.date | None = None,
        stop: Callable[[], bool] | None = None,
        claim: Callable[[int], bool] | None = None,
    ) -> Delivery:
        """Send up to `batch` pending reminders; return how many were sent, failed and cancelled.

        1. Read the ids of the oldest pending reminders.
        2. Take them DIGEST_SIZE at a time and claim each row; keep the rows this worker won.
        3. Load the claimed rows with what they are about and the people to tell, in a fixed number
           of queries, and cancel those whose subject has moved on.
        4. Post one digest per configured group bot. If a bot fails, every reminder of the chunk fails
           this attempt; no email has gone out yet, so the retry sends no email twice.
        5. Email each reminder's recipients; a failure fails that reminder alone.
        6. Mark the rest sent and add their in-app notifications, in one transaction.

        Between chunks `stop()` is asked whether the worker was told to shut down; a claimed chunk is
        always finished, so no row is left 'sending'.
        """
        today = today or timezone.localdate()
        claim = claim or self.claim
        result = Delivery()
        ids = list(
            self.model.objects.filter(status=PENDING).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return result
        bots, connection = group_bots(), mailer()
        for start in range(0, len(ids), DIGEST_SIZE):
            if stop is not None and stop():
                break
            claimed = [pk for pk in ids[start : start + DIGEST_SIZE] if claim(pk)]
            if claimed:
                self._deliver_chunk(claimed, today=today, bots=bots, mailer=connection, result=result)
        if result.sent or result.failed or result.cancelled:
            logger.info(
                "%s: 已发送 %s, 失败 %s, 取消 %s",
                self.log_label,
                result.sent,
                result.failed,
                result.cancelled,
            )
        return result

    def _deliver_chunk(self, claimed: list[int], *, today: dt.date, bots, mailer, result: Delivery) -> None:
        reminders = list(
            self.model.objects.filter(pk__in=claimed).select_related(*self.related).order_by("pk")
        )
        people_of = self.recipients(reminders)
        ready: list[Ready] = []
        for reminder in reminders:
            reason = self.moved_on(reminder, today=today)
            if reason:
                self._mark(reminder, status=CANCELLED, last_error=reason)
                result.cancelled += 1
                continue
            people = people_of(reminder)
            if not people and not bots:
                self._fail([(reminder, None, [])], self.nobody)
                result.failed += 1
                continue
            ready.append((reminder, self.message(reminder, today=today), people))
        if not ready:
            return

        for name, send in bots:
            try:
                send(content=self.digest([message for _, message, _ in ready]))
            except Exception as exc:  # any failure of a bot fails the chunk; the reason is kept on each row
                logger.warning("%s: %s群机器人发送失败: %s", self.log_label, name, exc)
                self._fail(ready, f"{name}群机器人: {exc}")
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
                    logger.warning("%s: %s 的邮件发送失败: %s", self.log_label, self.describe(reminder), exc)
                    self._fail([(reminder, message, people)], f"邮件: {exc}")
                    result.failed += 1
                    continue
            delivered.append((reminder, message, people))
        if delivered:
            self._mark_sent(delivered)
            result.sent += len(delivered)

    def digest(self, messages: list[Message]) -> str:
        lines = [
            self.digest_title.format(n=len(messages)),
            *(m.line for m in messages),
            "请登录消保运营平台处理。",
        ]
        return webhooks.truncate_utf8("\n".join(lines))

    def _mark(self, reminder, *, status: str, last_error: str = "") -> None:
        # The status guard: a row handed back by recover_stale meanwhile is no longer ours.
        self.model.objects.filter(pk=reminder.pk, status=SENDING).update(
            status=status, last_error=last_error[:2000], sent_at=None
        )

    def _notifications(self, items: Iterable) -> list:
        return [
            self.notification(reminder, message, person)
            for reminder, message, people in items
            if message is not None
            for person in people
        ]

    def _mark_sent(self, items: list[Ready]) -> None:
        """Mark the rows sent and add the in-app notifications together: both or neither."""
        from xiaobao.cases.models import Notification

        with transaction.atomic():
            changed = self.model.objects.filter(pk__in=[r.pk for r, _, _ in items], status=SENDING).update(
                status=SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
            )
            Notification.objects.bulk_create(self._notifications(items))
        if changed != len(items):
            logger.warning(
                "%s: %s 条提醒在发送期间被判定为中断, 可能会再发一次", self.log_label, len(items) - changed
            )

    def _fail(self, items: list, error: str) -> None:
        """Count a failed attempt: back to pending, or failed after MAX_ATTEMPTS. A reminder given up on
        still reaches the in-app list, so the people concerned hear of it once."""
        from xiaobao.cases.models import Notification

        error = error[:2000]
        last = [item for item in items if item[0].attempts + 1 >= MAX_ATTEMPTS]
        retry = [item[0].pk for item in items if item[0].attempts + 1 < MAX_ATTEMPTS]
        with transaction.atomic():
            self.model.objects.filter(pk__in=retry, status=SENDING).update(
                status=PENDING, attempts=F("attempts") + 1, last_error=error, sent_at=None
            )
            if last:
                self.model.objects.filter(pk__in=[item[0].pk for item in last], status=SENDING).update(
                    status=FAILED, attempts=F("attempts") + 1, last_error=error, sent_at=None
                )
                Notification.objects.bulk_create(self._notifications(last))
        for reminder, _, _ in last:
            logger.error(
                "%s: %s 的提醒在 %s 次尝试后放弃: %s",
                self.log_label,
                self.describe(reminder),
                MAX_ATTEMPTS,
                error,
            )
