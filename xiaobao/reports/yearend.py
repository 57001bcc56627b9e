"""年终总结 (the year-end consumer-protection summary): its structure, its narrative templates and
its Word output.

The structure follows the hand-written 2024 branch summary (the seed): a title and a lead
paragraph; 一、消保工作开展情况 with (一) 机制建设与治理, (二) 风险管控与服务质量, (三) 金融教育;
二、下一步消保重点工作; then an appendix that traces every figure to its definition, its source and
the KPI snapshot it came from.

Every paragraph is a template: a heading and a body with {placeholders} filled from records
(xiaobao.reports.figures). The defaults below are modelled on the seed's sentences; a user may store
an edited text (NarrativeTemplate), which then replaces the default.
"""

import io
import string
from dataclasses import dataclass

from xiaobao.reports.figures import NO_DATA, YearFigures, placeholder_names


@dataclass(frozen=True)
class Block:
    key: str  # the template key: "gov.committee"
    heading: str  # default heading; "" for a lead paragraph without one
    body: str  # default body with {placeholders}


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    level: int = 2  # 1: 一、…  2: (一)…


TITLE = Block("title", "", "{unit_name}{year}年消费者权益保护工作总结")
LEAD = Block(
    "lead",
    "",
    "{year}年{unit_name}坚持以“金融消费者为中心”的服务理念，紧扣消费者权益保护（简称“消保”）工作重点领域、"
    "难点问题、薄弱环节，持续做好适当性管理、投诉应对、消保审查、服务质量、金融教育、信息保护、应急演练等"
    "消保相关工作，推动业务流程优化、服务质效提升、客户体验改善。",
)

PART_ONE = "一、消保工作开展情况"
PART_TWO = "二、下一步消保重点工作"

SECTIONS: tuple[Section, ...] = (
    Section(
        "（一）推进消保体制机制建设，提升消保管理水平。",
        (
            Block(
                "gov.leadership",
                "坚持党建引领，落实“一把手”负责制。",
                "坚持消保工作“党建引领”，持续落实消保工作“一把手”负责制，夯实主体责任。"
                "年内召开消保工作事务委员会{committee_meetings}，委员会月度召开率{committee_month_rate}；"
                "开展“高管讲消保”{executive_talks}；年度消保计划审批率{plans_approved_rate}。",
            ),
            Block(
                "gov.committee",
                "切实发挥消保工作事务委员会职能。",
                "充分运用月度消保工作事务委员会会议机制，统筹消保工作牵头部门与职能部门分工，"
                "形成决策层面与执行层面的紧密衔接。委员会督办事项按期办结率{actions_on_time_rate}，"
                "使重要消保事项得到有效落实与改善。",
            ),
            Block(
                "gov.rules",
                "推动消保制度体系完善。",
                "根据金融监管部门、总公司消保工作重点以及消保监管评价工作指引，统筹消保制度体系建设。"
                "年内制定或修订制度{rules_updated}，年末现行有效消保制度{rules_in_force}。"
                "全年完成消保审查{reviews_done}，审查意见采纳率{review_adoption_rate}。",
            ),
            Block(
                "gov.training",
                "加强员工消保培训与应急演练。",
                "全年组织员工消保培训{training_sessions}、合计{training_hours}，"
                "员工消保培训覆盖率{training_coverage}；开展消保应急演练{drills}。",
            ),
        ),
    ),
    Section(
        "（二）加强风险管控力度，提升服务质量评价。",
        (
            Block(
                "risk.complaints",
                "加强投诉管理力度与溯源整改。",
                "秉持“有诉即有责”的服务理念，高度重视投诉管理工作，建立溯源整改机制。"
                "全年受理投诉{complaints}，投诉按时办理率{complaint_on_time_rate}，"
                "溯源整改验证率{rectification_verified_rate}；{regulator_phrase}。",
            ),
            Block(
                "risk.work_orders",
                "加强工单管理力度。",
                "谨慎对待每位客户诉求，实行专人跟进、定期分析。全年受理热线等非投诉工单{work_orders}"
                "（其中4008热线{hotline_work_orders}），"
                "工单按时办结率{work_order_on_time_rate}；紧急工单{urgent_work_orders}，"
                "紧急工单当日响应率{urgent_same_day_rate}。",
            ),
            Block(
                "risk.quality",
                "加强业务品质管控。",
                "统筹各部门协同合作，加强内控管理，对业务品质问题进行追踪与通报。"
                "全年印发业务品质通报{bulletins}，业务品质问题关闭率{quality_issues_closed_rate}。",
            ),
            Block(
                "risk.service",
                "加强服务质量管理。",
                "聚焦理赔时效、保单继续率、退保率与投诉指标，稳步提升服务质量。"
                "年度服务质量指数{quality_index}，评级{quality_grade}；"
                "13个月保费继续率{persistency_13m}，25个月保费继续率{persistency_25m}；"
                "理赔给付时效中位数{claims_median_days}，获赔率{claims_payout_ratio}。",
            ),
            Block(
                "risk.surrender",
                "加强退保风险监测。",
                "定期开展退保业务分析与风险监测。年度保单退保率{surrender_rate}，全额退保占比{full_refund_share}；"
                "全年退保风险预警{risk_alerts}，确认“退保黑产”团伙{rings_confirmed}。",
            ),
        ),
    ),
    Section(
        "（三）推动开展金融知识普及宣传，提升金融消费者金融素养。",
        (
            Block(
                "edu.offline",
                "统筹制定宣传计划，推动落地各项常态、集中宣传活动。",
                "充分利用营业柜面、消保宣传教育专栏、柜面电子设备开展金融教育普及。"
                "年度共举办线下金融教育活动{offline_events}，触及消费者约{offline_reach}。",
            ),
            Block(
                "edu.business",
                "业务推动与消保宣传同部署。",
                "统筹业务渠道对触达的客户进行消费者宣传教育，宣导购买金融保险产品注意事项及金融风险提示，"
                "告知正当维权途径。全年金融教育触达{education_reach}，年度金融教育计划完成率{education_plan_completion}。",
            ),
            Block(
                "edu.online",
                "丰富线上宣传素材，提升民众触达面。",
                "推动制作{videos}金融教育相关视频。原创“以案说险”{case_articles}，"
                "发布原创宣传稿件{published_pieces}，媒体报道{media_reports}，线上触及消费者约{online_reach}。",
            ),
        ),
    ),
)

NEXT_LEAD = Block(
    "next.lead",
    "",
    "{unit_name}将继续以客户为中心，紧紧围绕严守监管底线、有力保障消费者合法权益有序开展各项工作，"
    "推动消保工作贯穿于业务全流程、各环节。",
)
NEXT_STEPS: tuple[Block, ...] = (
    Block(
        "next.sales",
        "（一）规范保险销售行为，源头控制消保风险。",
        "加强营销宣传管理，坚持“三适当”原则，站在消费者产品需求和客户服务体验角度，提升消保工作水平。",
    ),
    Block(
        "next.daily",
        "（二）做精做细日常消保工作。",
        "对照总公司、消保监管评价各项内容，做精做细消保日常每项工作，夯实各项管理机制，重点抓不足、补短板。",
    ),
    Block(
        "next.education",
        "（三）持续推进金融教育工作走深走实。",
        "围绕金融监管部门及金融教育计划安排，统筹分工，不断提升消费者金融素养，有效防范化解金融风险。",
    ),
    Block(
        "next.training",
        "（四）进一步提升员工内部培训质效。",
        "丰富培训内容，创新培训形式，定期开展监管政策解读、消保制度学习、投诉处理技能等培训，覆盖所有岗位、所有员工。",
    ),
    Block(
        "next.complaints",
        "（五）多措并举管控投诉，妥善化解矛盾纠纷。",
        "畅通投诉处理渠道，认真处理每一笔客户诉求，专人跟进处理进度，引导客户多元化解纠纷，将风险控制在萌芽时期。",
    ),
)


def all_blocks() -> list[Block]:
    return [TITLE, LEAD, *(b for s in SECTIONS for b in s.blocks), NEXT_LEAD, *NEXT_STEPS]


def default_block(key: str) -> Block | None:
    return next((b for b in all_blocks() if b.key == key), None)


def template_placeholders(text: str) -> list[str]:
    """The {names} a text uses. Raises ValueError on a malformed text (an unmatched brace) or a field
    that is more than a bare name (attribute access, an index, a conversion or a format spec)."""
    names = []
    for _literal, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(field or "{}")
        names.append(field)
    return names


def unknown_placeholders(text: str) -> list[str]:
    valid = set(placeholder_names())
    return [name for name in template_placeholders(text) if name not in valid]


def fill(text: str, values: dict[str, str]) -> str:
    """A template with its placeholders replaced; a name without a figure reads 暂无数据."""

    class Missing(dict):
        def __missing__(self, key):
            return NO_DATA

    return string.Formatter().vformat(text, (), Missing(values))


@dataclass
class Paragraph:
    key: str
    heading: str
    body: str


@dataclass
class Document:
    """The filled year-end document, ready for any writer (Word, text)."""

    title: str
    lead: str
    notice: str  # "" unless the year holds no records
    parts: list[tuple[str, list[tuple[str, list[Paragraph]]]]]  # part → [(section title, paragraphs)]
    appendix: list[dict]
    snapshot_id: int
    monthly: list[dict]

    def as_text(self) -> str:
        lines = [self.title, ""]
        if self.notice:
            lines += [self.notice, ""]
        lines.append(self.lead)
        for part, sections in self.parts:
            lines += ["", part]
            for title, paragraphs in sections:
                if title:
                    lines.append(title)
                for i, p in enumerate(paragraphs, 1):
                    if p.heading:
                        lines.append(f"{i}.{p.heading}" if title else p.heading)
                    lines.append(p.body)
        lines += ["", "附表 月度分布"]
        for m in self.monthly:
            lines.append("\t".join(str(v) for v in m.values()))
        lines += ["", "附录 数据来源与口径"]
        for row in self.appendix:
            lines.append(
                f"{row['label']}\t{row['value']}\t{row['source']}\t{row['snapshot']}\t{row['definition']}"
            )
        return "\n".join(lines)


def build_document(figs: YearFigures, texts: dict[str, tuple[str, str]] | None = None) -> Document:
    """Fill every block with the year's figures. `texts`: stored templates, key → (heading, body)."""
    texts = texts or {}
    values = figs.values()

    def render(block: Block) -> Paragraph:
        heading, body = texts.get(block.key, (block.heading, block.body))
        return Paragraph(block.key, fill(heading, values), fill(body, values))

    used: list[str] = []

    def note_used(block: Block) -> None:
        heading, body = texts.get(block.key, (block.heading, block.body))
        for name in template_placeholders(heading) + template_placeholders(body):
            if name not in used:
                used.append(name)

    for block in all_blocks():
        note_used(block)

    notice = ""
    if not figs.has_records:
        notice = (
            f"说明：系统中没有{figs.unit.name}{figs.year}年的业务记录（工单、金融教育、委员会、培训、审查、保单数据均为空），"
            f"下文数字均为零或“{NO_DATA}”。"
        )
    part_one = [(s.title, [render(b) for b in s.blocks]) for s in SECTIONS]
    part_two = [("", [render(NEXT_LEAD), *(render(b) for b in NEXT_STEPS)])]
    appendix = []
    for name in used:
        if name == "regulator_phrase":  # a sentence made from the count: the appendix gives the count
            name = "regulator_forwarded"
        if any(row["name"] == name for row in appendix):
            continue
        fig = figs.figures.get(name)
        if fig is None or fig.source in ("report", "org"):
            continue
        appendix.append(
            {
                "name": name,
                "label": fig.label,
                "value": fig.appendix_value,
                "detail": fig.detail,
                "definition": fig.definition,
                "source": fig.source,
                "snapshot": f"#{fig.snapshot_id}" if fig.snapshot_id else "—",
            }
        )
    return Document(
        title=render(TITLE).body,
        lead=render(LEAD).body,
        notice=notice,
        parts=[(PART_ONE, part_one), (PART_TWO, part_two)],
        appendix=appendix,
        snapshot_id=figs.snapshot.pk,
        monthly=figs.monthly,
    )


def write_docx(document: Document, target) -> None:
    """The year-end document as Word: title, notice, lead, the two parts, the appendix table."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    from xiaobao.reports import charts, word

    doc = word.new_document()
    word.title(doc, document.title)
    if document.notice:
        lead, _colon, rest = document.notice.partition("：")
        word.paragraph(doc, rest, bold_lead=lead + "：")
    word.paragraph(doc, document.lead)
    for part, sections in document.parts:
        word.heading(doc, part, 1)
        for section_title, paragraphs in sections:
            if section_title:
                word.heading(doc, section_title, 2)
            for i, p in enumerate(paragraphs, 1):
                if p.heading and section_title:
                    word.heading(doc, f"{i}.{p.heading}", 3)
                elif p.heading:
                    word.heading(doc, p.heading, 2)
                word.paragraph(doc, p.body)
    doc.add_page_break()
    word.heading(doc, "附表 月度分布", 1)
    word.paragraph(
        doc,
        "按受理日期（工单）和活动日期（金融教育）统计，含下级机构；投诉与工单不含已撤诉和合并件。",
        size=10,
    )
    png = charts.monthly_chart(document.monthly)
    if png is not None:
        doc.add_picture(io.BytesIO(png), width=Cm(14.6))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    else:
        word.paragraph(doc, charts.missing_reason(), size=10)
    rows = [
        [
            m["month"],
            str(m["complaints"]),
            str(m["work_orders"]),
            str(m["education_events"]),
            str(m["education_reach"]),
        ]
        for m in document.monthly
    ]
    rows.append(
        [
            "合计",
            *(
                str(sum(m[k] for m in document.monthly))
                for k in ("complaints", "work_orders", "education_events", "education_reach")
            ),
        ]
    )
    word.table(
        doc,
        ["月份", "投诉 (件)", "非投诉工单 (件)", "金融教育活动 (项)", "金融教育触达 (人次)"],
        rows,
        widths_cm=[2.6, 2.6, 3.0, 3.0, 3.46],
        size=9,
    )
    doc.add_page_break()
    word.heading(doc, "附录 数据来源与口径", 1)
    word.paragraph(
        doc,
        f"下表列出正文引用的每个数字、其口径定义和数据来源。以“kpi.”开头的指标取自指标快照 #{document.snapshot_id}，"
        "该快照记录了计算所用的数据版本、导入批次、工单截止时间与计算参数，可据以重算；"
        "其余数字由系统在生成报告时按所列来源从业务记录统计。“暂无数据”表示该来源未接入或该期间没有可计算的记录。",
        size=10,
    )
    word.table(
        doc,
        ["指标", "数值", "口径定义", "数据来源", "指标快照"],
        [
            [
                row["label"],
                row["value"] + (f" ({row['detail']})" if row["detail"] else ""),
                row["definition"],
                row["source"],
                row["snapshot"],
            ]
            for row in document.appendix
        ],
        widths_cm=[2.7, 2.6, 5.9, 2.4, 1.06],  # 14.66 cm: the text width of A4 with these margins
        size=8,
    )
    doc.save(target)
