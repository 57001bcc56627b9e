"""Files a user takes away: the desk's list as .xlsx (masked) and the decision notice as .docx."""

import io

from django.utils import timezone

from xiaobao.lib.spreadsheet import safe_cell

EXPORT_COLUMNS = [
    ("工单号", lambda c: c.case_no),
    ("工单类型", lambda c: c.kind),
    ("来源渠道", lambda c: c.channel),
    ("状态", lambda c: c.status),
    ("责任机构", lambda c: c.unit.name),
    ("处理人", lambda c: str(c.handler) if c.handler else ""),
    ("客户姓名", lambda c: c.customer.name_masked if c.customer else ""),
    ("客户电话", lambda c: c.customer.phone_masked if c.customer else ""),
    ("保单号", lambda c: c.policy_no),
    ("投诉事由", lambda c: c.category),
    ("紧急", lambda c: c.urgent),
    ("理赔相关", lambda c: c.claims_related),
    ("受理时间", lambda c: c.received_at),
    ("办理期限", lambda c: c.due_date),
    ("期限规则", lambda c: c.deadline_rule),
    ("期限为暂定", lambda c: c.deadline_provisional),
    ("决定时间", lambda c: c.decided_at),
    ("按时办理", lambda c: "" if c.on_time is None else c.on_time),
    ("办结时间", lambda c: c.closed_at),
    ("诉求内容", lambda c: c.description),
]


def cases_xlsx(cases) -> tuple[bytes, int]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append([title for title, _ in EXPORT_COLUMNS])
    count = 0
    for case in cases.iterator(chunk_size=2000):
        ws.append([safe_cell(get(case)) for _, get in EXPORT_COLUMNS])
        count += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def _set_font(run, size=None, bold=False):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = "SimSun"
    run._element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def decision_notice_docx(case) -> bytes:
    """投诉处理决定告知书: the decision, and the remedies 消费投诉处理管理办法 requires the letter to state."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    company = case.unit.path.strip("/").split("/")[0]
    from xiaobao.org.models import Unit

    head = Unit.objects.filter(code=company).first()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(title.add_run("投诉处理决定告知书"), size=18, bold=True)
    meta = doc.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _set_font(meta.add_run(f"编号: {case.case_no}"), size=10)

    customer = case.customer.name_masked if case.customer else "客户"
    received = timezone.localtime(case.received_at)
    decided = timezone.localtime(case.decided_at)
    paragraphs = [
        f"尊敬的{customer}:",
        f"    您于{received:%Y年%m月%d日}通过{case.channel}提出的{case.kind}"
        + (f" (保单号 {case.policy_no})" if case.policy_no else "")
        + f", 我司{case.unit.name}已于{decided:%Y年%m月%d日}作出处理决定, 现告知如下:",
        f"    一、处理决定: {case.decision}",
    ]
    if case.decision_amount is not None:
        paragraphs.append(f"    二、涉及金额: 人民币 {case.decision_amount:,.2f} 元。")
    if case.remedy:
        paragraphs.append(
            f"    {'三' if case.decision_amount is not None else '二'}、补救措施: {case.remedy}"
        )
    paragraphs += [
        "    如您对上述处理决定有异议, 可以通过以下途径维护您的合法权益:",
        f"    (一) 核查: 自收到本告知书之日起 30 日内, 向{case.unit.parent.name if case.unit.parent else '我司上级机构'}书面申请核查;",
        "    (二) 调解: 向保险纠纷调解组织等第三方调解机构申请调解;",
        "    (三) 仲裁: 依据合同约定或双方协议向仲裁机构申请仲裁;",
        "    (四) 诉讼: 依法向有管辖权的人民法院提起诉讼。",
        "    感谢您对我司工作的理解与支持。",
    ]
    for text in paragraphs:
        _set_font(doc.add_paragraph().add_run(text), size=12)
    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _set_font(sign.add_run(f"{head.name if head else ''} {case.unit.name}\n{decided:%Y年%m月%d日}"), size=12)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
