import pytest
from django.urls import reverse

from xiaobao.accounts.models import Role, User
from xiaobao.audit.models import AuditEntry


@pytest.fixture
def admin(personas):
    return personas[(Role.ADMIN, "inside")]


def test_an_administrator_creates_a_user_with_unit_and_roles(client, admin, tree):
    client.force_login(admin)
    url = reverse("accounts-user-new")
    weak = client.post(
        url,
        {
            "username": "zhou",
            "display_name": "周敏",
            "unit": tree["C1"].pk,
            "roles": ["handler"],
            "is_active": "on",
            "password": "123",
        },
    )
    assert weak.status_code == 400 and not User.objects.filter(username="zhou").exists()
    no_role = client.post(url, {"username": "zhou", "unit": tree["C1"].pk, "password": "Strong-Passw0rd-9"})
    assert no_role.status_code == 400 and "请至少选择一个角色" in no_role.content.decode()
    ok = client.post(
        url,
        {
            "username": "zhou",
            "display_name": "周敏",
            "unit": tree["C1"].pk,
            "roles": ["handler", "officer"],
            "is_active": "on",
            "password": "Strong-Passw0rd-9",
        },
    )
    assert ok.status_code == 302
    user = User.objects.get(username="zhou")
    assert user.unit == tree["C1"] and set(user.roles) == {"handler", "officer"}
    assert user.check_password("Strong-Passw0rd-9")
    entry = AuditEntry.objects.get(action="create", object_id=str(user.pk))
    assert "Strong-Passw0rd-9" not in str(entry.details)


def test_deactivating_a_user_keeps_the_password_and_blocks_login(client, admin, personas, tree):
    bob = personas[(Role.HANDLER, "inside")]
    client.force_login(admin)
    response = client.post(
        reverse("accounts-user-edit", args=[bob.pk]),
        {
            "username": bob.username,
            "display_name": "bob",
            "unit": tree["C1"].pk,
            "roles": ["handler"],
            "password": "",
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.is_active is False and bob.has_usable_password()


def test_only_administrators_change_users(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts-users")).status_code == 200
    assert client.post(reverse("accounts-user-new"), {"username": "x"}).status_code == 403
