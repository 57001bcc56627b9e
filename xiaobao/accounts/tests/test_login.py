import pytest
from django.urls import reverse

from xiaobao.audit.models import AuditEntry
from xiaobao.conftest import PASSWORD


@pytest.fixture
def bob(personas):
    from xiaobao.accounts.models import Role

    return personas[(Role.HANDLER, "inside")]


def login(client, username, password):
    return client.post(
        reverse("accounts-login"), {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3"
    )


def test_login_lands_on_the_desk_and_is_audited(client, bob):
    response = login(client, bob.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home-index")
    entry = AuditEntry.objects.get(action="login")
    assert entry.actor == bob and entry.ip == "10.1.2.3" and entry.unit_code == "C1"
    page = client.get(reverse("home-index")).content.decode()
    assert "工作台" in page and bob.username in page


def test_a_wrong_password_is_refused_in_chinese_and_audited(client, bob):
    response = login(client, bob.username, "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.actor_name == bob.username
    assert "wrong-password" not in str(entry.details)


def test_repeated_wrong_passwords_lock_the_account_and_are_logged(client, bob, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, bob.username, "wrong-password")
    response = login(client, bob.username, PASSWORD)  # even the right password is refused now
    assert response.status_code == 429
    assert "已暂时锁定" in response.content.decode()
    assert AuditEntry.objects.filter(action="locked_out").exists()
    assert not AuditEntry.objects.filter(action="login").exists()


def test_logout_needs_post_and_is_audited(client, bob):
    client.force_login(bob)
    assert client.get(reverse("accounts-logout")).status_code == 405
    assert client.post(reverse("accounts-logout")).status_code == 302
    assert AuditEntry.objects.filter(action="logout", actor=bob).exists()
    assert client.get(reverse("home-index")).status_code == 302


def test_password_change_is_validated_and_audited(client, bob):
    client.force_login(bob)
    url = reverse("accounts-password-change")
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "密码" in weak.content.decode()
    ok = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "Neu-Passw0rt-2024",
            "new_password2": "Neu-Passw0rt-2024",
        },
    )
    assert ok.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("Neu-Passw0rt-2024")
    assert AuditEntry.objects.filter(action="password_change", actor=bob).exists()


def test_language_switch_turns_the_interface_english(client, bob):
    client.force_login(bob)
    assert "工作台" in client.get(reverse("home-index")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("home-index")).content.decode()
    assert "Desk" in page and "工作台" not in page


def test_pages_carry_security_headers(client, bob):
    client.force_login(bob)
    response = client.get(reverse("home-index"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "no-store"


def test_an_auditor_cannot_change_anything(client, personas, customer):
    from xiaobao.accounts import access
    from xiaobao.accounts.models import Role

    auditor = personas[(Role.AUDITOR, "inside")]
    assert not access.can_write(auditor)
    assert not access.can_reveal(auditor)
    client.force_login(auditor)
    response = client.post(
        reverse("customers-reveal", args=[customer.pk, "phone"]), {"reason": "随便看看而已"}
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="reveal").exists()
