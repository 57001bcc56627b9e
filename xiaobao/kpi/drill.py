"""Where each figure drills down to: the records behind it, in the pages that list them.

Complaint and case figures open the cases desk with its filters; policy, surrender and claim
figures open the core-data pages of xiaobao.book (`/book/<table>/?org=…&from=…&to=…&status=…`);
every figure also has its exact population in /kpi/records/<id>/ (masked), which applies the KPI's
own flags (cohort exclusions, in force at the start …) that a generic list cannot.
"""

from urllib.parse import urlencode

from django.urls import reverse

from xiaobao.kpi.periods import Period, parse_period

CASE_KPIS = {
    "complaints_count": {"kind": "投诉"},
    "complaints_per_100m_premium": {"kind": "投诉"},
    "complaints_per_10k_policies": {"kind": "投诉"},
    "complaints_per_10k_insured": {"kind": "投诉"},
    "complaints_per_100m_premium_regulator": {"kind": "投诉", "channel": "监管转办"},
    "complaints_per_10k_policies_regulator": {"kind": "投诉", "channel": "监管转办"},
    "complaints_per_10k_insured_regulator": {"kind": "投诉", "channel": "监管转办"},
    "regulator_forwarded_count": {"kind": "投诉", "channel": "监管转办"},
    "complaint_on_time_rate": {"kind": "投诉"},
    "complaint_extension_rate": {"kind": "投诉"},
    "repeat_complaint_rate": {"kind": "投诉"},
    "claims_related_complaint_share": {"kind": "投诉", "claims": "1"},
    "urgent_same_day_rate": {"urgent": "1"},
}

# KPI → (book table, extra filters); the dates are the figure's own (see book_dates).
BOOK_KPIS = {
    "persistency_13m": ("policies", {}),
    "persistency_25m": ("policies", {}),
    "surrender_rate_policies": ("surrenders", {}),
    "surrender_rate_amount": ("surrenders", {}),
    "full_refund_share": ("surrenders", {"full_refund": "1"}),
    # Timeliness counts claims paid in the period; the payout ratio claims decided in it.
    "claims_median_days_to_pay": ("claims", {"date": "payment_date"}),
    "claims_mean_days_to_pay": ("claims", {"date": "payment_date"}),
    "claims_paid_within_10_days_share": ("claims", {"date": "payment_date"}),
    "claims_paid_within_target_share": ("claims", {"date": "payment_date"}),
    "claims_payout_ratio": ("claims", {"date": "decision_date"}),
}


def period_of_key(period: Period, by: str | None, key: str | None) -> Period:
    """The period a group stands for: a month of a monthly breakdown, else the whole period."""
    if by == "month" and key:
        return parse_period(key)
    return period


def _query(params: dict) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def drill_url(kpi_id: str, *, period: Period, unit_code: str | None) -> str | None:
    if kpi_id == "overdue_count":
        return f"{reverse('cases-desk')}?{_query({'view': 'overdue', 'unit': unit_code})}"
    if kpi_id in CASE_KPIS:
        params = {
            **CASE_KPIS[kpi_id],
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "unit": unit_code,
        }
        return f"{reverse('cases-desk')}?{_query(params)}"
    if kpi_id in BOOK_KPIS:
        table, extra = BOOK_KPIS[kpi_id]
        start, end = period.start, period.end
        if kpi_id.startswith("persistency_"):
            # The cohort: policies effective in the 12 months ending 13 (25) months before the end.
            start, end = period.cohort(13 if kpi_id.endswith("13m") else 25)
        params = {"org": unit_code, "from": start.isoformat(), "to": end.isoformat(), **extra}
        return f"/book/{table}/?{_query(params)}"
    if kpi_id in ("quality_index", "quality_grade"):
        return f"{reverse('kpi-quality-values')}?{_query({'period': period.code, 'unit': unit_code})}"
    return None


def records_url(
    kpi_id: str, *, period: Period, unit_code: str | None, key: str | None = None, by: str | None = None
) -> str | None:
    if kpi_id in ("quality_index", "quality_grade"):
        return None
    params = {"period": period.code, "unit": unit_code, "by": by if key is not None else None, "key": key}
    return f"{reverse('kpi-records', kwargs={'kpi_id': kpi_id})}?{_query(params)}"
