import hashlib
import hmac
import json

from django.db import connection, transaction
from django.utils import timezone

from xiaobao.audit.models import AuditEntry
from xiaobao.privacy import keys

GENESIS = "0" * 64
# A fixed advisory-lock id: PostgreSQL serialises appends to the chain under it.
CHAIN_LOCK_ID = 0x7862_6175


def entry_mac(entry: AuditEntry, prev_mac: str) -> str:
    payload = json.dumps(
        [
            entry.seq,
            entry.at.isoformat(timespec="microseconds"),
            entry.actor_id,
            entry.actor_name,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.object_label,
            entry.unit_code,
            entry.ip,
            entry.details,
            prev_mac,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(keys.system_key("audit"), payload.encode(), hashlib.sha256).hexdigest()


def client_ip(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")[:45]


def audit_record(
    *,
    actor=None,
    action: str,
    obj=None,
    unit=None,
    details: dict | None = None,
    request=None,
    actor_name: str = "",
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction when there is one.

    1. Take the chain lock (PostgreSQL advisory lock; SQLite writers are already serialised).
    2. Read the last entry's seq and mac.
    3. Compute this entry's mac over its fields and the previous mac, and insert it.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])
        last = AuditEntry.objects.order_by("-seq").values("seq", "mac").first()
        entry = AuditEntry(
            seq=(last["seq"] + 1) if last else 1,
            at=timezone.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_name=actor_name
            or (actor.get_username() if actor is not None and actor.is_authenticated else ""),
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_label=str(obj)[:200] if obj is not None else "",
            unit_code=getattr(unit, "code", "") or "",
            ip=client_ip(request),
            details=json.loads(json.dumps(details or {}, ensure_ascii=False, default=str)),
        )
        entry.prev_mac = last["mac"] if last else GENESIS
        entry.mac = entry_mac(entry, entry.prev_mac)
        entry.save(force_insert=True)
    return entry


def audit_verify() -> list[dict]:
    """Walk the chain in order; return one problem per broken position (empty list: intact).

    An edited entry fails its own mac; a deleted entry leaves a gap in seq and a broken link;
    reordered entries break the links around them.
    """
    problems = []
    prev_mac = GENESIS
    expected_seq = 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=5000):
        if entry.seq != expected_seq:
            problems.append(
                {
                    "seq": entry.seq,
                    "problem": "missing",
                    "message": f"第 {expected_seq}–{entry.seq - 1} 条记录缺失 (被删除)",
                }
            )
        if entry.prev_mac != prev_mac:
            problems.append(
                {
                    "seq": entry.seq,
                    "problem": "link",
                    "message": f"第 {entry.seq} 条与前一条记录的链接断开 (删除或顺序被改动)",
                }
            )
        if entry.mac != entry_mac(entry, entry.prev_mac):
            problems.append(
                {"seq": entry.seq, "problem": "edited", "message": f"第 {entry.seq} 条记录内容被篡改"}
            )
        prev_mac = entry.mac
        expected_seq = entry.seq + 1
    return problems
