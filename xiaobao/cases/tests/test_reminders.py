"""The reminder worker: sweep() queues, deliver() sends through a real local SMTP server and a real local
HTTP receiver standing in for the WeCom and DingTalk bots, and `xiaobao worker` drives both.

Dates come from China's 2024 calendar: National Day is 10-01…10-07, Sunday 09-29 is a make-up working
day, so a complaint received 09-20 is due Tuesday 10-08 and the working day before it is Monday 09-30.
"""

import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import importlib
import json
import os
import signal
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.cases import reminders
from xiaobao.cases.models import Case, CaseStatus, Notification, Reminder
from xiaobao.cases.reminders import deliver, sweep
from xiaobao.cases.tests.conftest import at
from xiaobao.conftest import make_unit
from xiaobao.lib import webhooks
from xiaobao.org.models import UnitLevel

SEP_30 = "2024-09-30 09:00"  # Monday, the last working day before National Day


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_bots_and_no_proxy(settings, monkeypatch):
    """No test reaches the network: no bot unless a test points one at the local receiver, and no
    proxy from the environment between urllib and 127.0.0.1."""
    settings.XIAOBAO_WECOM_WEBHOOK = ""
    settings.XIAOBAO_DINGTALK_WEBHOOK = ""
    settings.XIAOBAO_DINGTALK_SECRET = ""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def audit_log_flushable(transactional_db):
    """As in xiaobao/tests/test_browser.py: SQLite's flush after a transactional test deletes row by row
    and the audit table's trigger refuses it, so empty it with the trigger lifted, then restore it."""
    yield
    if connection.vendor != "sqlite":
        return
    append_only = importlib.import_module("xiaobao.audit.migrations.0002_append_only")
    with connection.schema_editor() as editor:
        append_only.backwards(None, editor)
        editor.execute(f"DELETE FROM {AuditEntry._meta.db_table}")
        append_only.forwards(None, editor)


class Mailbox:
    """What the local SMTP server received, parsed."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


def subject(message) -> str:
    # Django folds a long encoded subject onto a continuation line; the parser keeps the fold's space.
    return str(message["Subject"]).strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), with Django's SMTP backend pointed at it."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "xiaobao@example.com"
    yield mailbox
    controller.stop()


class Receiver:
    """A real HTTP server on 127.0.0.1 standing in for a group bot; records every POST."""

    def __init__(self):
        self.posts = []
        self.status = 200
        self.answer = {"errcode": 0, "errmsg": "ok"}
        self.url = ""


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            target = urlsplit(self.path)
            state.posts.append(
                {
                    "path": target.path,
                    "query": {k: v[0] for k, v in parse_qs(target.query).items()},
                    "content_type": self.headers["Content-Type"],
                    "json": json.loads(body),
                }
            )
            answer = json.dumps(state.answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def with_email(user, address):
    user.email = address
    user.save(update_fields=["email"])
    return user


def overdue_complaint(make_case, **kw):
    """Received 09-10: 15 days end 09-25, a Wednesday and a working day; overdue from 09-26."""
    return make_case(received_at=at("2024-09-10 10:00"), **kw)


def reminder_keys():
    return set(Reminder.objects.values_list("case__case_no", "threshold", "due_date"))


# --- sweep ------------------------------------------------------------------------------------------


def test_sweep_queues_due_soon_and_overdue_reminders_for_the_right_cases_only(make_case, clock):
    clock.move_to(at(SEP_30))
    due_soon = make_case(received_at=at("2024-09-20 10:00"))
    overdue = overdue_complaint(make_case)
    closed = overdue_complaint(make_case)
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.CLOSED)
    paused = overdue_complaint(make_case)
    Case.objects.filter(pk=paused.pk).update(status=CaseStatus.PAUSED)
    next_week = make_case(received_at=at("2024-09-25 10:00"))
    # An urgent inquiry received Friday 09-27 in office hours had to be answered that day; it was not.
    urgent = make_case(kind="咨询", category="", urgent=True, received_at=at("2024-09-27 10:00"))
    assert (due_soon.due_date, overdue.due_date, next_week.due_date) == (
        dt.date(2024, 10, 8),
        dt.date(2024, 9, 25),
        dt.date(2024, 10, 10),
    )
    assert (urgent.response_due_date, urgent.due_date) == (dt.date(2024, 9, 27), dt.date(2024, 10, 10))

    assert sweep() == 3

    assert reminder_keys() == {
        (due_soon.case_no, "due_soon", dt.date(2024, 10, 8)),
        (overdue.case_no, "overdue", dt.date(2024, 9, 25)),
        (urgent.case_no, "overdue", dt.date(2024, 9, 27)),
    }
    assert set(Reminder.objects.values_list("status", "attempts")) == {("pending", 0)}


def test_due_soon_counts_working_days_across_national_day(make_case, clock, settings):
    case = make_case()  # received 09-20, due Tuesday 10-08
    # Sunday 09-29 is a make-up working day; the next working day after it is Monday 09-30, not 10-08.
    clock.move_to(at("2024-09-29 09:00"))
    assert sweep() == 0
    # Monday 09-30: the next working day is 10-08, after seven days off. A weekday-only calendar
    # would say Tuesday 10-01 and miss it.
    clock.move_to(at(SEP_30))
    assert sweep() == 1
    assert reminder_keys() == {(case.case_no, "due_soon", dt.date(2024, 10, 8))}


def test_the_due_soon_window_is_configurable_in_working_days(make_case, clock, settings):
    case = make_case()
    clock.move_to(at("2024-09-29 09:00"))
    settings.XIAOBAO_REMINDER_DUE_SOON_WORKDAYS = 2  # 09-30 and 10-08
    assert sweep() == 1
    settings.XIAOBAO_REMINDER_DUE_SOON_WORKDAYS = 0  # only deadlines that end today
    Reminder.objects.all().delete()
    assert sweep() == 0
    clock.move_to(at("2024-10-08 09:00"))
    assert sweep() == 1
    assert reminder_keys() == {(case.case_no, "due_soon", dt.date(2024, 10, 8))}


def test_sweeping_twice_queues_nothing_twice(make_case, clock):
    overdue_complaint(make_case)
    make_case()
    clock.move_to(at(SEP_30))
    assert sweep() == 2
    assert sweep() == 0
    assert Reminder.objects.count() == 2


def test_an_extension_moves_the_deadline_and_queues_a_new_reminder(make_case, clock):
    case = overdue_complaint(make_case)
    clock.move_to(at(SEP_30))
    sweep()
    Case.objects.filter(pk=case.pk).update(due_date=dt.date(2024, 10, 8))  # as an extension would
    sweep()
    assert reminder_keys() == {
        (case.case_no, "overdue", dt.date(2024, 9, 25)),
        (case.case_no, "due_soon", dt.date(2024, 10, 8)),
    }


def test_the_sweep_reads_columns_not_cases(make_case, clock):
    """The query count does not grow with the number of cases (100k open cases in production)."""
    for _ in range(2):
        overdue_complaint(make_case)
    clock.move_to(at(SEP_30))
    with CaptureQueriesContext(connection) as few:
        assert sweep() == 2
    Reminder.objects.all().delete()
    for _ in range(20):
        overdue_complaint(make_case)
    with CaptureQueriesContext(connection) as many:
        assert sweep() == 22
    assert len(many) == len(few)


# --- deliver: email, bots, in-app -------------------------------------------------------------------


def test_the_handler_gets_an_email_through_a_real_smtp_server_and_an_in_app_notification(
    make_case, clock, bob, smtp
):
    with_email(bob, "bob@example.com")
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()

    assert deliver().sent == 1

    assert len(smtp.envelopes) == 1
    assert smtp.envelopes[0].rcpt_tos == ["bob@example.com"]
    message = smtp.messages[0]
    assert subject(message) == f"【消保提醒】工单 {case.case_no} 已超期 5 天"
    body = message.get_body(("plain",)).get_content()
    assert f"工单号: {case.case_no}" in body
    assert "工单类型: 投诉 (4008热线)" in body
    assert "责任机构: 甲中心支公司" in body
    assert "办理期限: 2024-09-25 24:00 (15日)" in body
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts, reminder.last_error) == ("sent", 1, "")
    assert reminder.sent_at == at(SEP_30)
    note = Notification.objects.get(user=bob, case=case, message__contains="已超期 5 天")
    assert "办理期限: 2024-09-25" in note.message


def test_a_due_soon_email_names_the_rolled_deadline_and_its_rule(make_case, clock, bob, smtp):
    with_email(bob, "bob@example.com")
    case = make_case(handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    deliver()
    message = smtp.messages[0]
    assert subject(message) == f"【消保提醒】工单 {case.case_no} 即将到期 (10月08日到期)"
    assert "办理期限: 2024-10-08 24:00 (15日, 末日逢节假日顺延)" in message.get_body(("plain",)).get_content()


def test_an_unanswered_urgent_ticket_gets_a_response_reminder(make_case, clock, bob, smtp):
    with_email(bob, "bob@example.com")
    clock.move_to(at(SEP_30))
    case = make_case(kind="咨询", category="", urgent=True, received_at=at("2024-09-27 10:00"), handler=bob)
    sweep()
    deliver()
    message = smtp.messages[0]
    assert subject(message) == f"【消保提醒】工单 {case.case_no} 响应已超期 3 天"
    assert (
        "响应期限: 2024-09-27 24:00 (紧急工单须当个工作日响应), 尚未响应"
        in message.get_body(("plain",)).get_content()
    )


def test_without_a_handler_the_units_officers_and_heads_are_told(make_case, clock, personas, smtp):
    officer = with_email(personas[(Role.OFFICER, "inside")], "officer@example.com")
    head = with_email(personas[(Role.UNIT_HEAD, "inside")], "head@example.com")
    with_email(personas[(Role.HANDLER, "inside")], "handler@example.com")  # not the case's handler
    with_email(personas[(Role.OFFICER, "outside")], "other-unit@example.com")
    case = overdue_complaint(make_case)
    clock.move_to(at(SEP_30))
    sweep()
    deliver()
    assert sorted(smtp.envelopes[0].rcpt_tos) == ["head@example.com", "officer@example.com"]
    assert set(Notification.objects.filter(case=case).values_list("user", flat=True)) == {officer.pk, head.pk}


def test_a_department_without_officers_falls_back_to_the_unit_above(make_case, clock, personas, tree):
    officer = personas[(Role.OFFICER, "inside")]  # sits in C1, above the department C1KF
    case = overdue_complaint(make_case, unit=tree["C1KF"])
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver().sent == 1
    notified = set(Notification.objects.filter(case=case).values_list("user", flat=True))
    assert notified == {officer.pk, personas[(Role.UNIT_HEAD, "inside")].pk}


def test_without_an_smtp_server_the_in_app_list_still_gets_the_reminder(make_case, clock, bob, mailoutbox):
    with_email(bob, "bob@example.com")
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver().sent == 1
    assert mailoutbox == []  # locmem means XIAOBAO_SMTP_URL is not set: no email is attempted
    assert Notification.objects.filter(user=bob, case=case).count() == 1


def test_the_wecom_bot_gets_a_text_message_with_the_case(make_case, clock, bob, receiver, settings):
    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/cgi-bin/webhook/send?key=test-key"
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()

    assert deliver().sent == 1

    [post] = receiver.posts
    assert (post["path"], post["query"]) == ("/cgi-bin/webhook/send", {"key": "test-key"})
    assert post["content_type"] == "application/json; charset=utf-8"
    assert post["json"] == {
        "msgtype": "text",
        "text": {
            "content": "【消保提醒】1 件工单需要关注:\n"
            f"· {case.case_no} 甲中心支公司 投诉 已超期 5 天, 期限 2024-09-25 24:00 (15日)\n"
            "请登录消保运营平台处理。"
        },
    }


def test_the_dingtalk_bot_gets_a_signed_text_message(make_case, clock, bob, receiver, settings):
    settings.XIAOBAO_DINGTALK_WEBHOOK = receiver.url + "/robot/send?access_token=test-token"
    settings.XIAOBAO_DINGTALK_SECRET = "SEC-test-secret"
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()

    assert deliver().sent == 1

    [post] = receiver.posts
    assert post["json"]["msgtype"] == "text"
    assert case.case_no in post["json"]["text"]["content"]
    query = post["query"]
    assert query["access_token"] == "test-token"
    assert int(query["timestamp"]) == int(at(SEP_30).timestamp() * 1000)
    # DingTalk's check: base64(HMAC-SHA256(secret, "timestamp\nsecret")).
    expected = hmac.new(
        b"SEC-test-secret", f"{query['timestamp']}\nSEC-test-secret".encode(), hashlib.sha256
    ).digest()
    assert query["sign"] == base64.b64encode(expected).decode()


def test_many_reminders_go_to_a_bot_as_digests_not_one_message_each(
    make_case, clock, bob, receiver, settings
):
    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/send?key=k"
    cases = [overdue_complaint(make_case, handler=bob) for _ in range(reminders.DIGEST_SIZE + 2)]
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver().sent == len(cases)
    assert len(receiver.posts) == 2
    contents = [post["json"]["text"]["content"] for post in receiver.posts]
    assert all(len(content.encode()) <= webhooks.TEXT_LIMIT_BYTES for content in contents)
    assert all(case.case_no in "".join(contents) for case in cases)


def test_a_bot_answering_500_leaves_the_reminder_pending_for_a_retry(
    make_case, clock, bob, receiver, smtp, settings
):
    with_email(bob, "bob@example.com")
    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/send?key=k"
    receiver.status = 500
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()

    result = deliver()

    assert (result.sent, result.failed) == (0, 1)
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts, reminder.sent_at) == ("pending", 1, None)
    assert reminder.last_error.startswith("企业微信群机器人: 群机器人返回 HTTP 500")
    assert "key=k" not in reminder.last_error  # the bot's key stays out of the database
    # Nothing else went out, so the retry cannot duplicate an email or a notification.
    assert smtp.envelopes == []
    assert not Notification.objects.filter(case=case).exists()

    receiver.status = 200
    assert deliver().sent == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.last_error) == ("sent", 2, "")
    assert len(smtp.envelopes) == 1
    assert Notification.objects.filter(case=case).count() == 1


def test_a_bot_refusing_with_an_errcode_is_a_failure_too(make_case, clock, bob, receiver, settings):
    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/send?key=k"
    receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver().failed == 1
    assert "errcode 93000" in Reminder.objects.get().last_error


def test_an_smtp_server_that_is_down_fails_the_attempt(make_case, clock, bob, settings):
    with_email(bob, "bob@example.com")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver().failed == 1
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == ("pending", 1)
    assert reminder.last_error.startswith("邮件: ")


def test_after_five_failed_attempts_the_reminder_is_given_up_and_shown_in_app(
    make_case, clock, bob, receiver, settings
):
    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/send?key=k"
    receiver.status = 500
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    for _ in range(reminders.MAX_ATTEMPTS):
        assert deliver().failed == 1
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == ("failed", 5)
    assert deliver().failed == 0  # nothing left to try
    assert Notification.objects.filter(user=bob, case=case).count() == 1


def test_a_reminder_whose_case_was_decided_meanwhile_is_cancelled(make_case, clock, bob, smtp):
    with_email(bob, "bob@example.com")
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.DECIDED)
    result = deliver()
    assert (result.sent, result.cancelled) == (0, 1)
    reminder = Reminder.objects.get()
    assert reminder.status == "cancelled"
    assert "已决定" in reminder.last_error
    assert smtp.envelopes == []


def test_a_reminder_with_nobody_to_tell_fails(make_case, clock, tree, personas):
    # A new sub-branch with no staff; the branch and head office above it have none in these tests either.
    lonely = make_unit("C3", "丙中心支公司", UnitLevel.CENTRAL_SUB_BRANCH, tree["BR"])
    overdue_complaint(make_case, actor=None, unit=lonely)
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver().failed == 1
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == ("pending", 1)
    assert "没有可提醒的人员" in reminder.last_error


# --- at most once -----------------------------------------------------------------------------------


def test_a_second_worker_claiming_the_same_rows_sends_nothing(make_case, clock, bob, smtp, monkeypatch):
    """Worker A reads the pending ids; before its first claim, worker B claims and sends them all."""
    with_email(bob, "bob@example.com")
    for _ in range(3):
        overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
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
    assert len(smtp.envelopes) == 3
    assert Notification.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_workers_in_parallel_send_each_reminder_exactly_once(
    audit_log_flushable, make_case, clock, bob, smtp
):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Django's in-memory test database is one shared cache: its table locks fail at once
        # (SQLITE_LOCKED) instead of waiting like a file database in WAL mode with busy_timeout, as
        # xiaobao runs. Run with XIAOBAO_TEST_DATABASE_NAME=/tmp/test.sqlite3 to cover SQLite here;
        # the interleaving itself is covered on every database by the test above.
        pytest.skip("needs a file or PostgreSQL test database")
    with_email(bob, "bob@example.com")
    cases = [overdue_complaint(make_case, handler=bob) for _ in range(reminders.DIGEST_SIZE * 2)]
    clock.move_to(at(SEP_30))
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            sweep()
            results.append(deliver(batch=len(cases)))
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
    assert sum(result.sent for result in results) == len(cases)
    assert Reminder.objects.count() == len(cases)
    assert set(Reminder.objects.values_list("status", "attempts")) == {("sent", 1)}
    subjects = sorted(subject(message) for message in smtp.messages)
    assert subjects == sorted(f"【消保提醒】工单 {case.case_no} 已超期 5 天" for case in cases)
    assert Notification.objects.filter(message__contains="已超期").count() == len(cases)


def test_a_stale_sending_reminder_is_recovered_by_the_next_sweep(make_case, clock, bob, smtp):
    with_email(bob, "bob@example.com")
    dead, busy, hopeless = (overdue_complaint(make_case, handler=bob) for _ in range(3))
    clock.move_to(at(SEP_30))
    sweep()
    now = at(SEP_30)
    Reminder.objects.filter(case=dead).update(status="sending", sent_at=now - dt.timedelta(minutes=11))
    Reminder.objects.filter(case=busy).update(status="sending", sent_at=now - dt.timedelta(minutes=5))
    Reminder.objects.filter(case=hopeless).update(
        status="sending", sent_at=now - dt.timedelta(minutes=11), attempts=4
    )

    sweep()

    recovered = Reminder.objects.get(case=dead)
    assert (recovered.status, recovered.attempts, recovered.sent_at) == ("pending", 1, None)
    assert "发送中断" in recovered.last_error
    assert Reminder.objects.get(case=busy).status == "sending"  # its worker may still be at it
    assert (Reminder.objects.get(case=hopeless).status, Reminder.objects.get(case=hopeless).attempts) == (
        "failed",
        5,
    )
    assert deliver().sent == 1
    assert [subject(m) for m in smtp.messages] == [f"【消保提醒】工单 {dead.case_no} 已超期 5 天"]


# --- the worker command -----------------------------------------------------------------------------


def test_worker_once_prints_a_json_summary(make_case, clock, bob):
    case = overdue_complaint(make_case, handler=bob)
    make_case(handler=bob)  # due 10-08, not yet due soon on 09-27
    clock.move_to(at("2024-09-27 09:00"))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 1, "sent": 1, "failed": 0}
    assert Notification.objects.filter(user=bob, case=case).count() == 1

    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 0, "sent": 0, "failed": 0}


def test_worker_once_counts_failures(make_case, clock, bob, receiver, settings):
    settings.XIAOBAO_WECOM_WEBHOOK = receiver.url + "/send?key=k"
    receiver.status = 500
    overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert json.loads(out.getvalue()) == {"queued": 1, "sent": 0, "failed": 1}


class StopAfterFirstRound(StringIO):
    """The worker's stdout: SIGTERM to this very process as soon as the first round's summary is
    written, so the test does not depend on how long a round takes."""

    def write(self, text):
        written = super().write(text)
        if text.startswith("{"):
            os.kill(os.getpid(), signal.SIGTERM)
        return written


@pytest.mark.django_db(transaction=True)
def test_worker_loop_stops_cleanly_on_sigterm(audit_log_flushable, make_case, clock, bob):
    case = overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    before = signal.getsignal(signal.SIGTERM)
    out = StopAfterFirstRound()

    call_command("worker", "--interval", "0.1", stdout=out)  # returns, instead of the process dying

    lines = out.getvalue().splitlines()
    assert lines == [
        "提醒进程已启动, 每 0.1 秒扫描一次",
        json.dumps({"queued": 1, "sent": 1, "failed": 0}),
        "收到停止信号, 提醒进程已退出",
    ]
    assert signal.getsignal(signal.SIGTERM) == before
    assert Notification.objects.filter(user=bob, case=case, message__contains="已超期").count() == 1


def test_a_stop_request_is_honoured_between_chunks(make_case, clock, bob):
    overdue_complaint(make_case, handler=bob)
    clock.move_to(at(SEP_30))
    sweep()
    assert deliver(stop=lambda: True).sent == 0
    assert Reminder.objects.get().status == "pending"


# --- xiaobao.lib.webhooks ---------------------------------------------------------------------------


def test_webhook_text_is_cut_to_the_byte_limit_without_breaking_a_character():
    text = "消保提醒" * 1000
    cut = webhooks.truncate_utf8(text)
    assert len(cut.encode()) <= webhooks.TEXT_LIMIT_BYTES
    assert cut.endswith("…") and text.startswith(cut[:-1])
    assert webhooks.truncate_utf8("短消息") == "短消息"


def test_webhooks_refuse_anything_but_http():
    with pytest.raises(webhooks.WebhookError, match="http"):
        webhooks.post_json("file:///etc/passwd", {})


def test_an_unreachable_bot_is_a_webhook_error_without_the_url():
    with pytest.raises(webhooks.WebhookError) as info:
        webhooks.post_json(f"http://127.0.0.1:{free_port()}/send?key=secret-key", {}, timeout=2)
    assert "secret-key" not in str(info.value)
    assert str(info.value).startswith("无法连接群机器人")
