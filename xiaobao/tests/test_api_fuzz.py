"""Fuzzing of the REST API (/api/v1/) with schemathesis against its own OpenAPI document.

Every operation of the document gets a bounded, derandomized Hypothesis run (schema-valid and
schema-invalid requests alike), sent in-process through the Django WSGI application as alice
(an officer of C1, by her API token), with a few real cases in the database: about half of the
requests name one of them, and a transition then often carries the case's current version, so that
the fuzzer gets past the 404 and the 409 into the services.

Properties of every response:
- never a 5xx (an unhandled exception in a view is a bug, not bad input);
- every 4xx is JSON in the documented shape {"detail", "code"[, "errors"]} with a non-empty detail;
- schemathesis's own conformance checks: documented status code, content type and response body.
"""

import json

import pytest
import schemathesis
import time_machine
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from xiaobao.accounts.models import Role
from xiaobao.cases.models import TRANSITIONS, Case
from xiaobao.cases.services import case_create, case_transition
from xiaobao.cases.tests.conftest import at
from xiaobao.wsgi import application

SCHEMA_URL = "/api/v1/openapi.json"
UNIT_CODES = ["C1", "C1", "C1", "C1KF", "C2", "HQ"]
# Valid personal data, else the service's checks of phone and ID number stop most creations.
PERSONAL_VALUES = {
    "customer_phone": ["", "13812345678", "0532-12345678"],
    "customer_id_no": ["", "11010519491231002X"],
    "received_at": [None, "2024-09-19T10:00:00+08:00", "2024-09-20 08:00:00"],
}
FUZZ_PERSONAS = [(Role.AUDITOR, "inside"), (Role.HANDLER, "inside"), (Role.ADMIN, "outside")]


def generated_schema() -> dict:
    """The document SchemaView serves (a test below checks they are the same), built without a
    request so that the tests can be parametrized over its operations at collection time."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(document, ensure_ascii=False))


schema = schemathesis.openapi.from_dict(generated_schema())
schema.app = application
# The token is sent by the test itself; generated Authorization headers would only test the 401.
schema.config.generation.update(with_security_parameters=False)


def error_shape(ctx, response, case):
    """Every 4xx answers {"detail": non-empty text, "code": ...[, "errors": {field: [text]}]}."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} is not JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    assert "code" in body, body
    if "errors" in body:
        errors = body["errors"]
        assert isinstance(errors, dict) and all(
            isinstance(messages, list) and all(isinstance(m, str) and m for m in messages)
            for messages in errors.values()
        ), body
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


@pytest.fixture
def clock():
    """Frozen, so that case numbers and deadlines are the same on every run."""
    with time_machine.travel(at("2024-09-20 09:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def fuzz_world(settings, clock, alice, tree, personas):
    """Tokens of alice and a few other personas, and a case in each state of the transition table
    (one of C2, which alice cannot see)."""

    def make_case(**kw):
        defaults = dict(
            actor=alice,
            unit=tree["C1"],
            kind="投诉",
            channel="4008热线",
            category="销售纠纷",
            description="客户反映业务员销售时承诺保本高收益, 要求全额退保",
            customer_name="张小三",
            customer_phone="13812345678",
        )
        return case_create(**{**defaults, **kw})

    # The API's rate limit counts in the cache; a dummy cache never counts, so the fuzzer is not
    # throttled. The throttle itself is tested in cases/tests/test_api.py.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]

    def walk(case, *steps):
        for action, facts in steps:
            case = case_transition(actor=alice, case=case, action=action, version=case.version, **facts)
        return case

    accept, start, decide = ("accept", {}), ("start", {}), ("decide", {"decision": "同意按现金价值退保"})
    inquiry = {"kind": "咨询", "category": "", "description": "咨询保单贷款利率"}
    cases = [
        make_case(urgent=True, handler=personas[(Role.HANDLER, "inside")]),
        walk(make_case(**inquiry, customer_phone=""), accept),
        walk(make_case(unit=tree["C1KF"], description="理赔时效慢"), accept, start),
        walk(make_case(), accept, start, ("pause", {"pause_reason": "外部鉴定"})),
        walk(make_case(**inquiry), accept, decide),
        walk(make_case(**inquiry), accept, decide, ("notify", {}), ("close", {"outcome": "已解释"})),
        # Under review by BR: alice of C1 may read it but no longer handle it.
        walk(make_case(**inquiry), accept, decide, ("close", {}), ("review", {})),
        make_case(actor=personas[(Role.ADMIN, "outside")], unit=tree["C2"], description="乙地客户投诉"),
    ]
    users = [alice, *(personas[key] for key in FUZZ_PERSONAS)]
    return {
        "tokens": [Token.objects.get_or_create(user=user)[0].key for user in users],
        "usernames": [user.username for user in users],
        "case_nos": [c.case_no for c in cases],
    }


@pytest.fixture
def wsgi_in_test_transaction():
    """Django's WSGI handler closes the connection at the end of each request, which would end the
    test's transaction; the test client avoids that the same way. Unhandled exceptions are kept, so
    that a 500 comes with its traceback."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    crashes = []

    def keep(sender, request=None, **kwargs):
        import sys
        import traceback

        crashes.append("".join(traceback.format_exception(*sys.exc_info())))

    got_request_exception.connect(keep)
    yield crashes
    got_request_exception.disconnect(keep)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def aim_at_real_data(case, data, world) -> None:
    """Random text rarely names a case, a unit or a user that exists, and a request that stops at
    the first 404 or "unknown unit" tests little; so most requests get some real values."""

    def often(label: str) -> bool:
        # Hypothesis starts from, and shrinks towards, 0: the real value is the simple one.
        return data.draw(st.integers(0, 5), label=label) < 5

    path = case.path_parameters or {}
    if "case_no" in path and often("real case"):
        path["case_no"] = data.draw(st.sampled_from(world["case_nos"]), label="case_no")
    body = case.body if isinstance(case.body, dict) else {}
    # What is drawn may depend on the generated request, never on the database: Hypothesis replays
    # draws and the state changes between examples.
    current = Case.objects.filter(case_no=path.get("case_no")).values_list("version", "status").first()
    if "version" in body and often("current version") and current:
        body["version"] = current[0]
    if "action" in body and often("allowed action"):
        pick = data.draw(st.integers(0, len(TRANSITIONS) - 1), label="action")
        allowed = [
            action
            for action, (statuses, _to, _label) in TRANSITIONS.items()
            if current and current[1] in statuses
        ]
        if allowed:
            body["action"] = allowed[pick % len(allowed)]
    if "merged_into" in body and often("real target"):
        body["merged_into"] = data.draw(st.sampled_from(world["case_nos"]), label="merged_into")
    query = case.query if isinstance(case.query, dict) else {}
    for values, key in ((body, "unit"), (query, "unit")):
        if key in values and often("real unit"):
            values[key] = data.draw(st.sampled_from(UNIT_CODES), label="unit")
    for key, valid in PERSONAL_VALUES.items():
        if key in body and often(f"valid {key}"):
            body[key] = data.draw(st.sampled_from(valid), label=key)
    if "handler" in query and often("real handler"):
        query["handler"] = data.draw(st.sampled_from(world["usernames"]), label="handler")


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_survives_fuzzing(case, data, clock, fuzz_world, wsgi_in_test_transaction):
    # Mostly alice; sometimes a read-only auditor, a handler or an administrator of another unit.
    token = data.draw(st.sampled_from(fuzz_world["tokens"][:1] * 3 + fuzz_world["tokens"][1:]), label="user")
    headers = {"Authorization": f"Token {token}"}
    # Each example starts from the same world, so that a failure replays and shrinks.
    with transaction.atomic():
        aim_at_real_data(case, data, fuzz_world)
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    assert not wsgi_in_test_transaction, wsgi_in_test_transaction[-1]  # a view raised: the traceback
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_the_fuzzed_document_is_the_one_the_api_serves(alice, client):
    client.force_login(alice)
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    assert json.loads(response.content) == generated_schema()
