"""证据包: an alert's evidence for the regulator or the police, as .xlsx (openpyxl) and .docx
(python-docx). Personal data is masked; a user allowed to reveal may ask for full values, with a
reason, and the reveal is written to the audit log before the file is built."""

import io

from django.utils import timezone

from xiaobao.audit.services import audit_record
from xiaobao.book import personal
from xiaobao.book.schema import PERSONAL
from xiaobao.lib.spreadsheet import safe_cell
from xiaobao.risk.models import Alert
from xiaobao.risk.selectors import alert_surrenders

SURRENDER_HEADERS = [
    ("policy_no", "保单号"),
    ("apply_date", "申请日期"),
    ("surrender_date", "退保日期"),
    ("amount", "退保金"),
    ("cash_value", "现金价值"),
    ("full_refund", "全额退保"),
    ("apply_channel", "申请渠道"),
    ("contact_phone", "申请人电话"),
    ("payee_name", "领款人"),
    ("payee_account", "领款账号"),
    ("contact_address", "联系地址"),
    ("reason", "退保原因"),
    ("complaint_ref", "关联投诉"),
]
CASE_HEADERS = [
    ("case_no", "工单号"),
    ("channel", "来源渠道"),
    ("received", "受理时间"),
    ("policy_no", "保单号"),
    ("customer", "客户"),
    ("phone", "电话"),
    ("address", "联系地址"),
    ("description", "诉求内容"),
]


def pack_rows(alert: Alert, *, actor=None, reveal_reason: str = "", request=None) -> dict:
    """The rows of the pack. With a reveal reason (the caller has checked the permission), the
    personal columns are decrypted and one audit entry lists what was revealed."""
    reveal = bool(reveal_reason)
    surrenders = []
    for row in alert_surrenders(alert, sealed=reveal):
        key = personal.key_text([row["policy_no"], row["apply_date"]])
        out = {}
        for column, _label in SURRENDER_HEADERS:
            if column in PERSONAL["surrenders"]:
                blob = row.get(f"{column}_enc")
                out[column] = (
                    personal.open_value("surrenders", column, key, blob)
                    if reveal and blob
                    else row[f"{column}_masked"] or ""
                )
            elif column == "full_refund":
                out[column] = "是" if row[column] else "否"
            else:
                value = row[column]
                out[column] = "" if value is None else str(value)
        surrenders.append(out)
    cases = []
    from xiaobao.privacy.services import holder_decrypt

    for case in alert.cases.select_related("customer").order_by("received_at"):
        customer = case.customer
        name = phone = address = ""
        if customer is not None:
            name, phone, address = customer.name_masked, customer.phone_masked, customer.address_masked
            if reveal:
                name, phone, address = (holder_decrypt(customer, f) for f in ("name", "phone", "address"))
        cases.append(
            {
                "case_no": case.case_no,
                "channel": case.channel,
                "received": timezone.localtime(case.received_at).strftime("%Y-%m-%d %H:%M"),
                "policy_no": case.policy_no,
                "customer": name,
                "phone": phone,
                "address": address,
                "description": case.description,
            }
        )
    if reveal:
        audit_record(
            actor=actor,
            action="risk.pack.reveal",
            obj=alert,
            unit=alert.unit,
            request=request,
            details={"reason": reveal_reason, "surrenders": len(surrenders), "cases": len(cases)},
        )
    return {"surrenders": surrenders, "cases": cases, "revealed": reveal}


def _summary(alert: Alert) -> list[tuple[str, str]]:
    return [
        ("预警编号", f"FX{alert.pk:06d}"),
        ("类型", alert.get_kind_display()),
        ("标题", alert.title),
        ("风险分", f"{alert.score:.1f}"),
        ("状态", alert.get_status_display()),
        ("所属机构", alert.unit.name),
        ("扫描基准日", alert.as_of.isoformat()),
        ("结论理由", alert.decision_reason or "—"),
        ("生成时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]


def pack_xlsx(alert: Alert, rows: dict) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "预警概要"
    for label, value in _summary(alert):
        sheet.append([label, safe_cell(value)])
    sheet.append([])
    sheet.append(["风险原因"])
    for reason in alert.reasons:
        sheet.append(["", safe_cell(reason)])
    surrenders = book.create_sheet("退保明细")
    surrenders.append([label for _c, label in SURRENDER_HEADERS])
    for row in rows["surrenders"]:
        surrenders.append([safe_cell(row[c]) for c, _label in SURRENDER_HEADERS])
    cases = book.create_sheet("投诉明细")
    cases.append([label for _c, label in CASE_HEADERS])
    for row in rows["cases"]:
        cases.append([safe_cell(row[c]) for c, _label in CASE_HEADERS])
    events = book.create_sheet("调查记录")
    events.append(["时间", "操作", "人员", "说明"])
    for event in alert.events.select_related("actor"):
        events.append(
            [
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M"),
                event.action,
                safe_cell(str(event.actor or "系统")),
                safe_cell(event.note),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pack_docx(alert: Alert, rows: dict) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(f"疑似退保黑产线索材料 FX{alert.pk:06d}", level=1)
    if not rows["revealed"]:
        doc.add_paragraph("本材料中的个人信息已脱敏。")
    table = doc.add_table(rows=0, cols=2)
    for label, value in _summary(alert):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    doc.add_heading("风险原因", level=2)
    for reason in alert.reasons:
        doc.add_paragraph(reason, style="List Bullet")
    for title, headers, data in (
        ("退保明细", SURRENDER_HEADERS, rows["surrenders"]),
        ("投诉明细", CASE_HEADERS, rows["cases"]),
    ):
        doc.add_heading(title, level=2)
        grid = doc.add_table(rows=1, cols=len(headers))
        grid.style = "Table Grid"
        for cell, (_c, label) in zip(grid.rows[0].cells, headers, strict=True):
            cell.text = label
        for row in data:
            cells = grid.add_row().cells
            for cell, (column, _label) in zip(cells, headers, strict=True):
                cell.text = str(row[column])
    doc.add_heading("调查记录", level=2)
    for event in alert.events.select_related("actor"):
        when = timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M")
        doc.add_paragraph(f"{when} {event.actor or '系统'} {event.action} {event.note}".strip())
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
