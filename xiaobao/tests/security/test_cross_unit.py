"""Cross-unit access, crawled: users of unit A, in every role but the administrator (who is
branch-wide by the permission matrix's rule), against everything of unit B.

The permission matrix checks each URL with an empty body. This crawl goes further: it requests
every object URL of unit B (and its htmx fragment), posts to every action of unit B the very form
unit B's own users are shown, mixes unit A's parents with unit B's children in nested URLs, points
every unit, person and record field of unit A's forms at unit B, and reads every list, search,
export and statistics page with unit B's code as a parameter. Nothing of unit B may change, be
linked to or be shown: unit B's marker (world.py) must appear in no response.
"""

import datetime as dt

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import MATRIX
from xiaobao.tests.security.crawl import body_of, changed, fingerprint, matrix_urls, post_forms
from xiaobao.tests.security.test_injection import text_of
from xiaobao.tests.security.test_xss import FRAGMENTS
from xiaobao.tests.security.world import MARKS, PDF

pytestmark = pytest.mark.django_db

OUTSIDERS = [Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR]


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def object_rows(world) -> list[tuple[str, str, str]]:
    """(name, url of unit B's object, method): the rows whose URL differs between the two units."""
    a = {name: url for name, url, _m in matrix_urls(world["A"])}
    return [(name, url, method) for name, url, method in matrix_urls(world["B"]) if url != a[name]]


@pytest.fixture(scope="module")
def b_forms(world, django_db_blocker):
    """The POST forms of unit B's pages as unit B's own users see them: {action: fields}."""
    with django_db_blocker.unblock():
        rows = matrix_urls(world["B"], "get")
        urls = [url for _n, url, _m in rows]
        records = [url for name, url, _m in rows if MATRIX[name][0](world["B"])]
        forms = {}
        for key in [(Role.ADMIN, "B"), (Role.UNIT_HEAD, "B"), ("submitter", "B")]:
            client = client_for(world["people"][key])
            for action, form in post_forms(client, urls if key[0] == Role.ADMIN else records).items():
                forms.setdefault(action, {k: v for k, v in form.fields.items() if k != "csrfmiddlewaretoken"})
    return forms


def refused(response) -> bool:
    return response.status_code in (403, 404)


def test_every_object_of_unit_b_is_refused_to_every_role_of_unit_a(world, b_forms):
    rows = object_rows(world)
    assert len(rows) >= 70, len(rows)
    clients = {role: client_for(world["people"][(role, "A")]) for role in OUTSIDERS}  # logins write
    before = fingerprint()
    problems = []
    for role, client in clients.items():
        for name, url, method in rows:
            if method == "get":
                responses = [client.get(url)]
                if name in FRAGMENTS:
                    responses.append(client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=FRAGMENTS[name]))
            else:
                responses = [client.post(url, b_forms.get(url, {}))]
            for response in responses:
                if not refused(response):
                    problems.append(f"{role} {method.upper()} {name} {url}: {response.status_code}")
                elif MARKS["B"] in body_of(response):
                    problems.append(f"{role} {method.upper()} {name} {url}: unit B's data in the refusal")
    assert not problems, "\n".join(problems)
    assert changed(before, fingerprint()) == []


def test_the_forms_posted_were_real_ones(world, b_forms):
    """The counter-proof of the POSTs above: unit B's officer posting the same body is not refused."""
    officer = client_for(world["people"][(Role.OFFICER, "B")])
    posted = [(name, url) for name, url, method in object_rows(world) if method == "post" and url in b_forms]
    assert len(posted) >= 25, len(posted)
    accepted = 0
    for _name, url in posted:
        with transaction.atomic():
            accepted += not refused(officer.post(url, b_forms[url]))
            transaction.set_rollback(True)
    assert accepted >= len(posted) * 0.8, (accepted, len(posted))


def test_nested_urls_do_not_reach_unit_b_through_a_parent_of_unit_a(world):
    """/rectifications/<A's>/evidence/<B's>/ and the like: the child is looked up under its parent."""
    officer = client_for(world["people"][(Role.OFFICER, "A")])
    before = fingerprint()
    problems, mixed = [], 0
    for name, (kwargs, method, _rule) in sorted(MATRIX.items()):
        a, b = kwargs(world["A"]), kwargs(world["B"])
        children = {key: b[key] for key in a if key != "pk" and a[key] != b[key]}
        if "pk" not in a or not children:
            continue
        url = reverse(name, kwargs=a | children)
        mixed += 1
        response = officer.get(url) if method == "get" else officer.post(url, {})
        # A POST may answer 400, or redirect back to unit A's parent having found nothing to change.
        allowed = (404,) if method == "get" else (302, 400, 403, 404)
        if response.status_code not in allowed or MARKS["B"] in body_of(response):
            problems.append(f"{name} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert mixed >= 10, mixed
    assert changed(before, fingerprint()) == []


def test_lists_searches_exports_and_statistics_show_nothing_of_unit_b(world):
    """Every page of the product without an object, and again with unit B's code in every parameter
    that names a unit, and searching for what unit B's records say."""
    objects = {url for _n, url, _m in object_rows(world)}
    pages = [url for _n, url, _m in matrix_urls(world["A"], "get") if url not in objects]
    common = MARKS["A"][:3]  # both markers begin with it: searched, it finds unit A's records only
    assert MARKS["B"].startswith(common)
    queries = [{}, {"unit": "C2", "org": "C2"}, {"q": common, "object": common, "actor": "b", "case": "C2"}]
    problems = []
    for role in (Role.OFFICER, Role.HANDLER, Role.AUDITOR):
        client = client_for(world["people"][(role, "A")])
        # The officer tries every query; the others, whose pages show less, the plain page.
        for url in pages:
            for query in queries if role == Role.OFFICER else queries[:1]:
                response = client.get(url, query)
                text = text_of(response)
                if response.status_code >= 500 or MARKS["B"] in text:
                    found = text[max(0, text.find(MARKS["B"]) - 120) :][:160]
                    problems.append(f"{role} {url} {query}: {response.status_code} {found!r}")
    assert not problems, "\n".join(problems)
    # The counter-proof: unit B's own officer finds unit B's records on those pages.
    officer = client_for(world["people"][(Role.OFFICER, "B")])
    assert sum(MARKS["B"] in text_of(officer.get(url)) for url in pages) >= 10


# ---- forms of unit A pointed at unit B -----------------------------------------------------------

DATES = {"date", "held_on", "found_on", "effective_on"}
DUE = {"due_date", "repealed_on"}
NUMBERS = {"reach": "10", "participants": "5", "count": "1", "hours": "2", "watch_days": "180", "score": "1"}


def references(world, side: str) -> dict[str, str]:
    """What a form field names, on one side: the unit, its people, its case, its resolution, its issue."""
    o, people = world[side], world["people"]
    return {
        "unit": o["unit"].code,
        "recipients": o["unit"].code,
        "handler": str(people[(Role.HANDLER, side)].pk),
        "owner": str(people[(Role.OFFICER, side)].pk),
        "assignee": str(people[(Role.OFFICER, side)].pk),
        "approver": str(people[(Role.UNIT_HEAD, side)].pk),
        "speaker": str(people[(Role.UNIT_HEAD, side)].pk),
        "users": str(people[(Role.HANDLER, side)].pk),
        "resolution": str(o["gov_meeting"].resolutions.first().pk),
        "issues": str(o["gov_issue"].pk),
        "case_no": o["case"].case_no,
        "case_nos": o["case"].case_no,
        "merged_into": o["case"].case_no,
        "ids": str(o["case"].pk),
    }


def footprint(world, side: str) -> int:
    """How many rows point at one side's unit, people, cases, resolutions or issues (audit log aside)."""
    o, people = world[side], world["people"]
    targets = {
        "org.unit": {o["unit"].pk},
        "accounts.user": {u.pk for (_role, s), u in people.items() if s == side},
        "cases.case": {o["case"].pk, o["work_order"].pk},
        "governance.resolution": set(o["gov_meeting"].resolutions.values_list("pk", flat=True)),
        "governance.qualityissue": {o["gov_issue"].pk},
    }
    total = 0
    for model in apps.get_models():
        if model._meta.label_lower in ("audit.auditentry", "sessions.session"):
            continue
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model is not None):
                continue
            ids = targets.get(field.related_model._meta.label_lower)
            if not ids:
                continue
            if isinstance(field, models.ManyToManyField):
                through = field.remote_field.through
                column = field.m2m_reverse_field_name()
                total += through.objects.filter(**{f"{column}__in": ids}).count()
            else:
                total += model._base_manager.filter(**{f"{field.name}__in": ids}).count()
    return total


def filled(form, refs: dict[str, str]) -> tuple[dict, dict]:
    today = timezone.localdate()
    data = dict(form.fields)
    for name in form.texts:
        data[name] = "跨机构安全测试内容"
    for name in data:
        if name in DATES:
            data[name] = today.isoformat()
        elif name in DUE:
            data[name] = (today + dt.timedelta(days=30)).isoformat()
        elif name in NUMBERS:
            data[name] = NUMBERS[name]
        elif name == "year":
            data[name] = str(today.year)
        if name in refs:
            data[name] = refs[name]
    files = {name: SimpleUploadedFile("材料.pdf", PDF) for name in form.files}
    return data, files


def test_unit_a_forms_cannot_create_in_or_link_to_unit_b(world):
    """Each form unit A's officer is shown, with every unit, person and record field set to unit B's:
    nothing anywhere points at unit B afterwards. The same form with unit A's values succeeds, for
    most of them, which shows the refusals come from the scope."""
    officer = world["people"][(Role.OFFICER, "A")]
    client = client_for(officer)
    urls = [url for _n, url, _m in matrix_urls(world["A"], "get")]
    forms = post_forms(client, urls, skip={reverse("accounts-logout"), reverse("set_language")})
    refs_a, refs_b = references(world, "A"), references(world, "B")
    judged = [(action, form) for action, form in sorted(forms.items()) if set(form.fields) & set(refs_b)]
    assert len(judged) >= 15, len(judged)
    problems, controls = [], 0
    b_before, a_before = footprint(world, "B"), footprint(world, "A")  # each post is rolled back
    for action, form in judged:
        for refs in (refs_b, refs_a):
            data, files = filled(form, refs)
            with transaction.atomic():
                response = client.post(action, data | files)
                if refs is refs_b and (footprint(world, "B") != b_before or response.status_code >= 500):
                    fields = sorted(set(form.fields) & set(refs_b))
                    problems.append(f"{action} {fields}: {response.status_code}, points at unit B")
                if refs is refs_a and footprint(world, "A") > a_before:
                    controls += 1
                transaction.set_rollback(True)
    assert not problems, "\n".join(problems)
    assert controls >= 8, controls


def test_the_api_keeps_to_the_users_units(world):
    from rest_framework.authtoken.models import Token

    from xiaobao.cases.models import Case

    b_case = world["B"]["case"]
    token = Token.objects.create(user=world["people"][(Role.OFFICER, "A")])
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    listing = api.get(reverse("api-cases"), {"unit": "C2"})
    assert listing.status_code == 400 and MARKS["B"] not in listing.content.decode()
    for url in (
        reverse("api-case-detail", kwargs={"case_no": b_case.case_no}),
        reverse("api-case-transitions", kwargs={"case_no": b_case.case_no}),
        reverse("api-case-contacts", kwargs={"case_no": b_case.case_no}),
    ):
        response = api.get(url) if url.endswith(f"{b_case.case_no}/") else api.post(url, {})
        assert response.status_code == 404 and MARKS["B"] not in response.content.decode(), url
    created = api.post(
        reverse("api-cases"),
        {"kind": "咨询", "channel": "4008热线", "unit": "C2", "description": "跨机构登记"},
        content_type="application/json",
    )
    assert created.status_code in (400, 403)
    assert not Case.objects.filter(description="跨机构登记").exists()
