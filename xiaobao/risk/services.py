"""Writes of the risk app: a scan turns clusters and series anomalies into alerts; investigators
assign, annotate, attach evidence, confirm (putting tokens on the watchlist) or dismiss.

Every state change writes an AlertEvent and an audit entry in the same transaction.
"""

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.audit.services import audit_record
from xiaobao.org.models import Unit
from xiaobao.risk import intake, monitor, rings
from xiaobao.risk.models import (
    ALERT_TRANSITIONS,
    Alert,
    AlertEvent,
    AlertEvidence,
    AlertKind,
    HitSource,
    WatchEntry,
    WatchKind,
)
from xiaobao.risk.watchlist import record_hits

# Shared identifiers an investigator may put on the watchlist, by the kind of link that found them.
WATCHABLE = {
    "phone": WatchKind.PHONE,
    "proxy": WatchKind.PHONE,
    "account": WatchKind.ACCOUNT,
    "name": WatchKind.NAME,
    "address": WatchKind.ADDRESS,
}


def _root_unit() -> Unit:
    return Unit.objects.filter(parent=None).order_by("path").first()


def _unit_for(code: str, units: dict[str, Unit], root: Unit) -> Unit:
    return units.get(code) or root


def scan_run(*, as_of: dt.date, records=None, config: rings.RingConfig | None = None, period=None) -> dict:
    """Run the ring scan (and the surrender monitor of the month before `as_of`) and save alerts.

    1. Read the records (surrenders and complaints up to as_of) unless given, and find the clusters.
    2. Each cluster scoring at least config.alert_score becomes (or updates) an alert, keyed by its
       members; an alert already confirmed or dismissed keeps its decision.
    3. Each series anomaly of the month becomes (or updates) a series alert.
    4. List the surrenders and complaints touching the watchlist (疑似退保黑产信息库).
    Returns {"clusters": [...], "series_alerts": [...], "watchlist_hits": [...], "alerts_created": n,
    "alerts_updated": n}.
    """
    from xiaobao.cases.models import Case
    from xiaobao.risk.sources import scan_records

    config = config or rings.RingConfig()
    if records is None:
        records = scan_records(as_of)
    clusters = rings.find_clusters(records, config)
    hits = record_hits(records)
    root = _root_unit()
    units = {u.code: u for u in Unit.objects.all()}
    created = updated = 0
    if root is None:
        return {
            "clusters": [c.as_json() for c in clusters],
            "watchlist_hits": hits,
            "alerts_created": 0,
            "alerts_updated": 0,
        }
    with transaction.atomic():
        for cluster in clusters:
            if cluster.score < config.alert_score:
                continue
            alert, is_new = Alert.objects.update_or_create(
                fingerprint=f"cluster:{cluster.id}",
                defaults={
                    "kind": AlertKind.CLUSTER,
                    "unit": _unit_for(cluster.unit, units, root),
                    "title": _("疑似退保黑产团伙: %(n)s 位投保人") % {"n": cluster.holders},
                    "score": cluster.score,
                    "reasons": cluster.reasons,
                    "policy_nos": cluster.policy_nos,
                    "case_nos": cluster.case_nos,
                    "size": cluster.size,
                    "links": cluster.links,
                    "details": {"features": cluster.features, "holders": cluster.holders},
                    "as_of": as_of,
                },
            )
            alert.cases.set(Case.objects.filter(case_no__in=cluster.case_nos))
            created += is_new
            updated += not is_new
        period = period or monitor._month_start(as_of, 1)
        result = monitor.surrender_monitor(period)
        for item in result["alerts"]:
            key = f"series:{item['dimension']}:{item['value']}:{item['month']}:{item['test']}"
            digest = hashlib.sha1(key.encode()).hexdigest()[:40]
            code = item["value"] if item["dimension"] == "unit" else item.get("unit") or ""
            alert, is_new = Alert.objects.update_or_create(
                fingerprint=f"series:{digest}",
                defaults={
                    "kind": AlertKind.SERIES,
                    "unit": _unit_for(code, units, root),
                    "title": item["explanation"].split(" (")[0][:200],
                    "score": round(min(100.0, -10 * _log10(item["adjusted_p"])), 1),
                    "reasons": [item["explanation"]],
                    "period": item["month"],
                    "size": item["count"],
                    "details": item,
                    "as_of": as_of,
                },
            )
            created += is_new
            updated += not is_new
    return {
        "clusters": [c.as_json() for c in clusters],
        "series_alerts": result["alerts"],
        "watchlist_hits": hits,
        "alerts_created": created,
        "alerts_updated": updated,
    }


def _log10(value: float) -> float:
    import math

    return math.log10(max(value, 1e-300))


def _event(alert: Alert, *, actor, action: str, before: str = "", note: str = "", details=None) -> AlertEvent:
    return AlertEvent.objects.create(
        alert=alert,
        actor=actor,
        action=action,
        from_status=before,
        to_status=alert.status,
        note=note,
        details=details or {},
    )


def _transition(alert: Alert, action: str) -> str:
    allowed, target = ALERT_TRANSITIONS[action]
    if alert.status not in allowed:
        raise ValidationError(
            _("预警当前为“%(status)s”, 不能执行该操作") % {"status": alert.get_status_display()}
        )
    before = alert.status
    alert.status = target
    return before


@transaction.atomic
def alert_assign(*, actor, alert: Alert, assignee, request=None) -> Alert:
    before = _transition(alert, "assign")
    alert.assignee = assignee
    alert.save(update_fields=["status", "assignee", "updated_at"])
    _event(alert, actor=actor, action="assign", before=before, details={"assignee": assignee.get_username()})
    audit_record(actor=actor, action="risk.alert.assign", obj=alert, unit=alert.unit, request=request)
    return alert


@transaction.atomic
def alert_note_add(*, actor, alert: Alert, note: str, request=None) -> AlertEvent:
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("请填写调查记录")})
    event = _event(alert, actor=actor, action="note", before=alert.status, note=note)
    audit_record(actor=actor, action="risk.alert.note", obj=alert, unit=alert.unit, request=request)
    return event


@transaction.atomic
def alert_evidence_add(*, actor, alert: Alert, upload, request=None) -> AlertEvidence:
    """1. Check and store the file (sniffed type, SHA-256 name). 2. Record the event and audit it."""
    from xiaobao.governance.files import attachment_fill

    evidence = AlertEvidence(alert=alert)
    attachment_fill(evidence, upload, actor=actor)
    evidence.save()
    _event(
        alert,
        actor=actor,
        action="evidence",
        before=alert.status,
        details={"file": evidence.original_name, "sha256": evidence.sha256},
    )
    audit_record(
        actor=actor,
        action="risk.alert.evidence",
        obj=alert,
        unit=alert.unit,
        request=request,
        details={"sha256": evidence.sha256},
    )
    return evidence


@transaction.atomic
def alert_confirm(*, actor, alert: Alert, reason: str, watch_tokens: list[str] = (), request=None) -> Alert:
    """1. Check the transition and the reason. 2. Put the chosen shared identifiers (tokens of the
    alert's links) on the watchlist. 3. Record the decision, the event and the audit entry."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写确认理由")})
    links = {link["token"]: link for link in alert.links if link["kind"] in WATCHABLE}
    unknown = [t for t in watch_tokens if t not in links]
    if unknown:
        raise ValidationError({"watch": _("所选信息不属于该预警")})
    before = _transition(alert, "confirm")
    alert.decision_reason = reason
    alert.decided_at = timezone.now()
    alert.save(update_fields=["status", "decision_reason", "decided_at", "updated_at"])
    added = []
    for token in watch_tokens:
        link = links[token]
        entry = watch_add(
            actor=actor,
            kind=WATCHABLE[link["kind"]],
            token=token,
            masked=link["masked"],
            reason=reason,
            unit=alert.unit,
            alert=alert,
            request=request,
        )
        added.append(entry.pk)
    _event(alert, actor=actor, action="confirm", before=before, note=reason, details={"watch": added})
    audit_record(actor=actor, action="risk.alert.confirm", obj=alert, unit=alert.unit, request=request)
    return alert


@transaction.atomic
def alert_dismiss(*, actor, alert: Alert, reason: str, request=None) -> Alert:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写排除理由")})
    before = _transition(alert, "dismiss")
    alert.decision_reason = reason
    alert.decided_at = timezone.now()
    alert.save(update_fields=["status", "decision_reason", "decided_at", "updated_at"])
    _event(alert, actor=actor, action="dismiss", before=before, note=reason)
    audit_record(actor=actor, action="risk.alert.dismiss", obj=alert, unit=alert.unit, request=request)
    return alert


@transaction.atomic
def alert_reopen(*, actor, alert: Alert, reason: str, request=None) -> Alert:
    """Take a decided alert back into investigation (its watchlist entries stay until removed)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写重新调查的理由")})
    before = _transition(alert, "reopen")
    alert.decided_at = None
    alert.save(update_fields=["status", "decided_at", "updated_at"])
    _event(alert, actor=actor, action="reopen", before=before, note=reason)
    audit_record(actor=actor, action="risk.alert.reopen", obj=alert, unit=alert.unit, request=request)
    return alert


@transaction.atomic
def watch_add(
    *, actor, kind: str, token: str, masked: str, reason: str, unit: Unit, alert=None, request=None
) -> WatchEntry:
    """Put one token on the watchlist (an active entry of the same token is kept, not doubled)."""
    if kind not in WatchKind.values or not token:
        raise ValidationError(_("无效的黑产信息"))
    existing = WatchEntry.objects.filter(kind=kind, token=token, active=True).first()
    if existing is not None:
        return existing
    entry = WatchEntry(
        kind=kind, token=token, masked=masked, reason=reason, unit=unit, alert=alert, confirmed_by=actor
    )
    entry.full_clean()
    entry.save()
    audit_record(actor=actor, action="risk.watch.add", obj=entry, unit=unit, request=request)
    # Cases and core-data rows already there with this token get their flag now (new ones at intake).
    intake.flag_existing_cases(entry=entry, source=HitSource.LISTED)
    intake.flag_existing_rows(entry=entry)
    return entry


@transaction.atomic
def watch_remove(*, actor, entry: WatchEntry, reason: str, request=None) -> WatchEntry:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写移出理由")})
    entry.active = False
    entry.save(update_fields=["active"])
    audit_record(
        actor=actor,
        action="risk.watch.remove",
        obj=entry,
        unit=entry.unit,
        request=request,
        details={"reason": reason},
    )
    return entry
