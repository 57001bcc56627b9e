"""The KPI ids the issue requires at least (shared by the tests)."""

REQUIRED = [
    "complaints_per_100m_premium",
    "complaints_per_10k_policies",
    "complaints_per_10k_insured",
    "complaints_per_100m_premium_regulator",
    "complaints_per_10k_policies_regulator",
    "complaints_per_10k_insured_regulator",
    "persistency_13m",
    "persistency_25m",
    "surrender_rate_policies",
    "surrender_rate_amount",
    "full_refund_share",
    "claims_median_days_to_pay",
    "claims_paid_within_10_days_share",
    "claims_payout_ratio",
    "urgent_same_day_rate",
    "complaint_on_time_rate",
    "regulator_forwarded_count",
    "quality_index",
]
