"""Permission-matrix rows for 金融教育 (see xiaobao/accounts/tests/test_permission_matrix.py)."""

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import (
    ALL,
    WRITE,
    page,
    post_page,
    post_to_object,
    scoped_object,
)


def edit_page(role, where):
    """The edit form of a C1 activity: outsiders 404, read-only roles 403."""
    if where == "outside" and role != Role.ADMIN:
        return 404
    return 200 if role in WRITE else 403


def limits_post(role, where):
    """Only the administrator sets reach limits; an empty form is a 400."""
    return 400 if role == Role.ADMIN else 403


MATRIX = {
    "education-index": (lambda o: {}, "get", page(ALL)),
    "education-new": (lambda o: {}, "get", page(WRITE)),
    "education-stats": (lambda o: {}, "get", page(ALL)),
    "education-plans": (lambda o: {}, "post", post_page(WRITE, 400)),
    "education-plan-detail": (lambda o: {"pk": o["edu_plan"].pk}, "get", scoped_object(ALL)),
    "education-plan-target": (lambda o: {"pk": o["edu_plan"].pk}, "post", post_to_object(400)),
    "education-plan-target-delete": (
        lambda o: {"pk": o["edu_plan"].pk, "tid": o["edu_target"].pk},
        "post",
        post_to_object(302),
    ),
    "education-limits": (lambda o: {}, "post", limits_post),
    "education-detail": (lambda o: {"pk": o["edu_activity"].pk}, "get", scoped_object(ALL)),
    "education-edit": (lambda o: {"pk": o["edu_activity"].pk}, "get", edit_page),
    "education-evidence-upload": (lambda o: {"pk": o["edu_activity"].pk}, "post", post_to_object(400)),
    "education-evidence-link": (lambda o: {"pk": o["edu_activity"].pk}, "post", post_to_object(400)),
    "education-evidence-download": (
        lambda o: {"pk": o["edu_activity"].pk, "eid": o["edu_evidence"].pk},
        "get",
        scoped_object(ALL),
    ),
}


def objects(base):
    import datetime as dt

    from django.core.files.base import ContentFile

    from xiaobao.education.models import ActivityEvidence, EvidenceKind
    from xiaobao.education.services import activity_create, plan_save, plan_target_set

    alice, unit = base["alice"], base["tree"]["C1"]
    activity = activity_create(
        actor=alice,
        unit=unit,
        date=dt.date.today() - dt.timedelta(days=3),
        mode="线下",
        title="防范养老诈骗讲座",
        location="甲市幸福社区",
        audience="老年人",
        reach=120,
    )
    evidence = ActivityEvidence(
        activity=activity,
        kind=EvidenceKind.FILE,
        original_name="现场照片.png",
        sha256="0" * 64,
        content_type="image/png",
        size=8,
        uploaded_by=alice,
    )
    evidence.file.save("x.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    plan = plan_save(actor=alice, unit=unit, year=dt.date.today().year, title="年度金融教育计划")
    target = plan_target_set(actor=alice, plan=plan, dimension="mode", key="线下", count=10, reach=1000)
    return {"edu_activity": activity, "edu_evidence": evidence, "edu_plan": plan, "edu_target": target}
