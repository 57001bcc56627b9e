"""Demo 消保自评: the branch's catalogues since 2024, its submitted 2024 and 2025 self-assessments and,
when today falls in a later year, the current one in progress.

Each self-assessment is made the way an officer would: pre-filled from the demo's records, the
remaining indicators scored by hand with a note, evidence linked to the pages behind each figure.
"""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from xiaobao.assessment.models import Assessment, AssessmentStatus, Catalogue, EvidenceLink, Score
from xiaobao.assessment.services import assessment_create, catalogue_create
from xiaobao.education.demo import read_context

BRANCH = "8637"
MANUAL_NOTES = {
    "GOV-01": "消保工作事务委员会按月召开，由“一把手”主持，会议纪要见委员会台账。",
    "GOV-02": "年度消保工作计划和金融教育计划经委员会审议后印发。",
    "GOV-03": "年内完成消保制度体系梳理，修订投诉处理和营销宣传实施细则。",
    "GOV-04": "全员参加消保培训，新员工入职培训含消保课程。",
    "GOV-05": "消保指标纳入各部门和中支综合绩效考核；内审年度计划含消保专项。",
    "SUI-01": "在售产品均完成风险分级；投保环节完成客户风险测评。",
    "SUI-02": "银保和个险渠道双录覆盖，每月质检抽查。",
    "SUI-03": "新产品上市前全部经消保审查，见审查台账。",
    "MKT-04": "全年未发生误导宣传被监管查处或通报的情况。",
    "DIS-03": "按监管通报口径测算，亿元保费投诉量低于行业中位数。",
    "DIS-04": "按监管通报口径测算，万张保单投诉量低于行业中位数。",
    "DIS-06": "建立调解对接机制，投诉数量同比下降。",
    "SVC-02": "在总公司服务质量劳动竞赛中获服务质量指数团体二等奖。",
    "SVC-03": "营业柜面设老年人服务窗口，提供老花镜、放大镜等设施。",
    "PRI-01": "个人信息分级分类管理，收集环节告知并取得同意。",
    "PRI-02": "查看完整个人信息均有审计记录；合作机构协议含信息安全条款。",
}


def _complete(
    rng: random.Random, assessment: Assessment, officer, when: dt.datetime, *, submit: bool
) -> None:
    """Link evidence to every figure; for a finished year, score by hand what the pre-fill left open
    and submit on `when` (the current year stays in progress, its manual indicators open)."""
    links = []
    changed = []
    for score in assessment.scores.select_related("indicator"):
        indicator = score.indicator
        figure = score.figure or {}
        if figure.get("link"):
            links.append(
                EvidenceLink(
                    score=score,
                    label=figure.get("label") or indicator.name,
                    url=figure["link"],
                    added_by=officer,
                )
            )
        if submit and figure:
            figure["at"] = when.isoformat(timespec="seconds")  # pre-filled just before submission
        if submit and score.score is None:
            share = Decimal(rng.choice([80, 85, 90, 90, 95, 100])) / 100
            score.score = (indicator.points * share).quantize(Decimal("0.01"))
            score.comment = MANUAL_NOTES.get(indicator.code, "依据台账和相关材料评分。")
            if figure and not figure.get("available"):
                score.comment += " (系统数据未接入，手工评分)"
            score.prefilled = False
            score.scored_by, score.scored_at = officer, when
        changed.append(score)
    Score.objects.bulk_update(changed, ["score", "comment", "prefilled", "scored_by", "scored_at", "figure"])
    EvidenceLink.objects.bulk_create(links)
    if submit:
        assessment.status = AssessmentStatus.SUBMITTED
        assessment.prefilled_at = when
        assessment.submitted_by, assessment.submitted_at = officer, when
        assessment.summary = (
            f"{assessment.year} 年分公司坚持以金融消费者为中心，对照监管评价七项要素逐项自评; "
            "系统可计算的指标由台账预填并注明口径，其余指标依据制度、会议纪要和台账手工评分。"
        )
        assessment.save()


def build(ctx) -> dict:
    c = read_context(ctx, "assessment")
    rng, today = c.rng, c.today
    officer = c.users["xb_wang"]
    branch = c.units[BRANCH]
    catalogues = [catalogue_create(actor=None, year=year) for year in range(2024, today.year + 1)]
    made = 0
    for catalogue in catalogues:
        year = catalogue.year
        assessment = assessment_create(actor=officer, unit=branch, year=year)
        made += 1
        submit = year < today.year
        when = timezone.make_aware(dt.datetime(year + 1, 1, 20, 10, 0)) if submit else timezone.now()
        _complete(rng, assessment, officer, when, submit=submit)
    return {"assessment_catalogues": Catalogue.objects.count(), "assessments": made}
