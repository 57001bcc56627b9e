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
    "org-unit-detail": (lambda o: {"code": o["unit"].code}, "get", scoped_object(ALL)),
    "customers-list": (lambda o: {}, "get", page(ALL)),
    "customers-detail": (lambda o: {"pk": o["customer"].pk}, "get", scoped_object(ALL)),
    "customers-reveal": (lambda o: {"pk": o["customer"].pk, "field": "phone"}, "get", scoped_object(REVEAL)),
    "audit-list": (lambda o: {}, "get", page(AUDIT)),
    "imports-batches": (lambda o: {}, "get", page(IMPORT)),
}


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
def test_anonymous_users_are_sent_to_login(client, tree, customer, name):
    kwargs, method, _rule = MATRIX[name]
    url = reverse(name, kwargs=kwargs({"unit": tree["C1"], "customer": customer}))
    response = getattr(client, method)(url)
    if name in ("accounts-login",):
        assert response.status_code == 200
    elif name in ("set_language", "accounts-logout"):
        assert response.status_code == 302
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts-login"))


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("role", ROLES)
def test_role_and_unit_decide_access(client, personas, tree, customer, name, where, role):
    kwargs, method, rule = MATRIX[name]
    client.force_login(personas[(role, where)])
    url = reverse(name, kwargs=kwargs({"unit": tree["C1"], "customer": customer}))
    response = getattr(client, method)(url)
    expected = rule(role, where)
    assert response.status_code == expected, f"{role}/{where} {name}: {response.status_code} ≠ {expected}"
    if expected in (403, 404):
        body = response.content.decode()
        assert customer.phone_masked not in body and "13812345678" not in body
