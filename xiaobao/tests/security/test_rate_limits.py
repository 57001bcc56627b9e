"""Rate limits that actually trigger: the login lockout (django-axes, per username and address)
and the API's throttle (DRF), each at its configured value, with the clock moved by time-machine."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from xiaobao.accounts.models import Role
from xiaobao.audit.models import AuditEntry
from xiaobao.conftest import PASSWORD

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def officer(personas):
    return personas[(Role.OFFICER, "inside")]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """DRF keeps its throttle counts in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


def login(client, username, password, address="10.8.0.7", **headers):
    return client.post(
        reverse("accounts-login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_configured_number_of_wrong_passwords_locks_the_user_at_that_address(officer):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5  # XIAOBAO_LOGIN_FAILURE_LIMIT's default, as the README promises
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        for attempt in range(limit - 1):
            assert login(client, officer.username, f"wrong-{attempt}").status_code == 200
        assert login(client, officer.username, PASSWORD).status_code == 302  # 4 failures: not yet
        client.post(reverse("accounts-logout"))

        for attempt in range(limit):
            login(client, officer.username, f"wrong-{attempt}")
        locked = login(client, officer.username, PASSWORD)
        assert locked.status_code == 429 and not logged_in(client)
        assert "已暂时锁定" in locked.content.decode()

        # Another address may still log in as the user (the pair is locked, not the account) …
        assert login(Client(), officer.username, PASSWORD, address="10.8.0.99").status_code == 302
        # … but not by claiming one: the address is the connection's, not a header's.
        spoofed = login(client, officer.username, PASSWORD, HTTP_X_FORWARDED_FOR="10.8.0.99")
        assert spoofed.status_code == 429 and not logged_in(client)

        # 15 minutes after the last attempt the pair is free again; trying meanwhile starts them anew.
        clock.shift(dt.timedelta(minutes=14))
        assert login(client, officer.username, PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=14))
        assert login(client, officer.username, PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=16))
        assert login(client, officer.username, PASSWORD).status_code == 302 and logged_in(client)
    assert AuditEntry.objects.filter(action="locked_out", actor_name=officer.username).exists()


def test_spelling_the_username_differently_does_not_reset_the_count(officer):
    """The form strips blanks and normalises the name before django-axes counts it."""
    client = Client()
    variants = [officer.username, f" {officer.username}", f"{officer.username} ", f"\t{officer.username}"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, variants[attempt % len(variants)], "wrong-password")
    assert login(client, officer.username, PASSWORD).status_code == 429
    assert login(client, f" {officer.username} ", PASSWORD).status_code == 429
    assert not logged_in(client)


def test_failures_spread_over_users_lock_each_pair_separately(personas):
    """Guessing one password for many users from one address: each user is counted on its own."""
    client = Client()
    users = [personas[(role, "inside")] for role in (Role.HANDLER, Role.AUDITOR)]
    for user in users:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            login(client, user.username, "Summer2024!")
    assert all(login(client, user.username, PASSWORD).status_code == 429 for user in users)
    assert login(client, personas[(Role.UNIT_HEAD, "inside")].username, PASSWORD).status_code == 302


def test_the_api_answers_429_in_chinese_beyond_its_rate(officer, customer):
    """120 calls a minute per account: the 121st within the minute is refused, the next minute not."""
    from xiaobao.cases import api
    from xiaobao.cases.services import case_create

    case = case_create(
        actor=officer, unit=officer.unit, kind="咨询", channel="4008热线", description="咨询保单"
    )
    token = Token.objects.create(user=officer)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = reverse("api-case-detail", kwargs={"case_no": case.case_no})
    allowed = int(api.ApiUserThrottle.rate.split("/")[0])
    assert allowed == 120
    with time_machine.travel(START, tick=False) as clock:
        statuses = [client.get(url).status_code for _ in range(allowed)]
        assert set(statuses) == {200}
        refused = client.get(url)
        assert refused.status_code == 429
        body = refused.json()
        assert body["code"] == "throttled"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body
        assert "Request was throttled" not in body["detail"]
        assert int(refused["Retry-After"]) <= 60
        # Another account has its own allowance.
        other = Token.objects.create(user=customer.unit.users.exclude(pk=officer.pk).first())
        assert Client(HTTP_AUTHORIZATION=f"Token {other.key}").get(url).status_code in (200, 404)
        clock.shift(dt.timedelta(seconds=61))
        assert client.get(url).status_code == 200


def test_an_anonymous_caller_is_refused_before_any_work(db):
    """Without credentials every endpoint answers 401 at once (the anonymous throttle is a backstop)."""
    client = Client()
    responses = [client.get(reverse("api-cases")) for _ in range(40)]
    assert {r.status_code for r in responses} == {401}
    assert responses[-1].json()["code"] == "not_authenticated"
