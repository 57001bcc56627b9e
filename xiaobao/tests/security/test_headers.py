"""Security headers on every response of the product, and pages that satisfy the CSP as served:
no inline script, no inline style, no event-handler attribute anywhere (the browser test in
test_browser_csp.py checks the same pages as chromium runs them)."""

import pytest
from django.test import Client
from django.urls import reverse

from xiaobao.accounts.middleware import CONTENT_SECURITY_POLICY
from xiaobao.accounts.models import Role
from xiaobao.tests.security.crawl import body_of, is_html, matrix_urls, read_page
from xiaobao.tests.security.test_xss import FRAGMENTS

pytestmark = pytest.mark.django_db

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


def test_the_policy_itself_is_strict():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    for forbidden in ("unsafe-inline", "unsafe-eval", "*", "http:", "https:"):
        assert not any(
            forbidden in value.split() or f"'{forbidden}'" in value for value in directives.values()
        )


@pytest.fixture(scope="module")
def responses(world, django_db_blocker):
    """(label, response, body) of every kind of answer: each page and fragment, downloads, JSON, errors."""
    with django_db_blocker.unblock():
        return [(label, response, body_of(response)) for label, response in _responses(world)]


def _responses(world):
    admin, handler, anonymous = Client(raise_request_exception=False), Client(), Client()
    admin.force_login(world["people"][(Role.ADMIN, "A")])
    handler.force_login(world["people"][(Role.HANDLER, "A")])
    for name, url, _method in matrix_urls(world["A"], "get"):
        yield name, admin.get(url)
        if name in FRAGMENTS:
            yield f"{name} (htmx)", admin.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=FRAGMENTS[name])
    yield "login", anonymous.get(reverse("accounts-login"))
    yield "anonymous redirect", anonymous.get(reverse("cases-desk"))
    yield "404", handler.get("/no/such/page/")
    yield "403", handler.get(reverse("accounts-user-new"))
    yield "404 of another unit", handler.get(reverse("cases-detail", args=[world["B"]["case"].pk]))
    yield "400", handler.get(reverse("customers-list"), {"q": "\x00"})
    yield "405", handler.get(reverse("accounts-logout"))
    yield "api 401", anonymous.get(reverse("api-cases"))
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(world["people"][(Role.HANDLER, "A")])
    refused = csrf.post(reverse("cases-bulk"), {"ids": "1"})
    assert "页面已过期" in body_of(refused)  # the product's page, not Django's English one
    yield "csrf failure", refused
    for _ in range(6):
        locked = anonymous.post(reverse("accounts-login"), {"username": "handler_a", "password": "wrong"})
    yield "lockout", locked
    yield "static", anonymous.get("/static/xiaobao/app.js")


def test_every_response_carries_the_security_headers(responses):
    problems, seen = [], 0
    for label, response, _body in responses:
        seen += 1
        wanted = HEADERS if not label == "static" else {"X-Content-Type-Options": "nosniff"}
        for header, value in wanted.items():
            if response.get(header) != value:
                problems.append(f"{label} ({response.status_code}): {header} = {response.get(header)!r}")
        user = getattr(response.wsgi_request, "user", None)
        if user is not None and user.is_authenticated:
            if "no-store" not in response.get("Cache-Control", ""):
                problems.append(f"{label}: personal pages may be cached ({response.get('Cache-Control')!r})")
    assert not problems, "\n".join(problems)
    assert seen >= 100


def test_no_page_needs_inline_script_style_or_handlers(responses):
    problems = []
    for label, response, body in responses:
        if not is_html(response):
            continue
        page = read_page(body)
        for kind, found in (
            ("inline script", page.inline_scripts),
            ("inline style", page.inline_styles),
            ("event handler", page.handlers),
        ):
            if found:
                problems.append(f"{label} ({response.status_code}): {kind} {found[:2]}")
    assert not problems, "\n".join(problems)
