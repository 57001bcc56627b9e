"""The default 服务质量指数 indicators: the 人身险 service-evaluation weights (保单送达率 15,
电话接通率/回访成功率 15, 理赔时效 + 获赔率 35, 保全时效 10, 投诉率 + 投诉办理及时率 25), each pair split
evenly. Targets are starting points for the administrator to set."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    # code, name, group, weight, target, direction, source KPI ("" = entered by hand), unit
    ("policy_delivery", "保单送达率", "保单送达率", "15", "0.98", "higher", "", "比例"),
    ("call_answer", "电话呼入接通率", "电话接通率/回访成功率", "7.5", "0.90", "higher", "", "比例"),
    ("callback_success", "电话回访成功率", "电话接通率/回访成功率", "7.5", "0.95", "higher", "", "比例"),
    ("claims_timeliness", "理赔服务时效 (支付天数中位数)", "理赔时效+获赔率", "17.5", "10", "lower", "claims_median_days_to_pay", "天"),
    ("claims_payout", "理赔获赔率", "理赔时效+获赔率", "17.5", "0.95", "higher", "claims_payout_ratio", "比例"),
    ("servicing_timeliness", "保全时效达标率", "保全时效", "10", "0.95", "higher", "", "比例"),
    ("complaint_rate", "投诉率 (万张保单投诉量)", "投诉率+投诉办理及时率", "12.5", "0.25", "lower", "complaints_per_10k_policies", "件/万张"),
    ("complaint_on_time", "投诉办理及时率", "投诉率+投诉办理及时率", "12.5", "1", "higher", "complaint_on_time_rate", "比例"),
]


def add(apps, schema_editor):
    Indicator = apps.get_model("kpi", "QualityIndicator")
    for order, (code, name, group, weight, target, direction, source, unit) in enumerate(DEFAULTS):
        Indicator.objects.get_or_create(
            code=code,
            defaults=dict(
                name=name,
                group=group,
                weight=Decimal(weight),
                target=Decimal(target),
                direction=direction,
                source=source,
                value_unit=unit,
                order=order,
            ),
        )


def remove(apps, schema_editor):
    apps.get_model("kpi", "QualityIndicator").objects.filter(code__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
