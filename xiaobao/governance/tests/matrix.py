"""Permission-matrix rows of governance (read by xiaobao/accounts/tests/test_permission_matrix.py).

Every object lives in unit C1. Reads: every role inside, 404 outside (the administrator sees all).
Writes: the four writing roles; the auditor is refused with 403. Approving a plan: unit heads only.
"""

from django.utils import timezone

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
    """A POST with an empty body on a C1 object: outsiders 404, read-only 403, writers the view's answer."""

    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return ok_status if role in WRITE else 403

    return rule


def approve(role, where):
    """Only a unit head of C1 or above decides; the administrator does not approve for them."""
    if where == "outside" and role != Role.ADMIN:
        return 404
    return 400 if role == Role.UNIT_HEAD else 403


def _pk(name):
    return lambda o: {"pk": o[name].pk}


MATRIX = {
    "governance-index": (lambda o: {}, "get", page(ALL)),
    "governance-meetings": (lambda o: {}, "get", page(ALL)),
    "governance-meeting-new": (lambda o: {}, "get", page(WRITE)),
    "governance-meeting-detail": (_pk("gov_meeting"), "get", scoped(ALL)),
    "governance-meeting-minutes": (_pk("gov_meeting"), "post", post(400)),
    "governance-resolution-add": (_pk("gov_meeting"), "post", post(400)),
    "governance-meeting-action-add": (_pk("gov_meeting"), "post", post(400)),
    "governance-actions": (lambda o: {}, "get", page(ALL)),
    "governance-action-detail": (_pk("gov_action"), "get", scoped(ALL)),
    "governance-action-evidence": (_pk("gov_action"), "post", post(400)),
    "governance-action-evidence-download": (
        lambda o: {"pk": o["gov_action"].pk, "eid": o["gov_evidence"].pk},
        "get",
        scoped(ALL),
    ),
    # Closing with evidence on file and no note succeeds: 302 (rolled back per persona).
    "governance-action-transition": (
        lambda o: {"pk": o["gov_action"].pk, "action": "close"},
        "post",
        post(302),
    ),
    "governance-talks": (lambda o: {}, "get", page(ALL)),
    "governance-talk-new": (lambda o: {}, "get", page(WRITE)),
    "governance-plans": (lambda o: {}, "get", page(ALL)),
    "governance-plan-new": (lambda o: {}, "get", page(WRITE)),
    "governance-plan-detail": (_pk("gov_plan"), "get", scoped(ALL)),
    "governance-plan-edit": (_pk("gov_plan"), "post", post(400)),
    "governance-plan-file-upload": (_pk("gov_plan"), "post", post(400)),
    "governance-plan-file": (
        lambda o: {"pk": o["gov_plan"].pk, "fid": o["gov_plan_file"].pk},
        "get",
        scoped(ALL),
    ),
    "governance-plan-submit": (_pk("gov_plan"), "post", post(400)),  # already submitted
    "governance-plan-decide": (_pk("gov_plan"), "post", approve),
    "governance-rules": (lambda o: {}, "get", page(ALL)),
    "governance-rule-new": (lambda o: {}, "get", page(WRITE)),
    "governance-rule-detail": (_pk("gov_rule"), "get", scoped(ALL)),
    "governance-rule-version-add": (_pk("gov_rule"), "post", post(400)),
    "governance-rule-version": (
        lambda o: {"pk": o["gov_rule"].pk, "vid": o["gov_rule_version"].pk},
        "get",
        scoped(ALL),
    ),
    "governance-rule-repeal": (_pk("gov_rule"), "post", post(400)),
    "governance-drills": (lambda o: {}, "get", page(ALL)),
    "governance-drill-new": (lambda o: {}, "get", page(WRITE)),
    "governance-drill-detail": (_pk("gov_drill"), "get", scoped(ALL)),
    "governance-drill-findings": (_pk("gov_drill"), "post", post(400)),
    "governance-drill-action-add": (_pk("gov_drill"), "post", post(400)),
    "governance-issues": (lambda o: {}, "get", page(ALL)),
    "governance-issue-new": (lambda o: {}, "get", page(WRITE)),
    "governance-issue-detail": (_pk("gov_issue"), "get", scoped(ALL)),
    "governance-issue-transition": (
        lambda o: {"pk": o["gov_issue"].pk, "action": "close"},
        "post",
        post(400),
    ),
    "governance-bulletins": (lambda o: {}, "get", page(ALL)),
    "governance-bulletin-new": (lambda o: {}, "get", page(WRITE)),
    "governance-bulletin-detail": (_pk("gov_bulletin"), "get", scoped(ALL)),
    "governance-bulletin-publish": (_pk("gov_bulletin"), "post", post(400)),  # already issued
    "governance-bulletin-ack": (_pk("gov_bulletin"), "post", post(400)),
}


def objects(base: dict) -> dict:
    """One object of every governance kind in C1, made by alice (an officer of C1)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xiaobao.governance import services

    alice, c1 = base["alice"], base["tree"]["C1"]
    today = timezone.localdate()

    def pdf(name):
        return SimpleUploadedFile(name, b"%PDF-1.4\n" + name.encode())

    meeting = services.meeting_create(
        actor=alice, unit=c1, title="第1次消保委员会", held_on=today, agenda="审议计划", minutes="通过计划"
    )
    resolution = services.resolution_add(actor=alice, meeting=meeting, text="修订投诉处理制度")
    action = services.action_create(
        actor=alice, resolution=resolution, title="修订制度", owner=alice, due_date=today
    )
    evidence = services.action_evidence_add(actor=alice, item=action, upload=pdf("修订稿.pdf"))
    plan = services.plan_create(
        actor=alice, unit=c1, year=today.year, kind="年度消保工作计划", title="年度计划"
    )
    plan_file = services.plan_file_add(actor=alice, plan=plan, upload=pdf("计划.pdf"))
    plan = services.plan_transition(actor=alice, plan=plan, action="submit")
    rule = services.rule_create(
        actor=alice,
        unit=c1,
        title="投诉处理管理办法",
        category="投诉处理",
        upload=pdf("办法.pdf"),
        effective_on=today,
    )
    drill = services.drill_create(
        actor=alice,
        unit=c1,
        title="群体性投诉应急演练",
        scenario_kind="群体性投诉",
        scenario="20 名客户到柜面要求退保",
        held_on=today,
        findings="响应及时",
    )
    issue = services.issue_create(
        actor=alice,
        unit=c1,
        source="内部检查",
        category="回访质量",
        title="回访录音缺失",
        description="抽检发现 3 件新单回访录音缺失",
        found_on=today,
        owner=alice,
        due_date=today,
    )
    bulletin = services.bulletin_create(
        actor=alice, unit=c1, title="业务品质通报", body="通报如下", issues=[issue], recipients=[c1]
    )
    bulletin = services.bulletin_publish(actor=alice, bulletin=bulletin)
    return {
        "gov_meeting": meeting,
        "gov_action": action,
        "gov_evidence": evidence,
        "gov_plan": plan,
        "gov_plan_file": plan_file,
        "gov_rule": rule,
        "gov_rule_version": rule.versions.get(),
        "gov_drill": drill,
        "gov_issue": issue,
        "gov_bulletin": bulletin,
    }
