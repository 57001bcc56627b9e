"""Redirects that take a destination from the request never leave the site (an open redirect would
lend xiaobao's address to a phishing link)."""

import pytest
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ELSEWHERE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    "http:evil",
]


def off_site(location: str) -> bool:
    return not location.startswith("/") or location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", ELSEWHERE)
def test_no_redirect_leaves_the_site(client, personas, target):
    officer = personas[(Role.OFFICER, "inside")]
    login = client.post(
        f"{reverse('accounts-login')}?next={target}", {"username": officer.username, "password": PASSWORD}
    )
    assert login.status_code == 302 and not off_site(login["Location"])
    language = client.post(reverse("set_language"), {"language": "en", "next": target})
    assert language.status_code == 302 and not off_site(language["Location"])
    bulk = client.post(reverse("cases-bulk"), {"action": "assign", "ids": "0", "next": target})
    assert bulk.status_code == 302 and bulk["Location"] == reverse("cases-desk")


def test_the_desk_bulk_form_still_returns_to_the_filtered_desk(client, personas):
    client.force_login(personas[(Role.OFFICER, "inside")])
    back = f"{reverse('cases-desk')}?view=mine&q=%E9%80%80%E4%BF%9D"  # 退保
    response = client.post(reverse("cases-bulk"), {"action": "assign", "ids": "0", "next": back})
    assert response.status_code == 302 and response["Location"] == back
