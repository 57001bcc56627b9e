"""Permission-matrix rows of reports (read by xiaobao/accounts/tests/test_permission_matrix.py).

The report job lives in unit C1. Reading, the status page and the download: every role inside, 404
outside (the administrator sees all). Generating: the four writing roles (an empty form: 400), the
auditor 403. The narrative templates are shared by every unit: all read them; officers and
administrators edit them, wherever their unit is.
"""

from xiaobao.accounts.models import Role

ALL = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR}
WRITE = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD}
EDIT = {Role.ADMIN, Role.OFFICER}


def page(allowed, ok=200):
    return lambda role, where: ok if role in allowed else 403


def scoped(role, where):
    return 404 if where == "outside" and role != Role.ADMIN else 200


def objects(base: dict) -> dict:
    from xiaobao.reports.models import JobStatus, ReportJob
    from xiaobao.reports.services import reports_dir

    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "matrix.docx"
    path.write_bytes(b"PK\x03\x04 not really a docx")
    job = ReportJob.objects.create(
        kind="yearend",
        period="2024",
        fmt="docx",
        unit=base["unit"],
        actor=base["alice"],
        status=JobStatus.DONE,
        file_path=str(path),
        file_name="甲中心支公司-2024-年度消保工作总结.docx",
    )
    return {"report_job": job}


MATRIX = {
    "reports-index": (lambda o: {}, "get", page(ALL)),
    "reports-generate": (lambda o: {}, "post", page(WRITE, 400)),
    "reports-job": (lambda o: {"pk": o["report_job"].pk}, "get", scoped),
    "reports-download": (lambda o: {"pk": o["report_job"].pk}, "get", scoped),
    "reports-templates": (lambda o: {}, "get", page(ALL)),
    "reports-template-edit": (lambda o: {"key": "lead"}, "get", page(EDIT)),
    "reports-template-reset": (lambda o: {"key": "lead"}, "post", page(EDIT, 302)),
}
