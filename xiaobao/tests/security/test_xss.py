"""Stored and reflected XSS, and what user text becomes in the files xiaobao writes.

Every record of the world holds <script> and "><img onerror> payloads in its free text (world.py);
the administrator, who sees both units, reads every page of the product on both units' records,
its search results and htmx fragments, and submits every form of the product with the payloads.
No page may contain a payload as it was typed. Spreadsheets the product writes (the desk's export,
import error files, evidence packs, report workbooks, the untrained list) must never hold user text
as a formula; Word files hold it as literal text, never as a field.
"""

import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xiaobao.accounts.models import Role
from xiaobao.tests.security.crawl import body_of, is_html, matrix_urls, post_forms, read_page
from xiaobao.tests.security.world import FORMULA, IMG, MARKS, RAW_PAYLOADS, SCRIPT, hostile

pytestmark = pytest.mark.django_db

# Every query parameter a page of xiaobao reads (grep request.GET): each page gets them all at once.
PARAMS = [
    "q", "unit", "period", "status", "kind", "channel", "category", "handler", "from", "to", "view",
    "sort", "actor", "action", "object", "year", "mode", "campaign", "audience", "type", "by", "org",
    "policy_no", "date", "in_force", "key", "a", "b", "case", "cases", "issue", "page", "product",
    "agent", "payment_mode", "apply_channel", "complaint", "full_refund", "decision", "row", "next",
]  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Forms whose submission would end the crawl's session or switch its language.
NOT_SUBMITTED = {"/accounts/logout/", "/i18n/setlang/"}


def unescaped(body: str) -> list[str]:
    return [payload for payload in RAW_PAYLOADS if payload in body]


def script_links(page) -> list[str]:
    """href/src/action values a browser would run as script (it ignores case, blanks and controls)."""
    return [
        link
        for link in page.links
        if re.sub(r"[\x00-\x20]", "", html.unescape(link))
        .lower()
        .startswith(("javascript:", "vbscript:", "data:text/html"))
    ]


@pytest.fixture
def admin(world):
    client = Client()
    client.force_login(world["people"][(Role.ADMIN, "A")])
    return client


def check_page(url, response, problems) -> None:
    if response.status_code >= 500:
        problems.append(f"{url}: {response.status_code}")
        return
    if not is_html(response):
        kind = response.get("Content-Type", "")
        if "html" in kind or "svg" in kind or "xml" in kind and "openxml" not in kind:
            problems.append(f"{url}: served as {kind}")
        return
    body = body_of(response)
    if found := unescaped(body):
        problems.append(f"{url}: unescaped {found}")
    if links := script_links(read_page(body)):
        problems.append(f"{url}: script links {links}")


def test_every_page_escapes_the_stored_payloads(world, admin):
    """Unit A's pages, read by the administrator: every list also shows unit B's records."""
    problems, seen = [], 0
    for _name, url, _method in matrix_urls(world["A"], "get"):
        response = admin.get(url)
        check_page(url, response, problems)
        seen += is_html(response) and MARKS["A"] in body_of(response)
    assert not problems, "\n".join(problems)
    assert seen >= 30, "the pages showed the world's records"  # so the test looked at the payloads


def test_search_results_and_htmx_fragments_escape_them(world, admin):
    a, b = world["A"], world["B"]
    urls = {
        f"{reverse('cases-desk')}?q={MARKS['A']}": {},
        f"{reverse('cases-desk')}?q={MARKS['B']}&view=all": {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "case-table"},
        f"{reverse('customers-list')}?q={MARKS['A']}": {},
        f"{reverse('accounts-users')}?q=admin": {},
        f"{reverse('audit-list')}?object={MARKS['B']}": {},
        f"{reverse('reviews-index')}?q={MARKS['A']}": {},
        f"{reverse('education-index')}?q={MARKS['B']}": {},
        f"{reverse('book-table', args=['policies'])}": {"HTTP_HX_REQUEST": "true"},
        reverse("reports-job", args=[a["report_job"].pk]) + "?row=1": {"HTTP_HX_REQUEST": "true"},
        reverse("reports-job", args=[b["report_job"].pk]): {"HTTP_HX_REQUEST": "true"},
        reverse("book-import-job", args=[a["book_job"].pk]): {"HTTP_HX_REQUEST": "true"},
        reverse("customers-reveal", args=[b["customer"].pk, "name"]): {"HTTP_HX_REQUEST": "true"},
        reverse("cases-reveal", args=[a["case"].pk, "name"]): {"HTTP_HX_REQUEST": "true"},
        reverse("cases-notifications"): {},
    }  # fmt: skip
    problems, marked = [], 0
    for url, headers in urls.items():
        response = admin.get(url, **headers)
        check_page(url, response, problems)
        marked += MARKS["A"] in body_of(response) or MARKS["B"] in body_of(response)
    # The revealed plain name is the payload itself (world.py): it comes back escaped.
    for name, customer in (("customers-reveal", b["customer"]), ("cases-reveal", a["case"])):
        pk = customer.pk
        url = reverse(name, args=[pk, "name"])
        response = admin.post(url, {"reason": "核实客户身份信息"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and html.escape(IMG) in body_of(response), url
        check_page(url, response, problems)
    assert not problems, "\n".join(problems)
    assert marked >= 8


# Pages that answer htmx with a fragment of their own (grep request.htmx), and the target they need.
FRAGMENTS = {"cases-desk": "case-table", "book-table": "", "book-import-job": "", "reports-job": "",
             "governance-actions": ""}  # fmt: skip


def test_every_query_parameter_is_reflected_escaped(world, admin):
    query = {name: SCRIPT + IMG for name in PARAMS}
    problems = []
    for name, url, _method in matrix_urls(world["A"], "get"):
        response = admin.get(url, query)
        if response.status_code == 404:  # no such unit: the page itself is rendered without it
            response = admin.get(url, {k: v for k, v in query.items() if k != "unit"})
        check_page(url, response, problems)
        if name in FRAGMENTS:
            fragment = admin.get(url, query, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=FRAGMENTS[name])
            check_page(url, fragment, problems)
    assert not problems, "\n".join(problems)


def test_every_form_stores_or_reflects_the_payloads_escaped(world, admin):
    """Each form of the product, submitted in a savepoint with its free text filled with the payloads:
    stored and shown on the page it redirects to, or refused and echoed back in the form."""
    text = hostile("A")
    problems, stored = [], 0
    forms = post_forms(admin, [url for _n, url, _m in matrix_urls(world["A"], "get")], skip=NOT_SUBMITTED)
    assert len(forms) >= 50
    for action, form in sorted(forms.items()):
        if not form.texts:
            continue
        data = dict(form.fields) | {name: text for name in form.texts}
        with transaction.atomic():
            response = admin.post(action, data, follow=True)
            check_page(action, response, problems)
            stored += is_html(response) and html.escape(SCRIPT) in body_of(response)
            transaction.set_rollback(True)
    assert not problems, "\n".join(problems)
    assert stored >= 30, stored


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
        "/\\evil.example/",
    ],
)
def test_links_users_enter_cannot_run_script_or_leave_the_site_unannounced(world, admin, url):
    """Evidence links (education activities, self-assessment indicators) are refused unless http(s)
    or a page of xiaobao itself; nothing of the attempt reaches a page as a link."""
    from xiaobao.assessment.models import EvidenceLink
    from xiaobao.education.models import ActivityEvidence

    a = world["A"]
    activity, assessment, indicator = a["edu_activity"], a["assessment"], a["indicator"]
    links = ActivityEvidence.objects.count(), EvidenceLink.objects.count()
    education = admin.post(
        reverse("education-evidence-link", args=[activity.pk]), {"url": url, "label": "宣传视频"}
    )
    assess = admin.post(
        reverse("assessment-evidence", args=[assessment.pk, indicator.pk]), {"url": url, "label": "台账"}
    )
    assert (education.status_code, assess.status_code) == (400, 400)
    assert (ActivityEvidence.objects.count(), EvidenceLink.objects.count()) == links
    for response in (education, assess):
        assert not script_links(read_page(body_of(response)))


# ---- files -------------------------------------------------------------------------------------


def formula_cells(data: bytes) -> list[str]:
    """Cells a spreadsheet program would evaluate: openpyxl reads them back as formulas ("f")."""
    book = load_workbook(io.BytesIO(data))
    return [
        f"{sheet.title}!{cell.coordinate}={cell.value!r}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def cell_texts(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    return [
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value
    ]


def docx_parts(data: bytes) -> tuple[str, list[str]]:
    """(the literal text of the document, its field codes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(
            archive.read(name).decode() for name in archive.namelist() if re.match(r"word/.*\.xml$", name)
        )
    text = "".join(html.unescape(t) for t in re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))
    fields = re.findall(r"<w:(?:fldSimple|instrText|fldChar)\b[^>]*>", xml)
    return text, fields


def assert_docx_literal(data: bytes, *texts: str) -> None:
    text, fields = docx_parts(data)
    assert fields == []
    for expected in texts:
        assert expected in text


@pytest.fixture
def formulas(world):
    """More records of unit A whose text starts with each character a spreadsheet evaluates."""
    from xiaobao.cases.services import case_create

    officer = world["people"][(Role.OFFICER, "A")]
    for start in FORMULA_STARTS:
        case_create(
            actor=officer,
            unit=world["A"]["unit"],
            kind="建议",
            channel="4008热线",
            description=f"{start}1+1 {MARKS['A']}",
        )
    for user, start in zip(
        [world["people"][(role, "A")] for role in (Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR)],
        ("+", "@", "-"),
        strict=True,
    ):
        user.display_name = f"{start}SUM(1,1)"
        user.save(update_fields=["display_name"])


def test_the_desk_export_holds_user_text_as_text(world, admin, formulas):
    response = admin.get(reverse("cases-export"))
    assert response.status_code == 200
    data = response.content
    assert formula_cells(data) == []
    texts = cell_texts(data)
    assert any(FORMULA[1:] in t and MARKS["A"] in t for t in texts)
    assert sum(t.lstrip("'").startswith(FORMULA_STARTS) and MARKS["A"] in t for t in texts) >= 6


def test_the_untrained_list_holds_user_names_as_text(world, admin, formulas):
    response = admin.get(reverse("training-untrained-export"), {"unit": "C1"})
    assert response.status_code == 200
    assert formula_cells(response.content) == []
    assert any("SUM(1,1)" in t for t in cell_texts(response.content))


def test_the_evidence_pack_holds_user_text_as_text(world, admin):
    alert = world["A"]["risk_alert"]
    xlsx = admin.get(reverse("risk-alert-pack", kwargs={"pk": alert.pk, "fmt": "xlsx"}))
    assert xlsx.status_code == 200
    assert formula_cells(xlsx.content) == []
    assert sum(MARKS["A"] in t for t in cell_texts(xlsx.content)) >= 3  # reason, case, note
    docx = admin.get(reverse("risk-alert-pack", kwargs={"pk": alert.pk, "fmt": "docx"}))
    assert_docx_literal(docx.content, hostile("A"))


def test_the_decision_notice_holds_the_decision_as_literal_text(world, admin):
    response = admin.get(reverse("cases-notice", args=[world["A"]["case"].pk]))
    assert response.status_code == 200
    assert_docx_literal(response.content, hostile("A"))


def test_report_workbooks_and_documents_hold_user_text_as_text(world, tmp_path):
    """The committee's monthly pack (.xlsx and .docx) and the quarterly complaint statistics, with a
    unit and an overdue action item whose names a spreadsheet would evaluate."""
    from xiaobao.governance import services as governance
    from xiaobao.reports import committee, complaints

    a = world["A"]
    unit = a["unit"]
    unit.name = f"{FORMULA}甲中支"
    unit.save(update_fields=["name"])
    today = timezone.localdate()
    first = today.replace(day=1)
    meeting = governance.meeting_create(
        actor=a["alice"], unit=unit, title="月度会议", held_on=first, agenda="督办", minutes="通过"
    )
    resolution = governance.resolution_add(actor=a["alice"], meeting=meeting, text="督办")
    title = f"@SUM(1,1) {MARKS['A']}"
    governance.action_create(
        actor=a["alice"], resolution=resolution, title=title, owner=a["alice"], due_date=first
    )
    month = f"{today:%Y-%m}"
    committee.write(unit=unit, month=month, target=tmp_path / "c.xlsx", fmt="xlsx")
    committee.write(unit=unit, month=month, target=tmp_path / "c.docx", fmt="docx")
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    complaints.write_xlsx(unit=unit, quarter=quarter, target=tmp_path / "q.xlsx")

    for name in ("c.xlsx", "q.xlsx"):
        data = (tmp_path / name).read_bytes()
        assert formula_cells(data) == [], name
        assert any(FORMULA[1:] in t for t in cell_texts(data)), name
    assert any(f"SUM(1,1) {MARKS['A']}" in t for t in cell_texts((tmp_path / "c.xlsx").read_bytes()))
    assert_docx_literal((tmp_path / "c.docx").read_bytes(), f"@SUM(1,1) {MARKS['A']}", FORMULA)


def test_the_yearend_report_holds_edited_paragraphs_as_literal_text(world, tmp_path):
    from xiaobao.reports.services import narrative_template_save, yearend_write

    a = world["A"]
    narrative_template_save(actor=a["alice"], key="lead", heading=hostile("A")[:100], body=hostile("A"))
    target = tmp_path / "y.docx"
    yearend_write(unit=a["unit"], year=timezone.localdate().year, target=target)
    assert_docx_literal(target.read_bytes(), hostile("A"))


def test_import_error_files_hold_rejected_cells_as_text(world, tmp_path):
    """Every importer of the product (units, cases, the book's four extracts, education, training
    attendance) rejects a row of formulas; its error file keeps the cells as text."""
    import csv

    from xiaobao.imports.registry import importer_for, importer_kinds
    from xiaobao.imports.services import import_run

    admin = world["people"][(Role.ADMIN, "A")]
    kinds = importer_kinds()
    assert len(kinds) >= 8, kinds
    problems = []
    for kind in kinds:
        columns = [column.name for column in importer_for(kind).spec.columns]
        row = [f"{FORMULA_STARTS[i % 6]}1+1 {MARKS['A']}" for i in range(len(columns))]
        path = tmp_path / f"{kind}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([columns, row])
        batch = import_run(kind=kind, path=path, actor=admin, dry_run=True)
        if not batch.errors_file:
            problems.append(f"{kind}: no error file ({batch.status}: {batch.message})")
            continue
        data = Path(batch.errors_file).read_bytes()
        if cells := formula_cells(data):
            problems.append(f"{kind}: formulas {cells[:3]}")
        if not any(MARKS["A"] in t for t in cell_texts(data)):
            problems.append(f"{kind}: the rejected cells are missing")
    assert not problems, "\n".join(problems)
