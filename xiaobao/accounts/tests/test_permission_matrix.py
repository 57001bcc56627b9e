"""Role × inside/outside the unit, over every URL the product has.

Every named URL must appear in MATRIX: a new page without a row here fails
test_every_url_is_in_the_matrix, so the matrix grows with the product.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from xiaobao.accounts.models import Role
from xiaobao.conftest import ROLES

ALL = set(ROLES)
REVEAL = {Role.ADMIN, Role.OFFICER, Role.HANDLER}
AUDIT = {Role.ADMIN, Role.AUDITOR, Role.OFFICER}
IMPORT = {Role.ADMIN, Role.OFFICER}
WRITE = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD}
ADMIN = {Role.ADMIN}


def post_to_object(ok_status):
    """A POST on an object of C1 with an empty body: outsiders 404, read-only 403, writers get the
    view's own answer to an empty form (ok_status)."""

    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return ok_status if role in WRITE else 403

    return rule


def post_page(allowed, ok_status):
    return lambda role, where: ok_status if role in allowed else 403


def page(allowed_roles):
    """A page without an object: the role decides, the unit does not."""
    return lambda role, where: 200 if role in allowed_roles else 403


def scoped_object(allowed_roles):
    """An object of unit C1: outsiders get 404 (its existence is not revealed), except the admin."""

    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return 200 if role in allowed_roles else 403

    return rule


# url name → (kwargs from the fixtures, method, expected status for (role, inside|outside))
MATRIX = {
    "home-index": (lambda o: {}, "get", page(ALL)),
    "accounts-login": (lambda o: {}, "get", lambda role, where: 302),  # logged-in users are sent on
    "accounts-logout": (lambda o: {}, "post", lambda role, where: 302),
    "accounts-password-change": (lambda o: {}, "get", page(ALL)),
    "accounts-password-change-done": (lambda o: {}, "get", page(ALL)),
    "set_language": (lambda o: {}, "post", lambda role, where: 302),
    "org-units": (lambda o: {}, "get", page(ALL)),
    "accounts-users": (lambda o: {}, "get", page(ALL)),
    "accounts-user-new": (lambda o: {}, "get", page(ADMIN)),
    "accounts-user-edit": (
        lambda o: {"pk": o["alice"].pk},
        "get",
        lambda role, where: 200 if role == Role.ADMIN else 403,
    ),
    "org-unit-detail": (lambda o: {"code": o["unit"].code}, "get", scoped_object(ALL)),
    "customers-list": (lambda o: {}, "get", page(ALL)),
    "customers-detail": (lambda o: {"pk": o["customer"].pk}, "get", scoped_object(ALL)),
    "customers-reveal": (lambda o: {"pk": o["customer"].pk, "field": "phone"}, "get", scoped_object(REVEAL)),
    "customers-erase": (lambda o: {"pk": o["customer"].pk}, "get", scoped_object(ADMIN)),
    "audit-list": (lambda o: {}, "get", page(AUDIT)),
    "imports-batches": (lambda o: {}, "get", page(IMPORT)),
    "cases-desk": (lambda o: {}, "get", page(ALL)),
    "cases-export": (lambda o: {}, "get", page(ALL)),
    "cases-bulk": (lambda o: {}, "post", post_page(WRITE, 302)),
    "cases-new": (lambda o: {}, "get", page(WRITE)),
    "cases-stats": (lambda o: {}, "get", page(ALL)),
    "cases-notifications": (lambda o: {}, "get", page(ALL)),
    "cases-calendar": (lambda o: {}, "get", page(ALL)),
    "cases-settings": (lambda o: {}, "get", page(ALL)),
    "cases-rectifications": (lambda o: {}, "get", page(ALL)),
    "cases-rectification-new": (lambda o: {}, "get", page(WRITE)),
    "cases-rectification-detail": (lambda o: {"pk": o["rect"].pk}, "get", scoped_object(ALL)),
    "cases-evidence-upload": (lambda o: {"pk": o["rect"].pk}, "post", post_to_object(400)),
    "cases-evidence-download": (
        lambda o: {"pk": o["rect"].pk, "eid": o["evidence"].pk},
        "get",
        scoped_object(ALL),
    ),
    "cases-rectification-submit": (lambda o: {"pk": o["rect"].pk}, "post", post_to_object(302)),
    "cases-rectification-verify": (lambda o: {"pk": o["rect"].pk}, "post", post_to_object(400)),
    "cases-detail": (lambda o: {"pk": o["case"].pk}, "get", scoped_object(ALL)),
    "cases-transition": (lambda o: {"pk": o["case"].pk, "action": "accept"}, "post", post_to_object(400)),
    "cases-extend": (lambda o: {"pk": o["case"].pk}, "post", post_to_object(400)),
    "cases-assign": (lambda o: {"pk": o["case"].pk}, "post", post_to_object(400)),
    "cases-plan": (lambda o: {"pk": o["case"].pk}, "post", post_to_object(400)),
    "cases-plan-done": (lambda o: {"pk": o["case"].pk, "step": o["step"].pk}, "post", post_to_object(302)),
    "cases-contact": (lambda o: {"pk": o["case"].pk}, "post", post_to_object(400)),
    "cases-root-cause": (lambda o: {"pk": o["case"].pk}, "post", post_to_object(400)),
    "cases-callback": (lambda o: {"pk": o["case"].pk}, "post", post_to_object(400)),
    "cases-notice": (lambda o: {"pk": o["case"].pk}, "get", scoped_object(ALL)),
    "cases-reveal": (lambda o: {"pk": o["case"].pk, "field": "phone"}, "get", scoped_object(REVEAL)),
    "api-cases": (lambda o: {}, "get", page(ALL)),
    "api-case-detail": (lambda o: {"case_no": o["case"].case_no}, "get", scoped_object(ALL)),
    "api-case-transitions": (lambda o: {"case_no": o["case"].case_no}, "post", post_to_object(400)),
    "api-case-contacts": (lambda o: {"case_no": o["case"].case_no}, "post", post_to_object(400)),
    "api-schema": (lambda o: {}, "get", page(ALL)),
    "api-unknown": (lambda o: {"rest": "no-such-endpoint/"}, "get", lambda role, where: 404),
}


@pytest.fixture
def objects(tree, customer, alice):
    """One object of every kind, all in unit C1."""
    import datetime as dt

    from django.core.files.base import ContentFile

    from xiaobao.cases.models import Evidence, RootCause
    from xiaobao.cases.services import case_create, case_transition, plan_step_add, rectification_create

    case = case_create(
        actor=alice,
        unit=tree["C1"],
        kind="投诉",
        channel="4008热线",
        category="销售纠纷",
        description="销售误导",
        customer_name="张小三",
        customer_phone="13812345678",
    )
    case = case_transition(actor=alice, case=case, action="accept")
    case = case_transition(actor=alice, case=case, action="decide", decision="同意退保")
    step = plan_step_add(actor=alice, case=case, due_date=dt.date.today(), action="电话联系客户")
    rect = rectification_create(
        actor=alice,
        title="整改销售话术",
        root_cause=RootCause.objects.first(),
        unit=tree["C1"],
        owner=alice,
        due_date=dt.date.today(),
        cases=[case],
    )
    evidence = Evidence(
        rectification=rect,
        original_name="培训签到表.pdf",
        sha256="0" * 64,
        content_type="application/pdf",
        size=9,
        uploaded_by=alice,
    )
    evidence.file.save("x.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    base = {
        "unit": tree["C1"],
        "customer": customer,
        "case": case,
        "step": step,
        "rect": rect,
        "evidence": evidence,
        "alice": alice,
        "tree": tree,
    }
    for module in _app_matrices():
        if hasattr(module, "objects"):
            base.update(module.objects(base))
    return base


def _app_matrices():
    """Each app may add rows in `xiaobao/<app>/tests/matrix.py`: MATRIX = {...} and an optional
    objects(base) -> dict fixture helper that adds its own objects (all in unit C1)."""
    from xiaobao.lib.appmodules import app_modules

    return app_modules("tests.matrix")


for _module in _app_matrices():
    MATRIX.update(_module.MATRIX)


def url_names(patterns=None, namespace=""):
    names = set()
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            names |= url_names(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern) and p.name:
            names.add(p.name)
    return names


def test_every_url_is_in_the_matrix():
    assert url_names() - set(MATRIX) == set(), "add the new URLs to MATRIX"
    assert set(MATRIX) - url_names() == set()


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_users_are_sent_to_login(client, objects, name):
    kwargs, method, _rule = MATRIX[name]
    url = reverse(name, kwargs=kwargs(objects))
    response = getattr(client, method)(url)
    if name in ("accounts-login",):
        assert response.status_code == 200
    elif name in ("set_language", "accounts-logout"):
        assert response.status_code == 302
    elif name == "api-unknown":
        assert response.status_code == 404  # no endpoint there for anyone: nothing to log in for
        assert response.json()["code"] == "not_found"
    elif name.startswith("api-"):
        # The API answers a program, not a browser: 401 with a JSON body instead of a redirect.
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts-login"))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_role_and_unit_decide_access(client, personas, objects, name):
    """Every role, inside and outside C1, against one URL. A write that succeeds changes the objects,
    so each persona runs in a savepoint that is rolled back before the next."""
    from django.db import transaction

    kwargs, method, rule = MATRIX[name]
    customer = objects["customer"]
    failures = []
    for role in ROLES:
        for where in ("inside", "outside"):
            with transaction.atomic():
                client.force_login(personas[(role, where)])
                url = reverse(name, kwargs=kwargs(objects))
                response = getattr(client, method)(url)
                expected = rule(role, where)
                if response.status_code != expected:
                    failures.append(f"{role}/{where} {name}: {response.status_code} ≠ {expected}")
                elif expected in (403, 404):
                    body = response.content.decode()
                    if customer.phone_masked in body or "13812345678" in body:
                        failures.append(f"{role}/{where} {name}: personal data in a refusal")
                transaction.set_rollback(True)
    assert failures == []
