"""Default checklists per review type, from 《银行保险机构消费者权益保护管理办法》(银保监会令2022年第9号).

Art. 9 (review at 设计开发、定价管理、协议制定、营销宣传), Art. 10 (disclosure: 真实、准确、完整、
及时), Art. 11 (suitability: 将合适的产品提供给合适的消费者, the basis of 三适当), Art. 12 (sales
traceable), the personal-information rules (inform and obtain consent) and the eight rights. Article
numbers not confirmed by the fact sheet are cited by the right they protect. The administrator
edits these on the checklist page; this migration only seeds them.
"""

from django.db import migrations

MEASURES = "《银行保险机构消费者权益保护管理办法》"
DISCLOSURE = ("disclosure", "信息披露真实、准确、完整、及时, 关键信息显著提示", f"{MEASURES}第十条; 知情权")
SUITABILITY = (
    "suitability",
    "三适当: 产品风险分级、适合人群明确, 将合适的产品提供给合适的消费者",
    f"{MEASURES}第十一条 (适当性)",
)
FAIR_TERMS = (
    "fair_terms",
    "条款公平: 不得以格式条款排除或限制消费者权利、加重其责任; 责任免除条款显著提示并说明",
    f"{MEASURES} 公平交易权; 《保险法》第十七条",
)
RETURNS = (
    "no_misleading_returns",
    "不得误导收益: 不承诺保本保收益, 不夸大演示利率或分红, 不以历史业绩代表未来收益",
    f"{MEASURES} 知情权、自主选择权",
)
PERSONAL_INFO = (
    "personal_info_consent",
    "个人信息: 告知处理目的和范围并取得同意, 不因拒绝提供非必要信息而拒绝服务",
    f"{MEASURES} 个人信息保护; 信息安全权",
)
COOLING_OFF = (
    "cooling_off_surrender",
    "犹豫期、退保损失、现金价值和费用扣除充分说明",
    f"{MEASURES}第十条; 知情权",
)
COMPLAINTS = (
    "complaint_channel",
    "载明投诉渠道和纠纷解决方式",
    "《银行业保险业消费投诉处理管理办法》第七至十条; 依法求偿权",
)
PRICING = ("fair_pricing", "定价公平合理, 收费项目和标准公开", f"{MEASURES}第九条 (定价管理); 公平交易权")
RISK_WARNING = ("risk_warning", "风险提示醒目、充分, 与宣传内容同等显著", f"{MEASURES}第十条")
IDENTITY = (
    "identity_qualification",
    "宣传主体明确、具备资质, 不冒用监管机构或他人名义, 不贬低同业、不作不实比较",
    f"{MEASURES} 营销宣传管理",
)
PLAIN_LANGUAGE = ("plain_language", "通俗易懂, 字体字号便于阅读, 兼顾老年人等特殊群体", f"{MEASURES} 受尊重权、知情权")
NO_INDUCE = (
    "no_induced_surrender",
    "不诱导退旧投新、不推介代理退保",
    "《保险销售行为管理办法》第三十九条",
)
TRACEABLE = ("traceable", "销售关键环节可回溯 (录音录像), 重要信息可查询, 问题责任可确认", f"{MEASURES}第十二条")
RIGHTS = ("eight_rights", "保障消费者八项权利, 不减损消费者权益", f"{MEASURES} 第二章; 八项权利")
PROCESS = (
    "process_links",
    "与消保审查、投诉处理、溯源整改等机制衔接, 职责分工明确",
    f"{MEASURES}第七至九条",
)
ACCOUNTABILITY = ("accountability", "明确考核与责任追究", f"{MEASURES} 内部考核")

DEFAULTS = {
    "新产品": [DISCLOSURE, SUITABILITY, FAIR_TERMS, RETURNS, PERSONAL_INFO, COOLING_OFF, COMPLAINTS, PRICING],
    "营销宣传": [DISCLOSURE, RETURNS, RISK_WARNING, SUITABILITY, IDENTITY, PERSONAL_INFO, PLAIN_LANGUAGE],
    "合同条款": [FAIR_TERMS, DISCLOSURE, COOLING_OFF, PERSONAL_INFO, COMPLAINTS, PLAIN_LANGUAGE],
    "销售话术": [RETURNS, SUITABILITY, DISCLOSURE, NO_INDUCE, TRACEABLE, PERSONAL_INFO],
    "内部制度": [RIGHTS, PROCESS, PERSONAL_INFO, ACCOUNTABILITY],
}


def seed(apps, schema_editor):
    ChecklistItem = apps.get_model("reviews", "ChecklistItem")
    for review_type, items in DEFAULTS.items():
        for order, (code, title, basis) in enumerate(items, start=1):
            ChecklistItem.objects.get_or_create(
                review_type=review_type,
                code=code,
                defaults={"title": title, "basis": basis, "order": order * 10},
            )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
