"""Permission-matrix rows of the risk app (read by xiaobao/accounts/tests/test_permission_matrix.py).

Every object lives in unit C1. Reads: every role inside, 404 outside (the administrator sees all).
Writes: the four writing roles (an empty form is a 400); the auditor is refused with 403.
"""

import datetime as dt

from xiaobao.accounts.models import Role

ALL = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR}
WRITE = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD}


def page(allowed):
    return lambda role, where: 200 if role in allowed else 403


def scoped(allowed):
    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return 200 if role in allowed else 403

    return rule


def post(ok_status):
    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return ok_status if role in WRITE else 403

    return rule


def _pk(name):
    return lambda o: {"pk": o[name].pk}


MATRIX = {
    "risk-alerts": (lambda o: {}, "get", page(ALL)),
    "risk-alert-detail": (_pk("risk_alert"), "get", scoped(ALL)),
    "risk-alert-assign": (_pk("risk_alert"), "post", post(400)),
    "risk-alert-note": (_pk("risk_alert"), "post", post(400)),
    "risk-alert-evidence": (_pk("risk_alert"), "post", post(400)),
    "risk-alert-evidence-download": (
        lambda o: {"pk": o["risk_alert"].pk, "eid": o["risk_evidence"].pk},
        "get",
        scoped(ALL),
    ),
    "risk-alert-decide": (lambda o: {"pk": o["risk_alert"].pk, "action": "confirm"}, "post", post(400)),
    "risk-alert-pack": (lambda o: {"pk": o["risk_alert"].pk, "fmt": "xlsx"}, "get", scoped(ALL)),
    "risk-watchlist": (lambda o: {}, "get", page(ALL)),
    "risk-watch-remove": (_pk("risk_watch"), "post", post(400)),
    "risk-hits": (lambda o: {}, "get", page(ALL)),
}


def objects(base: dict) -> dict:
    """A cluster alert of C1 with one evidence file, and a watchlist entry confirmed in C1."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xiaobao.risk import services
    from xiaobao.risk.models import Alert, AlertKind

    alice, c1 = base["alice"], base["tree"]["C1"]
    alert = Alert.objects.create(
        kind=AlertKind.CLUSTER,
        fingerprint="cluster:matrix",
        unit=c1,
        title="疑似退保黑产团伙: 5 位投保人",
        score=80,
        reasons=["5 位投保人的退保金进入同一账号 ****6789"],
        policy_nos=["8637000001"],
        links=[{"kind": "account", "token": "t" * 40, "masked": "****6789", "holders": 5}],
        as_of=dt.date(2025, 6, 1),
    )
    evidence = services.alert_evidence_add(
        actor=alice, alert=alert, upload=SimpleUploadedFile("录音.pdf", b"%PDF-1.4\n")
    )
    watch = services.watch_add(
        actor=alice, kind="phone", token="w" * 40, masked="137****1234", reason="代办人电话", unit=c1
    )
    return {"risk_alert": alert, "risk_evidence": evidence, "risk_watch": watch}
