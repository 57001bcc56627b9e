"""The KPI registry: id → label, definition (formula and population, in Chinese and English), unit,
and the formula that computes it (xiaobao.kpi.expressions.formulas). Every figure xiaobao shows
carries its definition, including the denominator variant an administrator chose.

Ratios are fractions (0.95, not 95 %); amounts are yuan; rates per 亿元 / 万张 / 万人次 are scaled
as their names say.
"""

from dataclasses import dataclass

from django.utils import translation

from xiaobao.kpi.models import PolicyBasis, PremiumBasis


@dataclass(frozen=True)
class KpiDef:
    id: str
    section: str  # complaints | persistency | surrender | claims | handling | quality
    label_zh: str
    label_en: str
    definition_zh: str
    definition_en: str
    unit: str  # fraction | per_100m | per_10k | days | count | index | grade

    def label(self) -> str:
        return self.label_en if _english() else self.label_zh


def _english() -> bool:
    return (translation.get_language() or "zh-hans").startswith("en")


_COMPLAINTS_ZH = "投诉 = 期间内受理的投诉类工单 (不含已撤诉、已合并), 按受理日期归属期间; "
_COMPLAINTS_EN = "complaints = cases of kind 投诉 received in the period (withdrawn and merged excluded); "
_REG_ZH = "仅计监管转办投诉 (通报口径); "
_REG_EN = "regulator-forwarded complaints only (the bulletin's basis); "

SECTIONS = {
    "complaints": ("投诉率", "Complaint rates"),
    "persistency": ("保费继续率", "Persistency"),
    "surrender": ("退保", "Surrender"),
    "claims": ("理赔", "Claims"),
    "handling": ("热线与投诉处理", "Hotline and complaint handling"),
    "quality": ("服务质量指数", "Service quality index"),
}


def _complaint_rates() -> list[KpiDef]:
    out = []
    for suffix, zh, en in (("", "", ""), ("_regulator", _REG_ZH, _REG_EN)):
        tag_zh = " (监管转办)" if suffix else ""
        tag_en = " (regulator-forwarded)" if suffix else ""
        out += [
            KpiDef(
                f"complaints_per_100m_premium{suffix}",
                "complaints",
                f"亿元保费投诉量{tag_zh}",
                f"Complaints per 100m yuan premium{tag_en}",
                f"投诉件数 ÷ (保费(元) ÷ 10^8)。{_COMPLAINTS_ZH}{zh}保费按实收日期归属期间。",
                f"complaints ÷ (premium in yuan ÷ 10^8). {_COMPLAINTS_EN}{en}premiums by received date.",
                "per_100m",
            ),
            KpiDef(
                f"complaints_per_10k_policies{suffix}",
                "complaints",
                f"万张保单投诉量{tag_zh}",
                f"Complaints per 10k policies{tag_en}",
                f"投诉件数 ÷ (保单件数 ÷ 10^4)。{_COMPLAINTS_ZH}{zh}有效保单：生效日 ≤ 评估日且未在评估日或之前终止 (状态 有效/效力中止，或状态日期晚于评估日)。",
                f"complaints ÷ (policies ÷ 10^4). {_COMPLAINTS_EN}{en}in force: effective on or before the evaluation date and not ended on or before it.",
                "per_10k",
            ),
            KpiDef(
                f"complaints_per_10k_insured{suffix}",
                "complaints",
                f"万人次投诉量{tag_zh}",
                f"Complaints per 10k insured{tag_en}",
                f"投诉件数 ÷ (被保险人人次 ÷ 10^4)。{_COMPLAINTS_ZH}{zh}人次 = 不同被保险人证件号 (按令牌去重；无证件号的保单不计)。",
                f"complaints ÷ (insured persons ÷ 10^4). {_COMPLAINTS_EN}{en}persons = distinct insured ID tokens (policies without one are not counted).",
                "per_10k",
            ),
        ]
    return out


_PERSISTENCY_ZH = (
    "保费继续率 (保费口径): 分子 = 队列保单第 {year} 保单年度的实收保费中，实收日期不晚于 生效日 + {months} 个月 的部分; "
    "分母 = 队列保单的期交保费 (annual_premium) 之和。队列：评估日前 {months} 个月为止的 12 个自然月内生效的个人 (非团险)、"
    "长期 (缴费年期 > 1 或未填)、期交 (非趸交) 保单，剔除评估日或之前犹豫期撤单、理赔终止的保单。"
)
_PERSISTENCY_EN = (
    "premium persistency: numerator = premiums of the cohort for policy year {year} received on or before "
    "effective_date + {months} months; denominator = Σ annual_premium of the cohort. Cohort: individual (not 团险), "
    "long-term (payment_years > 1 or blank), regular-premium (not 趸交) policies effective in the 12 calendar months "
    "ending {months} months before the evaluation date, less those cancelled in cooling-off or terminated by claim "
    "on or before the evaluation date."
)

REGISTRY: dict[str, KpiDef] = {
    d.id: d
    for d in [
        *_complaint_rates(),
        KpiDef(
            "persistency_13m",
            "persistency",
            "13个月保费继续率",
            "13-month premium persistency",
            _PERSISTENCY_ZH.format(year=2, months=13),
            _PERSISTENCY_EN.format(year=2, months=13),
            "fraction",
        ),
        KpiDef(
            "persistency_25m",
            "persistency",
            "25个月保费继续率",
            "25-month premium persistency",
            _PERSISTENCY_ZH.format(year=3, months=25),
            _PERSISTENCY_EN.format(year=3, months=25),
            "fraction",
        ),
        KpiDef(
            "surrender_rate_policies",
            "surrender",
            "退保率 (件数)",
            "Policy surrender rate",
            "期初有效且在期间内退保的保单件数 ÷ 期初有效保单件数。期初有效 = 期间首日前一天有效；退保 = 退保清单中退保日期在期间内。",
            "policies in force at the period's start surrendered during the period ÷ policies in force at its start (start = the day before the period; surrendered = a surrender record dated in the period).",
            "fraction",
        ),
        KpiDef(
            "surrender_rate_amount",
            "surrender",
            "简单退保率 (保额)",
            "Amount surrender rate",
            "上述退保保单的保额之和 ÷ 期初有效保单的保额之和 (保额为空按 0 计)。综合退保率需要期初长期险责任准备金，本系统未接收，不计算。",
            "sum assured of those surrendered policies ÷ sum assured in force at the start (blank = 0). The comprehensive surrender rate needs opening reserves, which xiaobao does not receive.",
            "fraction",
        ),
        KpiDef(
            "full_refund_share",
            "surrender",
            "全额退保占比",
            "Full-refund share",
            "期间内 (按退保日期) 全额退保的退保件数 ÷ 期间内全部退保件数; “是否全额退保”为空按否计。",
            "surrenders in the period paid as a full refund ÷ all surrenders in the period, by count; a blank flag counts as no.",
            "fraction",
        ),
        KpiDef(
            "claims_median_days_to_pay",
            "claims",
            "理赔支付天数中位数",
            "Median days to pay a claim",
            "期间内 (按支付日期) 已支付赔案，自资料齐全日至支付日的自然日数的中位数；分母为赔案件数。",
            "claims paid in the period (by payment date): median calendar days from documents complete to payment; the denominator is the number of claims.",
            "days",
        ),
        KpiDef(
            "claims_mean_days_to_pay",
            "claims",
            "理赔支付平均天数",
            "Mean days to pay a claim",
            "期间内已支付赔案自资料齐全日至支付日的自然日数之和 ÷ 赔案件数。",
            "Σ calendar days from documents complete to payment ÷ claims paid in the period.",
            "days",
        ),
        KpiDef(
            "claims_paid_within_10_days_share",
            "claims",
            "结案后10日内支付占比",
            "Paid within 10 days of decision",
            "期间内已支付赔案中，支付日 − 结案日 ≤ 10 个自然日的件数 ÷ 已支付赔案件数 (保险法第二十三条)。",
            "claims paid in the period with payment date − decision date ≤ 10 calendar days ÷ claims paid (Insurance Law Art. 23).",
            "fraction",
        ),
        KpiDef(
            "claims_paid_within_target_share",
            "claims",
            "理赔时效达标率",
            "Paid within the company target",
            "期间内已支付赔案中，资料齐全至支付不超过公司目标天数的件数 ÷ 已支付赔案件数。",
            "claims paid in the period within the company's target days from documents complete ÷ claims paid.",
            "fraction",
        ),
        KpiDef(
            "claims_payout_ratio",
            "claims",
            "理赔获赔率",
            "Claim payout ratio",
            "期间内 (按结案日期) 结论为正常给付或部分给付的件数 ÷ 期间内结案件数；撤案不计入分子和分母。",
            "claims decided in the period as 正常给付 or 部分给付 ÷ claims decided in the period; 撤案 excluded from both.",
            "fraction",
        ),
        KpiDef(
            "complaints_count",
            "handling",
            "投诉件数",
            "Complaints",
            "期间内受理的投诉类工单件数 (不含已撤诉、已合并)。",
            "cases of kind 投诉 received in the period (withdrawn and merged excluded).",
            "count",
        ),
        KpiDef(
            "regulator_forwarded_count",
            "handling",
            "监管转办投诉件数",
            "Regulator-forwarded complaints",
            "期间内来源渠道为监管转办的投诉件数 (目标：零转办)。",
            "complaints received in the period through 监管转办 (goal: zero).",
            "count",
        ),
        KpiDef(
            "urgent_same_day_rate",
            "handling",
            "紧急工单当日响应率",
            "Urgent same-day response rate",
            "期间内受理的紧急工单 (不含已合并) 中，首次响应日期不晚于响应期限的件数 ÷ 响应期限已到 (不晚于评估日或今天) 或已响应的紧急工单件数。",
            "urgent cases received in the period (merged excluded) first answered on or before their response deadline ÷ urgent cases whose deadline has come (by the evaluation date or today) or that were answered.",
            "fraction",
        ),
        KpiDef(
            "complaint_on_time_rate",
            "handling",
            "投诉按时办结率",
            "Complaint on-time decision rate",
            "期间内受理的投诉中，在期限内作出决定的件数 ÷ 已作出决定的件数。",
            "complaints received in the period decided by their deadline ÷ complaints decided.",
            "fraction",
        ),
        KpiDef(
            "complaint_extension_rate",
            "handling",
            "投诉延期率",
            "Complaint extension rate",
            "期间内受理的投诉中延期过的件数 ÷ 投诉件数。",
            "complaints received in the period that were extended ÷ complaints.",
            "fraction",
        ),
        KpiDef(
            "repeat_complaint_rate",
            "handling",
            "重复投诉率",
            "Repeat complaint rate",
            "期间内的投诉中，同一客户或同一保单在此前 90 天内已有投诉 (不含合并件) 的件数 ÷ 投诉件数。",
            "complaints in the period with an earlier complaint (merged excluded) by the same customer or on the same policy within the 90 days before ÷ complaints.",
            "fraction",
        ),
        KpiDef(
            "claims_related_complaint_share",
            "handling",
            "理赔相关投诉占比",
            "Claims-related complaint share",
            "期间内标记为理赔相关或事由为理赔纠纷的投诉 ÷ 投诉件数。",
            "complaints marked claims-related or of category 理赔纠纷 ÷ complaints.",
            "fraction",
        ),
        KpiDef(
            "overdue_count",
            "handling",
            "超期未办结工单",
            "Overdue cases",
            "评估日 (当前期间为今天) 仍未作出决定且已过办理期限的工单件数 (所有类型；不含已撤诉、已合并；今天暂停计时的不计)。",
            "cases (all kinds) past their deadline and undecided at the evaluation date (today for the current period); withdrawn, merged and cases paused today excluded.",
            "count",
        ),
        KpiDef(
            "quality_index",
            "quality",
            "服务质量指数",
            "Service quality index",
            "各指标按目标计 0–100 分 (越高越好: 100 × 实际 ÷ 目标，越低越好: 100 × 目标 ÷ 实际，均封顶 100), 按权重加权平均；分子 = Σ 权重 × 得分，分母 = 有数值指标的权重之和 (缺失指标不计入); 有数值指标的权重不足总权重一半时不计算指数。",
            "each indicator scored 0–100 against its target (higher is better: 100 × value ÷ target; lower is better: 100 × target ÷ value; capped at 100), weighted; numerator = Σ weight × score, denominator = Σ weight of indicators with a value (missing ones left out); no index when those carry less than half of the total weight.",
            "index",
        ),
        KpiDef(
            "quality_grade",
            "quality",
            "服务质量等级",
            "Service quality grade",
            "按服务质量指数: AAA ≥95, AA 90–95, A 85–90, BBB 80–85, BB 75–80, B 70–75, CCC 65–70, CC 60–65, C 55–60, D <55 (下限含)。",
            "from the index: AAA ≥95, AA 90–95, A 85–90, BBB 80–85, BB 75–80, B 70–75, CCC 65–70, CC 60–65, C 55–60, D <55 (lower bound included).",
            "grade",
        ),
    ]
}

KPI_IDS = list(REGISTRY)
COMPUTED_IDS = [k for k in KPI_IDS if REGISTRY[k].section != "quality"]


def _variant_text(kpi_id: str, params: dict) -> tuple[str, str] | None:
    if kpi_id.startswith("complaints_per_100m_premium"):
        basis = PremiumBasis(params.get("premium_basis", PremiumBasis.RECEIVED))
        zh = {"received": "当期全部实收保费", "first_year": "当期新单 (首年) 保费"}[basis.value]
        en = {
            "received": "all premiums received in the period",
            "first_year": "first-year premiums received in the period",
        }[basis.value]
    elif kpi_id.startswith("complaints_per_10k_policies"):
        basis = PolicyBasis(params.get("policy_basis", PolicyBasis.IN_FORCE_END))
        zh = {"in_force_end": "评估日有效保单件数", "new_business": "期间内生效的新单件数"}[basis.value]
        en = {
            "in_force_end": "policies in force at the evaluation date",
            "new_business": "new policies effective in the period",
        }[basis.value]
    elif kpi_id.startswith("complaints_per_10k_insured"):
        basis = PolicyBasis(params.get("insured_basis", PolicyBasis.IN_FORCE_END))
        zh = {"in_force_end": "评估日有效保单的被保险人", "new_business": "期间内生效新单的被保险人"}[
            basis.value
        ]
        en = {
            "in_force_end": "insured of policies in force at the evaluation date",
            "new_business": "insured of new policies effective in the period",
        }[basis.value]
    elif kpi_id == "claims_paid_within_target_share":
        days = params.get("claims_target_days", 30)
        return f"公司目标 {days} 个自然日", f"company target {days} calendar days"
    else:
        return None
    default = basis.value in ("received", "in_force_end")
    return (
        f"分母口径: {zh}{' (默认)' if default else ' (管理员设置)'}",
        f"denominator: {en}{' (default)' if default else ' (administrator setting)'}",
    )


def definition(kpi_id: str, params: dict, *, english: bool | None = None) -> str:
    """The definition printed with a figure, with the denominator variant in force."""
    d = REGISTRY[kpi_id]
    english = _english() if english is None else english
    text = f"{d.label_en}: {d.definition_en}" if english else f"{d.label_zh}: {d.definition_zh}"
    variant = _variant_text(kpi_id, params)
    if variant:
        text += f" [{variant[1] if english else variant[0]}]"
    return text


def format_value(kpi_id: str, value) -> str:
    """How a figure reads on a page or in a table: fractions as percentages (the value itself stays a
    fraction), rates to four places, days to one, counts whole and grouped by three (1,234)."""
    if value is None:
        return "—"
    unit = REGISTRY[kpi_id].unit
    if unit == "fraction":
        return f"{float(value) * 100:.2f}%"
    if unit in ("per_100m", "per_10k"):
        return f"{float(value):.4f}"
    if unit == "days":
        return f"{float(value):.1f}"
    if unit == "index":
        return f"{float(value):.2f}"
    if unit == "count":
        return f"{int(value):,}"
    return str(value)


def format_amount(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.2f}" if not number.is_integer() or "." in str(value) else f"{int(number):,}"
