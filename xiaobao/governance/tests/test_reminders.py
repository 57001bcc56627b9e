"""督办提醒 through the worker: due-soon and overdue reminders for action items, at most once per item,
threshold and due date even with two workers, through a real local SMTP server, a local stand-in for
the group bots and the in-app list.

Dates: the meeting is 2024-09-12; National Day is 10-01…10-07 and Sunday 09-29 is a working day, so on
Monday 09-30 an item due 10-08 is due "within one working day".
"""

import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from xiaobao.cases.models import Notification
from xiaobao.cases.tests import test_reminders as case_reminders
from xiaobao.cases.tests.conftest import at
from xiaobao.governance import reminders, services
from xiaobao.governance.models import ActionReminder
from xiaobao.governance.reminders import deliver, sweep
from xiaobao.governance.tests.conftest import pdf

smtp = case_reminders.smtp
receiver = case_reminders.receiver
audit_log_flushable = case_reminders.audit_log_flushable
_no_bots_and_no_proxy = case_reminders._no_bots_and_no_proxy


def keys():
    return set(ActionReminder.objects.values_list("item_id", "threshold", "due_date"))


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def test_sweep_queues_due_soon_and_overdue_items_only(make_action, clock):
    import datetime as dt

    clock.move_to(at("2024-09-30 09:00"))
    overdue = make_action(due_date=dt.date(2024, 9, 27))
    due_soon = make_action(due_date=dt.date(2024, 10, 8))  # the next working day after National Day
    make_action(due_date=dt.date(2024, 10, 9))  # not yet
    assert sweep() == 2
    assert keys() == {
        (overdue.pk, "overdue", dt.date(2024, 9, 27)),
        (due_soon.pk, "due_soon", dt.date(2024, 10, 8)),
    }
    assert sweep() == 0  # nothing twice


def test_the_owner_gets_an_email_and_an_in_app_note_and_an_overdue_item_also_tells_its_giver(
    alice, bob, make_action, clock, smtp
):
    import datetime as dt

    with_email(bob, "bob@example.com")
    with_email(alice, "alice@example.com")
    item = make_action(due_date=dt.date(2024, 9, 25))
    Notification.objects.all().delete()
    clock.move_to(at("2024-09-30 09:00"))
    assert reminders.run() == {"queued": 1, "sent": 1, "failed": 0}
    message = smtp.messages[0]
    assert case_reminders.subject(message) == f"【消保督办】督办事项 #{item.pk} 已超期 5 天"
    assert sorted(message["To"].addresses[i].addr_spec for i in range(2)) == [
        "alice@example.com",
        "bob@example.com",
    ]
    body = message.get_content()
    assert "调整热线排班" in body and "2024年第9次消保工作事务委员会 决议 1" in body
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        bob.username,
        alice.username,
    }
    assert reminders.run() == {"queued": 0, "sent": 0, "failed": 0}
    assert Notification.objects.count() == 2


def test_a_due_soon_reminder_goes_to_the_owner_only(alice, bob, make_action, clock):
    import datetime as dt

    make_action(due_date=dt.date(2024, 9, 20))
    Notification.objects.all().delete()
    assert reminders.run() == {"queued": 1, "sent": 1, "failed": 0}
    note = Notification.objects.get()
    assert note.user == bob and "今日到期" in note.message


def test_an_item_closed_before_the_reminder_went_out_is_cancelled(bob, make_action, clock):
    import datetime as dt

    item = make_action(due_date=dt.date(2024, 9, 18))
    sweep()
    services.action_evidence_add(actor=bob, item=item, upload=pdf())
    services.action_transition(actor=bob, item=item, action="close")
    result = deliver()
    assert (result.sent, result.cancelled) == (0, 1)
    assert ActionReminder.objects.get().status == "cancelled"


def test_a_disabled_owner_is_replaced_by_the_units_officers_and_heads(alice, bob, head, make_action, clock):
    import datetime as dt

    make_action(due_date=dt.date(2024, 9, 20))
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    Notification.objects.all().delete()
    reminders.run()
    assert set(Notification.objects.values_list("user__username", flat=True)) == {
        alice.username,
        head.username,
    }


def test_the_group_bot_gets_one_digest(make_action, clock, receiver, settings):
    import datetime as dt

    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/cgi-bin/webhook/send?key=k"
    first = make_action(due_date=dt.date(2024, 9, 18))
    second = make_action(due_date=dt.date(2024, 9, 19), title="修订应急预案")
    assert reminders.run()["sent"] == 2
    (post,) = receiver.posts
    text = post["json"]["text"]["content"]
    assert (
        text.startswith("【消保督办】2 项督办事项需要关注")
        and f"#{first.pk}" in text
        and f"#{second.pk}" in text
    )


def test_a_failing_bot_leaves_the_reminder_pending_for_a_retry(make_action, clock, receiver, settings):
    import datetime as dt

    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/send?key=k"
    receiver.status = 500
    make_action(due_date=dt.date(2024, 9, 18))
    assert reminders.run() == {"queued": 1, "sent": 0, "failed": 1}
    reminder = ActionReminder.objects.get()
    assert (reminder.status, reminder.attempts) == ("pending", 1) and "HTTP 500" in reminder.last_error
    receiver.status = 200
    assert reminders.run() == {"queued": 0, "sent": 1, "failed": 0}


def test_a_second_worker_claiming_the_same_rows_sends_nothing(make_action, clock, monkeypatch):
    import datetime as dt

    for day in (16, 17, 18):
        make_action(due_date=dt.date(2024, 9, day))
    sweep()
    Notification.objects.all().delete()
    claim = reminders._claim
    other = []

    def racing_claim(pk):
        if not other:
            other.append(None)
            other[0] = deliver()  # worker B runs to completion in between
        return claim(pk)

    monkeypatch.setattr(reminders, "_claim", racing_claim)
    first = deliver()
    assert (first.sent, other[0].sent) == (0, 3)
    assert Notification.objects.count() == 6  # owner and giver of each overdue item, once


@pytest.mark.django_db(transaction=True)
def test_two_workers_in_parallel_send_each_reminder_exactly_once(audit_log_flushable, make_action, clock):
    import datetime as dt

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a file or PostgreSQL test database (see the cases reminder test)")
    items = [make_action(due_date=dt.date(2024, 9, 12 + i % 7)) for i in range(reminders.DIGEST_SIZE * 2)]
    Notification.objects.all().delete()
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(reminders.run())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r["sent"] for r in results) == len(items)
    assert set(ActionReminder.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert Notification.objects.count() == 2 * len(items)


def test_the_worker_adds_governance_reminders_to_its_summary(make_action, clock):
    import datetime as dt

    make_action(due_date=dt.date(2024, 9, 18))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 1, "sent": 1, "failed": 0}
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 0, "sent": 0, "failed": 0}
