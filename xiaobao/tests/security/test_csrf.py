"""CSRF across the product: every POST form of every page carries the token, htmx requests send it
from the page, and a POST without it is refused (403) on every URL and changes nothing.

The pages are every named URL (the permission matrix's rows) reversed on unit A's records, read by
the roles whose pages differ: the administrator, the officer, the unit head (who decides plans) and
the handler who submitted the review (who answers its opinions)."""

import json
import logging

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import MATRIX
from xiaobao.tests.security.crawl import (
    changed,
    fingerprint,
    is_html,
    matrix_urls,
    read_page,
    unbuildable,
)

pytestmark = pytest.mark.django_db

CRAWLERS = [(Role.ADMIN, "A"), (Role.OFFICER, "A"), (Role.UNIT_HEAD, "A"), ("submitter", "A")]


@pytest.fixture(scope="module")
def crawl(world, django_db_blocker):
    """{(url, role): (status, Page)} of every GET page for every crawler, and the POST forms found."""
    pages, forms = {}, {}
    rows = matrix_urls(world["A"], "get")
    # The other roles' pages differ from the administrator's on records only (a plan to decide, opinions
    # to answer): they read the record pages.
    records = [row for row in rows if MATRIX[row[0]][0](world["A"])]
    with django_db_blocker.unblock():
        for key in CRAWLERS:
            client = Client()
            client.force_login(world["people"][key])
            for _name, url, _method in rows if key[0] == Role.ADMIN else records:
                response = client.get(url)
                if not is_html(response):
                    continue
                page = read_page(response.content.decode())
                pages[(url, key[0])] = (response.status_code, page)
                for form in page.forms:
                    if form.method == "post":
                        forms.setdefault(form.action or url, form)
    return {"pages": pages, "forms": forms}


def test_the_world_builds_every_object_the_matrix_needs(world):
    assert unbuildable(world["A"]) == [], "add the missing objects to xiaobao/tests/security/world.py"


def test_every_post_form_on_every_page_carries_the_token(crawl):
    pages = crawl["pages"]
    missing = []
    post_forms = 0
    for (url, role), (_status, page) in pages.items():
        for form in page.forms:
            if form.method != "post":
                continue
            post_forms += 1
            if len(form.token) < 32:
                missing.append(f"{role} {url}: form → {form.action or url} has no csrfmiddlewaretoken")
    assert not missing, "\n".join(missing)
    # The crawl saw the product, not an error page: the matrix's pages and their forms.
    assert len(pages) >= 100 and post_forms >= 100, (len(pages), post_forms)
    assert len(crawl["forms"]) >= 50


def test_every_page_gives_htmx_the_token_and_htmx_writes_use_it(world, crawl):
    """htmx sends the headers of `hx-headers` on the closest ancestor: the <body> of every page holds
    the token, so a fragment swapped into any page posts it too."""
    problems, writes = [], 0
    for (url, role), (status, page) in crawl["pages"].items():
        if status not in (200, 400) or not page.body_attrs:
            continue  # a redirect, a refusal or a fragment (htmx swaps it into a page checked here)
        if "hx-headers" not in page.body_attrs:
            problems.append(f"{role} {url}: <body> without hx-headers")
            continue
        token = json.loads(page.body_attrs["hx-headers"]).get("X-CSRFToken", "")
        if len(token) < 32:
            problems.append(f"{role} {url}: hx-headers without X-CSRFToken")
        writes += len(page.hx_writes)
    assert not problems, "\n".join(problems)

    # The reveal form is the product's htmx write: it works with the page's header and not without.
    customer = world["A"]["customer"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["people"][(Role.OFFICER, "A")])
    page = read_page(client.get(reverse("customers-detail", args=[customer.pk])).content.decode())
    token = json.loads(page.body_attrs["hx-headers"])["X-CSRFToken"]
    fragment = client.get(reverse("customers-reveal", args=[customer.pk, "phone"]), HTTP_HX_REQUEST="true")
    hx = read_page(fragment.content.decode()).hx_writes
    assert [attribute for attribute, _url in hx] == ["hx-post"]
    url, data = hx[0][1], {"reason": "客户来电核实预留手机号"}
    refused = client.post(url, data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and "13812345678" not in refused.content.decode()
    accepted = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and "13812345678" in accepted.content.decode()


def _targets(world, crawl) -> dict[str, dict]:
    """Every URL a POST could reach: the crawled forms with the values they were shown with, and
    every matrix row (GET pages too: most of them take their own form's POST) with an empty body."""
    # The API's catch-all (api-unknown) writes nothing and answers JSON 404/308 to a token client,
    # which has no CSRF cookie: it is exempt, and tested in cases/tests/test_api.py.
    targets = {url: {} for name, url, _method in matrix_urls(world["A"]) if name != "api-unknown"}
    for url, form in crawl["forms"].items():
        targets[url] = {k: v for k, v in form.fields.items() if k != "csrfmiddlewaretoken"}
    return targets


def _csrf_refusals(caplog) -> int:
    return sum(1 for r in caplog.records if r.name == "django.security.csrf")


def refused_by_csrf(response, caplog) -> bool:
    """Django's check logs to django.security.csrf; DRF runs the same check for a session-authenticated
    call but answers with its own 403 body instead."""
    if "json" in response.get("Content-Type", ""):
        return response.status_code == 403 and "CSRF" in response.json().get("detail", "")
    return response.status_code == 403 and _csrf_refusals(caplog) == 1


def test_a_post_without_the_token_is_refused_everywhere_and_changes_nothing(world, crawl, caplog):
    targets = _targets(world, crawl)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["people"][(Role.ADMIN, "A")])
    client.get(reverse("home-index"))  # the CSRF cookie is set: only the token in the request is missing
    assert "csrftoken" in client.cookies
    before = fingerprint()
    failures = []
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        for url, data in sorted(targets.items()):
            caplog.clear()
            response = client.post(url, data)
            if not refused_by_csrf(response, caplog):
                failures.append(f"{url}: {response.status_code} without the token")
    assert not failures, "\n".join(failures)
    assert changed(before, fingerprint()) == []
    assert len(targets) >= 100


def test_the_same_posts_with_the_token_pass_the_check(world, crawl, caplog):
    """The counter-proof: the 403s above are the CSRF check's, not the views' own refusals."""
    targets = _targets(world, crawl)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["people"][(Role.ADMIN, "A")])
    client.get(reverse("home-index"))
    token = client.cookies["csrftoken"].value
    failures = []
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        for url in sorted(targets):
            if url.startswith(reverse("reports-generate")) or url.startswith(reverse("book-import")):
                continue  # a valid form would start a background job; the empty body below does not
            caplog.clear()
            with transaction.atomic():
                response = client.post(url, {}, HTTP_X_CSRFTOKEN=token)
                transaction.set_rollback(True)
            if refused_by_csrf(response, caplog):
                failures.append(f"{url}: {response.status_code} refused with the token")
    assert not failures, "\n".join(failures)


def test_anonymous_posts_need_the_token_too(world, caplog):
    """Login CSRF: without the token nobody logs in, not even with the right password."""
    client = Client(enforce_csrf_checks=True)
    login = reverse("accounts-login")
    officer = world["people"][(Role.OFFICER, "A")]
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post(login, {"username": officer.username, "password": "Test-Passw0rd!"})
    assert response.status_code == 403 and _csrf_refusals(caplog) == 1
    assert "_auth_user_id" not in client.session
    page = read_page(client.get(login).content.decode())
    form = next(f for f in page.forms if f.method == "post" and "username" in f.fields)
    response = client.post(
        login,
        {"username": officer.username, "password": "Test-Passw0rd!", "csrfmiddlewaretoken": form.token},
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(officer.pk)


def test_the_api_enforces_csrf_for_a_browser_session_but_not_for_a_token(world, caplog):
    """DRF checks CSRF when the session authenticates the call; the CTI system's token needs none."""
    from rest_framework.authtoken.models import Token

    case = world["A"]["case"]
    url = reverse("api-case-contacts", kwargs={"case_no": case.case_no})
    body = {"method": "电话", "outcome": "已联系客户说明处理进度"}
    officer = world["people"][(Role.OFFICER, "A")]
    session = Client(enforce_csrf_checks=True)
    session.force_login(officer)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        refused = session.post(url, body, content_type="application/json")
    assert refused_by_csrf(refused, caplog)
    assert not case.contacts.filter(outcome=body["outcome"]).exists()

    token = Token.objects.create(user=officer)
    machine = Client(enforce_csrf_checks=True)
    accepted = machine.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert accepted.status_code == 201, accepted.content
    assert case.contacts.filter(outcome=body["outcome"]).count() == 1
