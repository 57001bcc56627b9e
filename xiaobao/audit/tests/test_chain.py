import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from xiaobao.audit.models import AuditEntry
from xiaobao.audit.services import audit_record, audit_verify


def drop_append_only_triggers():
    """Simulate an attacker with database rights: the triggers go first, then the tampering."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_auditentry_no_update")
            cursor.execute("DROP TRIGGER audit_auditentry_no_delete")
        else:
            cursor.execute("DROP TRIGGER audit_auditentry_append_only ON audit_auditentry")


@pytest.fixture
def chain(db):
    return [audit_record(action="create", actor_name=f"user{i}", details={"n": i}) for i in range(1, 6)]


def verify_json():
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", "--format", "json", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_an_intact_chain_verifies(chain):
    code, report = verify_json()
    assert code == 0
    assert report == {"entries": 5, "ok": True, "problems": []}
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[1].prev_mac == chain[0].mac


def test_the_database_refuses_updates_and_deletes(chain):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=2).update(actor_name="mallory")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=2).delete()


def test_an_edited_entry_is_reported_at_its_position(chain):
    drop_append_only_triggers()
    AuditEntry.objects.filter(seq=3).update(details={"n": 99})
    code, report = verify_json()
    assert code == 1
    assert [(p["seq"], p["problem"]) for p in report["problems"]] == [(3, "edited")]


def test_a_deleted_entry_is_reported(chain):
    drop_append_only_triggers()
    AuditEntry.objects.filter(seq=2).delete()
    problems = audit_verify()
    assert {(p["seq"], p["problem"]) for p in problems} == {(3, "missing"), (3, "link")}


def test_reordered_entries_are_reported(chain):
    drop_append_only_triggers()
    # Swap the contents of entries 2 and 4, keeping each one's own mac: the links break.
    a, b = AuditEntry.objects.get(seq=2), AuditEntry.objects.get(seq=4)
    AuditEntry.objects.filter(seq=2).update(seq=-2)
    AuditEntry.objects.filter(seq=4).update(seq=2)
    AuditEntry.objects.filter(seq=-2).update(seq=4)
    problems = audit_verify()
    positions = {p["seq"] for p in problems}
    assert {2, 3, 4} <= positions
    assert a.mac != b.mac


def test_a_rehashed_forgery_without_the_key_is_detected(chain):
    """An attacker who edits an entry and recomputes plain SHA-256 links still fails: the chain is keyed."""
    import hashlib

    drop_append_only_triggers()
    forged_mac = hashlib.sha256(b"forged").hexdigest()
    AuditEntry.objects.filter(seq=5).update(actor_name="mallory", mac=forged_mac)
    assert [(p["seq"], p["problem"]) for p in audit_verify()] == [(5, "edited")]


def test_text_output_names_the_position(chain):
    from io import StringIO

    drop_append_only_triggers()
    AuditEntry.objects.filter(seq=4).update(action="delete")
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stdout=out)
    assert "位置 4" in out.getvalue()
