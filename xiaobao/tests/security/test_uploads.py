"""Uploads at every upload point of the product, and every download it serves.

The upload points are the file fields of every form unit A's officer is shown (evidence of
rectifications, education activities, committee action items, risk alerts; plans, rules and their
versions; review files; the book and training-attendance imports; the review file check), plus the
two shown only in a later state (a draft plan's files, a signed-off review's re-review). A page, an
SVG or a script under a harmless name is refused with a Chinese message and nothing is stored;
sizes are limited; and no download is ever served as something a browser would render.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xiaobao.accounts.models import Role
from xiaobao.tests.security.crawl import body_of, is_html, matrix_urls, post_forms
from xiaobao.tests.security.test_cross_unit import filled, references
from xiaobao.tests.security.world import PDF, docx_bytes

pytestmark = pytest.mark.django_db

HOSTILE = [
    ("报告.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("照片.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
    ("数据.xlsx", b"alert(document.cookie);\nfetch('/api/v1/cases/').then(r => r.text());\n"),
    (
        "审查稿.docx",
        b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><script>alert(1)</script></html>",
    ),
    ("说明.html", "纯文本说明 <img src=x onerror=alert(1)>".encode()),
    ("签到表.csv", b"<html><body onload=alert(1)>"),
]
REFUSALS = (
    "不接受网页或脚本类文件",
    "文件内容与扩展名",
    "不支持的文件类型",
    "内容不是 Excel 工作簿",
    "文件已损坏",
)
# Content types a browser renders or runs; a download must never carry one.
RENDERED = (
    "text/html",
    "application/xhtml",
    "image/svg",
    "text/xml",
    "application/xml",
    "javascript",
    "text/css",
)
STORES = [
    "cases.Evidence",
    "education.ActivityEvidence",
    "governance.ActionEvidence",
    "governance.PlanFile",
    "governance.RuleVersion",
    "reviews.ReviewDocument",
    "risk.AlertEvidence",
    "book.ImportJob",
    "training.TrainingAttendance",
]


def stored() -> dict[str, int]:
    from django.apps import apps

    counts = {}
    for label in STORES:
        try:
            counts[label] = apps.get_model(label).objects.count()
        except LookupError:
            pass
    return counts


@pytest.fixture
def officer(world):
    client = Client()
    client.force_login(world["people"][(Role.OFFICER, "A")])
    return client


@pytest.fixture(scope="module")
def points(world, django_db_blocker):
    """{action: (fields, file fields)} of every upload point, with a draft plan and a signed-off review."""
    with django_db_blocker.unblock():
        return _points(world)


def _points(world):
    from xiaobao.governance import services as governance
    from xiaobao.reviews.models import ItemResult
    from xiaobao.reviews.services import review_items_record, review_sign_off, review_submit

    officer = Client()
    officer.force_login(world["people"][(Role.OFFICER, "A")])
    a, people = world["A"], world["people"]
    draft = governance.plan_create(
        actor=a["alice"], unit=a["unit"], year=2026, kind="年度消保工作计划", title="草稿"
    )
    review = review_submit(
        actor=people[("submitter", "A")],
        unit=a["unit"],
        title="折页",
        review_type="营销宣传",
        upload=SimpleUploadedFile("折页.docx", docx_bytes("第一版")),
    )
    review_items_record(
        actor=a["alice"],
        review=review,
        entries={i.pk: (ItemResult.PASS, "") for i in review.items.all()},
    )
    review_sign_off(actor=a["alice"], review=review, outcome="通过")
    urls = [url for _n, url, _m in matrix_urls(world["A"], "get")]
    urls += [reverse("governance-plan-detail", args=[draft.pk]), reverse("reviews-detail", args=[review.pk])]
    forms = {action: form for action, form in post_forms(officer, urls).items() if form.files}
    return {action: filled(form, references(world, "A")) for action, form in forms.items()}


def test_every_upload_point_is_found(points):
    names = {action.rstrip("/").split("/")[-1] for action in points}
    assert len(points) >= 14, sorted(points)
    assert {"evidence", "upload", "versions", "files", "rereview", "import", "verify", "new"} <= names


@pytest.mark.parametrize("name, content", HOSTILE, ids=[name for name, _c in HOSTILE])
def test_a_page_svg_or_script_under_a_harmless_name_is_refused_everywhere(
    world, officer, points, name, content
):
    before, problems = stored(), []
    for action, (data, file_fields) in sorted(points.items()):
        files = {field: SimpleUploadedFile(name, content) for field in file_fields}
        response = officer.post(action, data | files, follow=True)
        body = body_of(response) if is_html(response) else ""
        if response.status_code >= 500 or not any(message in body for message in REFUSALS):
            problems.append(f"{action}: {response.status_code} without a refusal")
    assert not problems, "\n".join(problems)
    assert stored() == before


def test_the_same_points_take_a_real_file(world, officer, points):
    """The counter-proof: a PDF (a CSV for the imports) goes through where the page did not."""
    accepted = 0
    for action, (data, file_fields) in sorted(points.items()):
        imports = action in (reverse("book-import"), reverse("training-attendance-import"))
        if action == reverse("book-import"):
            continue  # a valid upload starts a background import; its form is checked below
        upload = ("签到表.csv", "培训编号,姓名\nPX0,张三\n".encode()) if imports else ("材料.pdf", PDF)
        files = {field: SimpleUploadedFile(*upload) for field in file_fields}
        body = body_of(officer.post(action, data | files, follow=True))
        accepted += not any(message in body for message in REFUSALS)
    assert accepted == len(points) - 1

    from xiaobao.book.forms import BookImportForm

    csv = SimpleUploadedFile("保单.csv", "保单号,管理机构\nP1,C1\n".encode())
    assert BookImportForm({"kind": "policies"}, {"file": csv}).is_valid()


@pytest.fixture
def small_limits(monkeypatch):
    """Every upload limit of the product at 1 MB, so that going over it costs 1 MB, not 20."""
    from xiaobao.book import forms as book_forms
    from xiaobao.cases import views_rectification
    from xiaobao.education import services as education
    from xiaobao.governance import files as governance
    from xiaobao.reviews import services as reviews
    from xiaobao.training import views as training

    for module, name in [
        (book_forms, "UPLOAD_LIMIT"),
        (views_rectification, "MAX_EVIDENCE_BYTES"),
        (education, "MAX_EVIDENCE_BYTES"),
        (governance, "MAX_BYTES"),
        (reviews, "MAX_DOCUMENT_BYTES"),
        (training, "MAX_IMPORT_BYTES"),
    ]:
        assert getattr(module, name) <= 512 * 1024 * 1024
        monkeypatch.setattr(module, name, 1024 * 1024)


def test_sizes_are_limited_everywhere(world, officer, points, small_limits):
    big = PDF + b"0" * (1024 * 1024)
    before, problems = stored(), []
    for action, (data, file_fields) in sorted(points.items()):
        if action == reverse("reviews-verify"):
            continue  # compares a file's hash with the signed-off ones: nothing is stored or limited
        files = {field: SimpleUploadedFile("大文件.pdf", big) for field in file_fields}
        response = officer.post(action, data | files, follow=True)
        if "文件过大" not in body_of(response):
            problems.append(f"{action}: {response.status_code} without 文件过大")
    assert not problems, "\n".join(problems)
    assert stored() == before


def test_the_real_limit_holds(world, officer):
    """One point at its real size: 20 MB and one byte of evidence is refused."""
    from xiaobao.governance.files import MAX_BYTES

    action = world["A"]["gov_action"]
    response = officer.post(
        reverse("governance-action-evidence", args=[action.pk]),
        {"file": SimpleUploadedFile("扫描件.pdf", PDF + b"0" * (MAX_BYTES + 1 - len(PDF)))},
    )
    assert response.status_code == 400 and "文件过大: 最大 20 MB" in body_of(response)
    assert not action.evidence.filter(original_name="扫描件.pdf").exists()


def test_no_download_is_ever_rendered_by_the_browser(world):
    """Every response of the product that is not a page or JSON (evidence, review files, plan files,
    rule versions, reports, error files, exports, notices, evidence packs): a safe type, nosniff, and
    always an attachment."""
    admin = Client()
    admin.force_login(world["people"][(Role.ADMIN, "A")])
    problems, downloads = [], 0
    for side in ("A", "B"):
        for name, url, _method in matrix_urls(world[side], "get"):
            response = admin.get(url)
            kind = response.get("Content-Type", "")
            if response.status_code != 200 or kind.startswith("text/html") or "json" in kind:
                continue
            downloads += 1
            if any(rendered in kind for rendered in RENDERED):
                problems.append(f"{name}: served as {kind}")
            if response.get("X-Content-Type-Options") != "nosniff":
                problems.append(f"{name}: no nosniff")
            if not response.get("Content-Disposition", "").startswith("attachment"):
                problems.append(f"{name}: not an attachment ({response.get('Content-Disposition')})")
    assert not problems, "\n".join(problems)
    assert downloads >= 2 * 12, downloads


def test_text_and_polyglot_files_come_back_inert(world, officer):
    """What the sniffing lets through (text that mentions a tag, a JPEG with a page after its magic
    bytes, a name with quotes) is served back exactly, as text or image, as an attachment."""
    activity = world["A"]["edu_activity"]
    cases = [
        ('说明"1";.txt', "现场说明 <img src=x onerror=alert(1)>".encode(), "text/plain"),
        ("现场.jpg", b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>", "image/jpeg"),
    ]
    for name, content, kind in cases:
        response = officer.post(
            reverse("education-evidence-upload", args=[activity.pk]),
            {"file": SimpleUploadedFile(name, content)},
        )
        assert response.status_code == 302, body_of(response)
        evidence = activity.evidence.get(original_name=name)
        download = officer.get(reverse("education-evidence-download", args=[activity.pk, evidence.pk]))
        assert download["Content-Type"].startswith(kind)
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Content-Disposition"].startswith("attachment")
        assert b"".join(download.streaming_content) == content
    quoted = officer.get(
        reverse(
            "education-evidence-download",
            args=[activity.pk, activity.evidence.get(original_name=cases[0][0]).pk],
        )
    )
    assert "\r" not in quoted["Content-Disposition"] and "\n" not in quoted["Content-Disposition"]
    assert timezone.now()
