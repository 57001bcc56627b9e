"""The security tests' world: two sibling units, A (C1, with its department C1KF) and B (C2), a user
of every role in each, and one record of every kind in each unit, built through the services.

Every free-text field a user can fill holds HOSTILE text: a spreadsheet formula first (so exports
must neutralise it), the unit's marker (so a page that leaks a record of the other unit is caught
by a plain substring test) and two HTML payloads (so a page that renders the text unescaped is
caught too). Short fields get the marker and the attribute-breaking payload only.

The objects of a unit are returned under the keys of the permission matrix
(xiaobao/accounts/tests/test_permission_matrix.py), so its rows' URL builders work on either unit.
"""

import datetime as dt
import io
import zipfile

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xiaobao.accounts.models import Role
from xiaobao.conftest import ROLES, make_unit, make_user
from xiaobao.org.models import UnitLevel

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://x.invalid/","点此")'
# What must never reach a page unescaped: the tags as they were typed.
RAW_PAYLOADS = ("<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>")
# A marker per unit: four letters no page, label or translation of xiaobao contains.
MARKS = {"A": "QZXA", "B": "QZXB"}

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def hostile(side: str) -> str:
    """Long free text: formula first, then the marker, then both HTML payloads."""
    return f"{FORMULA} {MARKS[side]} {SCRIPT}{IMG}"


def short(side: str) -> str:
    """For fields of 50 characters or fewer."""
    return f"{MARKS[side]}{IMG}"[:50]


def docx_bytes(text: str = "审查文件") -> bytes:
    from docx import Document

    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph(text)
    document.save(buffer)
    return buffer.getvalue()


def build_tree() -> dict:
    hq = make_unit("HQ", "总公司", UnitLevel.HEAD_OFFICE)
    br = make_unit("BR", "测试分公司", UnitLevel.BRANCH, hq)
    # Unit names come from an import file an administrator loads: hostile too, without a marker
    # (a sibling's name may legitimately appear, e.g. as a bulletin's recipient).
    c1 = make_unit("C1", f"甲中心支公司{IMG}", UnitLevel.CENTRAL_SUB_BRANCH, br)
    c1kf = make_unit("C1KF", "甲中支客服部", UnitLevel.DEPARTMENT, c1)
    c2 = make_unit("C2", f"乙中心支公司{SCRIPT}", UnitLevel.CENTRAL_SUB_BRANCH, br)
    return {"HQ": hq, "BR": br, "C1": c1, "C1KF": c1kf, "C2": c2, "A": c1, "B": c2}


def build_people(tree) -> dict:
    """{(role, "A"|"B"): user}: one user per role in each unit. The administrator of each side sees
    everything (the permission matrix's rule); a second handler per unit submits the review."""
    people = {}
    for side in ("A", "B"):
        for role in ROLES:
            user = make_user(f"{role}_{side.lower()}", tree[side], [role])
            user.display_name = f"{role}{side}{IMG}"[:50] if role != Role.HANDLER else user.username
            user.save(update_fields=["display_name"])
            people[(role, side)] = user
        people[("submitter", side)] = make_user(f"submitter_{side.lower()}", tree[side], [Role.HANDLER])
    return people


def build_side(side: str, tree: dict, people: dict) -> dict:
    """One record of every kind in unit `side`, all made by that unit's officer."""
    from xiaobao.cases.models import Evidence, Notification, RootCause
    from xiaobao.cases.services import (
        case_create,
        case_root_cause_set,
        case_transition,
        contact_add,
        plan_step_add,
        rectification_create,
    )

    unit = tree[side]
    officer = people[(Role.OFFICER, side)]
    text, tiny = hostile(side), short(side)
    today = timezone.localdate()
    o = {"unit": unit, "alice": officer, "tree": {"C1": unit}, "side": side, "mark": MARKS[side]}

    # ---- cases (投诉与工单) ----
    phone = "13812345678" if side == "A" else "13987654321"
    case = case_create(
        actor=officer,
        unit=unit,
        kind="投诉",
        channel="4008热线",
        category="销售纠纷",
        description=text,
        customer_name=f"张{MARKS[side]}{IMG}",
        customer_phone=phone,
        policy_no=tiny[:30],
    )
    case = case_transition(actor=officer, case=case, action="accept")
    case = case_transition(actor=officer, case=case, action="decide", decision=text, remedy=text)
    o["customer"] = case.customer
    o["case"] = case
    o["step"] = plan_step_add(actor=officer, case=case, due_date=today, action=text)
    contact_add(actor=officer, case=case, method="电话", outcome=text, note=text)
    root = RootCause.objects.filter(active=True).first()
    o["case"] = case = case_root_cause_set(
        actor=officer, case=case, root_cause=root, agent_code=tiny[:20], product_code=tiny[:20]
    )
    o["work_order"] = case_create(
        actor=officer, unit=unit, kind="咨询", channel="4008热线", description=text, urgent=True
    )
    o["rect"] = rect = rectification_create(
        actor=officer,
        title=text,
        root_cause=root,
        unit=unit,
        owner=officer,
        due_date=today,
        cases=[case],
        measures=text,
    )
    evidence = Evidence(
        rectification=rect,
        original_name=f"{tiny}.pdf",
        sha256="0" * 64,
        content_type="application/pdf",
        size=len(PDF),
        uploaded_by=officer,
    )
    evidence.file.save(f"{side}.pdf", ContentFile(PDF), save=True)
    o["evidence"] = evidence
    # In-app notifications are written after commit, which this world never reaches: one by hand.
    Notification.objects.create(user=officer, case=case, message=text[:300])

    o.update(_education(side, unit, officer, text, tiny, today))
    o.update(_governance(side, unit, officer, text, tiny, today))
    o.update(_reviews(side, unit, officer, people[("submitter", side)], text, tiny))
    o.update(_risk(side, unit, officer, case, text, tiny))
    o.update(_training(unit, officer, text, tiny, today))
    o.update(_assessment(unit, officer, text, tiny))
    o.update(_kpi(unit))
    o.update(_reports(side, unit, officer, tiny))
    o.update(_imports(side, unit, officer, tiny))
    _matrix_objects(o, officer, unit)
    return o


def _matrix_objects(o: dict, officer, unit) -> None:
    """Objects a newer app's matrix rows need and this world does not build yet: made by that app's
    own matrix helper, in this side's unit (its text is the helper's, not hostile)."""
    from xiaobao.accounts.tests.test_permission_matrix import _app_matrices

    for module in _app_matrices():
        if not hasattr(module, "objects"):
            continue
        try:
            for kwargs, _method, _rule in module.MATRIX.values():
                kwargs(o)
        except KeyError:
            base = {"unit": unit, "alice": officer, "tree": {"C1": unit}, **o}
            o.update({k: v for k, v in module.objects(base).items() if k not in o})


def _education(side, unit, officer, text, tiny, today) -> dict:
    from xiaobao.education.services import (
        activity_create,
        evidence_add_file,
        evidence_add_link,
        plan_save,
        plan_target_set,
    )

    activity = activity_create(
        actor=officer,
        unit=unit,
        date=today - dt.timedelta(days=1) if today.month > 1 or today.day > 1 else today,
        mode="线下",
        title=text[:200],
        location=text[:200],
        audience="老年人",
        campaign=tiny,
        reach=120,
    )
    evidence = evidence_add_file(
        actor=officer, activity=activity, upload=SimpleUploadedFile(f"{tiny}.png", PNG)
    )
    evidence_add_link(actor=officer, activity=activity, url="https://example.invalid/a?b=1", label=text[:200])
    plan = plan_save(actor=officer, unit=unit, year=today.year, title=text[:200], notes=text)
    target = plan_target_set(actor=officer, plan=plan, dimension="mode", key="线下", count=10, reach=1000)
    return {"edu_activity": activity, "edu_evidence": evidence, "edu_plan": plan, "edu_target": target}


def _governance(side, unit, officer, text, tiny, today) -> dict:
    from xiaobao.governance import services

    def pdf(name):
        return SimpleUploadedFile(name, PDF + name.encode())

    meeting = services.meeting_create(
        actor=officer, unit=unit, title=text[:200], held_on=today, agenda=text, minutes=text
    )
    resolution = services.resolution_add(actor=officer, meeting=meeting, text=text)
    action = services.action_create(
        actor=officer, resolution=resolution, title=text[:200], owner=officer, due_date=today
    )
    evidence = services.action_evidence_add(actor=officer, item=action, upload=pdf(f"{tiny}.pdf"))
    services.talk_create(
        actor=officer,
        unit=unit,
        held_on=today,
        topic=text[:200],
        speaker_name=tiny,
        speaker_title=tiny,
        audience=tiny,
        participants=30,
        summary=text,
    )
    plan = services.plan_create(
        actor=officer, unit=unit, year=today.year, kind="年度消保工作计划", title=text[:200], content=text
    )
    plan_file = services.plan_file_add(actor=officer, plan=plan, upload=pdf(f"{tiny}计划.pdf"))
    plan = services.plan_transition(actor=officer, plan=plan, action="submit")
    rule = services.rule_create(
        actor=officer,
        unit=unit,
        title=text[:200],
        category="投诉处理",
        upload=pdf(f"{tiny}办法.pdf"),
        effective_on=today,
    )
    drill = services.drill_create(
        actor=officer,
        unit=unit,
        title=text[:200],
        scenario_kind="群体性投诉",
        scenario=text,
        held_on=today,
        findings=text,
    )
    issue = services.issue_create(
        actor=officer,
        unit=unit,
        source="内部检查",
        category="回访质量",
        title=text[:200],
        description=text,
        found_on=today,
        owner=officer,
        due_date=today,
    )
    bulletin = services.bulletin_create(
        actor=officer, unit=unit, title=text[:200], body=text, issues=[issue], recipients=[unit]
    )
    bulletin = services.bulletin_publish(actor=officer, bulletin=bulletin)
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


def _reviews(side, unit, officer, submitter, text, tiny) -> dict:
    from xiaobao.reviews.services import review_items_record, review_submit

    review = review_submit(
        actor=submitter,
        unit=unit,
        title=text[:200],
        review_type="营销宣传",
        description=text,
        upload=SimpleUploadedFile(f"{tiny}.docx", docx_bytes()),
    )
    item = review.items.first()
    review_items_record(actor=officer, review=review, entries={item.pk: ("有意见", text)})
    return {"review": review, "review_document": review.documents.get(), "review_item": item}


def _risk(side, unit, officer, case, text, tiny) -> dict:
    from xiaobao.risk import services
    from xiaobao.risk.models import Alert, AlertKind

    alert = Alert.objects.create(
        kind=AlertKind.CLUSTER,
        fingerprint=f"cluster:security:{side}",
        unit=unit,
        title=text[:200],
        score=80,
        reasons=[text],
        policy_nos=[case.policy_no],
        case_nos=[case.case_no],
        links=[{"kind": "account", "token": side * 40, "masked": "****6789", "holders": 5}],
        as_of=dt.date(2025, 6, 1),
    )
    alert.cases.add(case)
    services.alert_note_add(actor=officer, alert=alert, note=text)
    evidence = services.alert_evidence_add(
        actor=officer, alert=alert, upload=SimpleUploadedFile(f"{tiny}.pdf", PDF)
    )
    watch = services.watch_add(
        actor=officer,
        kind="phone",
        token=case.customer.phone_token,
        masked=case.customer.phone_masked,
        reason=text,
        unit=unit,
    )
    return {"risk_alert": alert, "risk_evidence": evidence, "risk_watch": watch}


def _training(unit, officer, text, tiny, today) -> dict:
    from xiaobao.training import services

    session = services.session_create(
        actor=officer,
        unit=unit,
        topic=text[:200],
        kind="投诉处理技能",
        trainer=tiny,
        audience=tiny,
        description=text,
        held_on=today,
    )
    services.attendance_set(actor=officer, session=session, users=[officer])
    return {"training_session": session}


def _assessment(unit, officer, text, tiny) -> dict:
    from xiaobao.assessment.models import Catalogue
    from xiaobao.assessment.services import assessment_create, catalogue_create, evidence_add, score_set

    catalogue = Catalogue.objects.filter(year=2024).first() or catalogue_create(actor=None, year=2024)
    assessment = assessment_create(actor=officer, unit=unit, year=2024)
    indicator = catalogue.indicators.first()
    score_set(actor=officer, assessment=assessment, indicator_id=indicator.pk, score=1, comment=text)
    evidence_add(
        actor=officer, assessment=assessment, indicator_id=indicator.pk, label=text[:200], url="/cases/"
    )
    return {"assessment": assessment, "indicator": indicator}


def _kpi(unit) -> dict:
    from xiaobao.kpi import engine
    from xiaobao.kpi.models import KpiSnapshot
    from xiaobao.kpi.periods import parse_period

    period = parse_period("2024-07")
    snapshot = KpiSnapshot.objects.create(
        period=period.code,
        unit=unit,
        backend="duckdb",
        computed_at=timezone.now(),
        results={},
        store_versions={"policies": None, "premiums": None, "surrenders": None, "claims": None},
        cases_cutoff=timezone.now(),
        cases_sha256="0" * 64,
        parameters=engine.current_parameters(unit, period, timezone.localdate()),
    )
    return {"snapshot": snapshot}


def _reports(side, unit, officer, tiny) -> dict:
    from xiaobao.reports.models import JobStatus, ReportJob
    from xiaobao.reports.services import reports_dir

    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"security-{side}.docx"
    path.write_bytes(docx_bytes(MARKS[side]))
    job = ReportJob.objects.create(
        kind="yearend",
        period="2024",
        fmt="docx",
        unit=unit,
        actor=officer,
        status=JobStatus.DONE,
        file_path=str(path),
        file_name=f"{tiny}-2024.docx",
    )
    return {"report_job": job}


def _imports(side, unit, officer, tiny) -> dict:
    """A finished book import job whose batch has an error file, and a case import batch."""
    from django.conf import settings
    from openpyxl import Workbook

    from xiaobao.book.models import ImportJob, JobStatus
    from xiaobao.imports.models import BatchStatus, ImportBatch

    errors = settings.DATA_DIR / "imports" / "errors" / f"security-{side}.xlsx"
    errors.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.active.append(["错误行号", "错误列", "错误原因", MARKS[side]])
    book.save(errors)
    batch = ImportBatch.objects.create(
        kind="policies",
        file_name=f"{tiny}.csv",
        file_sha256="0" * 64,
        actor=officer,
        unit=unit,
        status=BatchStatus.DONE,
        rejected=1,
        errors_file=str(errors),
    )
    job = ImportJob.objects.create(
        kind="policies",
        file_name=f"{tiny}.csv",
        actor=officer,
        unit=unit,
        status=JobStatus.FINISHED,
        batch=batch,
    )
    return {"book_job": job}


def build_book(folder) -> None:
    """A few policies of each unit in the book (the Parquet store), marked like the records."""
    from xiaobao.book.tests.helpers import POLICY_HEADER, policy_row, run_cli
    from xiaobao.imports.tests.files import write_csv

    rows = [POLICY_HEADER]
    for n, side in enumerate("AABB", start=1):
        code = "C1" if side == "A" else "C2"
        rows.append(
            policy_row(
                n, org_code=code, product_name=f"{MARKS[side]}终身寿险", agent_code=f"{MARKS[side]}{n}"
            )
        )
    run_cli("book-import", "policies", write_csv(folder / "security-policies.csv", rows))


def zip_names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()
