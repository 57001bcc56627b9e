"""Sessions: an idle session ends after XIAOBAO_SESSION_MINUTES, activity keeps it alive, logging out
kills it on the server, and the cookie is out of scripts' and other sites' reach."""

import datetime as dt
import os
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.conftest import PASSWORD

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_the_settings_end_idle_sessions():
    assert settings.SESSION_COOKIE_AGE == 30 * 60  # XIAOBAO_SESSION_MINUTES' default
    assert settings.SESSION_SAVE_EVERY_REQUEST is True  # every request restarts the idle clock
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is False
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax" and settings.CSRF_COOKIE_SAMESITE == "Lax"


def test_the_idle_minutes_come_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIAOBAO_")}
    env |= {"XIAOBAO_DATA_DIR": str(tmp_path), "XIAOBAO_SESSION_MINUTES": "7", "XIAOBAO_MODE": "production"}
    env |= {"XIAOBAO_SECRET_KEY": "s" * 50, "XIAOBAO_FIELD_KEY": "a" * 64}
    code = "import xiaobao.settings as s; print(s.SESSION_COOKIE_AGE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["420", "True", "True"], out.stderr


def sign_in(client, user):
    response = client.post(reverse("accounts-login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_an_idle_session_is_logged_out_and_activity_keeps_one_alive(personas):
    officer = personas[(Role.OFFICER, "inside")]
    desk = reverse("home-index")
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, officer)
        response = client.get(desk)
        assert response.status_code == 200
        assert response.cookies["sessionid"]["max-age"] == 30 * 60
        assert (
            response.cookies["sessionid"]["httponly"] and response.cookies["sessionid"]["samesite"] == "Lax"
        )
        for _ in range(3):  # 87 minutes of work, never 30 idle
            clock.shift(dt.timedelta(minutes=29))
            assert client.get(desk).status_code == 200
        clock.shift(dt.timedelta(minutes=30, seconds=1))
        expired = client.get(desk)
        assert expired.status_code == 302 and expired["Location"].startswith(reverse("accounts-login"))
        api = client.get(reverse("api-cases"))
        assert api.status_code == 401  # the API does not take the stale cookie either
        assert client.post(reverse("cases-bulk"), {"ids": "1"}).status_code == 302


def test_logging_out_ends_the_session_on_the_server(personas):
    """A copied session cookie is worthless after logout, and a login issues a new session key."""
    officer = personas[(Role.OFFICER, "inside")]
    client = Client()
    client.get(reverse("accounts-login"))
    client.cookies["sessionid"] = "attacker-chosen-key"
    sign_in(client, officer)
    key = client.cookies["sessionid"].value
    assert key != "attacker-chosen-key"
    thief = Client()
    thief.cookies["sessionid"] = key
    assert thief.get(reverse("home-index")).status_code == 200
    client.post(reverse("accounts-logout"))
    assert thief.get(reverse("home-index")).status_code == 302


def test_a_password_change_ends_the_other_sessions(personas):
    officer = personas[(Role.OFFICER, "inside")]
    laptop, phone = Client(), Client()
    sign_in(laptop, officer)
    sign_in(phone, officer)
    new = "Neu-Passw0rt-2026"
    changed = laptop.post(
        reverse("accounts-password-change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    assert laptop.get(reverse("home-index")).status_code == 200
    assert phone.get(reverse("home-index")).status_code == 302
