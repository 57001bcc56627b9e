"""Every KPI of metrics.md as Ibis expressions over the store tables and the exported cases.

Analytics are expressions, not loops: each figure is a reduction (count, sum, distinct count,
median) over a *base*, a relation of records with a group key `_key` and boolean flag columns that
say which records each figure counts. A KPI is a numerator measure over one base and a denominator
measure over the same or another base; its value is numerator × scale ÷ denominator, null when the
denominator is zero. All measures of one base are computed in a single aggregation, and the
aggregates are stacked and folded per `_key`, so the whole KPI set is one query per grouping, on
DuckDB or on Spark.

Bases (and the date that places a record in a period, metrics.md "Periods and populations"):
- stock: policies × frames (one frame per evaluated period: the whole period, or each month),
  with in-force flags at the frame's start and end, new business, surrendered in the frame, and
  the 13/25-month persistency cohorts of the frame's evaluation date;
- premiums by received_date; surrenders by surrender_date; claims_paid by payment_date;
  claims_decided by decision_date; cases by the local date of receipt;
- overdue: cases × frames, open past their deadline at the frame's end (or today).
Premiums, surrenders and claims belong to a unit through their policy (policies.org_code); cases
through the case's unit. Breakdowns by channel, product and agent use the policy's attributes (for
cases, the policy named on the case; cases without one form the group "").

Choices where metrics.md leaves room (each also printed in the registry's definitions):
- "long-term" in the persistency cohort = payment_years > 1 or blank (there is no term column);
  "individual" = not 团险; the exclusions apply when they happened on or before the evaluation date.
- a policy counts as surrendered in a period when a surrender record is dated in it (a partial
  surrender record counts too); a blank full-refund flag counts as no.
- overdue at a past frame's end uses the decision date; a pause is only known for today.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis

from xiaobao.kpi.periods import Period

IN_FORCE = ("有效", "效力中止")  # a policy in one of these statuses has not ended
PERSISTENCY_EXCLUDED = ("犹豫期撤单", "理赔终止")  # cancelled in cooling-off, terminated by claim
GROUP_CHANNEL = "团险"
SINGLE_PREMIUM = "趸交"
PAID_DECISIONS = ("正常给付", "部分给付")
CLAIM_WITHDRAWN = "撤案"
COMPLAINT = "投诉"
CASE_NOT_COUNTED = ("已撤诉", "已合并")  # withdrawn and merged duplicates are not complaints
CASE_MERGED = "已合并"
CASE_PAUSED = "暂停"
REGULATOR_CHANNEL = "监管转办"
CLAIMS_CATEGORY = "理赔纠纷"
REPEAT_WINDOW_SECONDS = 90 * 86400  # repeat complainant: same person or policy within 90 days
TOTAL_KEY = "*"

GROUPINGS = ("channel", "product", "agent", "month", "policy_year", "apply_channel")
POLICY_ATTRIBUTES = {"channel": "channel", "product": "product_code", "agent": "agent_code"}


@dataclass(frozen=True)
class Context:
    period: Period
    today: dt.date
    org_codes: tuple[str, ...] | None = None  # None: the whole company
    by: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def frames(self) -> list[Period]:
        return self.period.months() if self.by == "month" else [self.period]

    @property
    def claims_target_days(self) -> int:
        return int(self.params.get("claims_target_days", 30))


@dataclass
class Tables:
    """The Ibis tables of one run, all on one connection."""

    policies: ibis.Table
    premiums: ibis.Table
    surrenders: ibis.Table
    claims: ibis.Table
    cases: ibis.Table
    frames: ibis.Table


# ---------------------------------------------------------------------------------------------
# Small expression helpers
# ---------------------------------------------------------------------------------------------


def lit(day: dt.date):
    return ibis.literal(day, type="date")


def in_force_on(t, day):
    """In force on day d: effective on or before d and not ended on or before d."""
    return ((t.effective_date <= day) & (t.status.isin(IN_FORCE) | (t.status_date > day))).fill_null(False)


def policy_year_on(effective, day):
    """保单年度 on a day: 1 in the first twelve months from the effective date, then 2, 3 …"""
    before_anniversary = (day.month() < effective.month()) | (
        (day.month() == effective.month()) & (day.day() < effective.day())
    )
    return day.year() - effective.year() - before_anniversary.ifelse(1, 0) + 1


def month_key(day):
    return day.strftime("%Y-%m")


def scoped_policies(t: Tables, ctx: Context):
    p = t.policies
    if ctx.org_codes is not None:
        p = p.filter(p.org_code.isin(list(ctx.org_codes)))
    return p


def with_policy(rel, t: Tables, ctx: Context, *, needs_effective: bool = False):
    """Records of a flow table with their policy's unit and attributes. The join is what scopes them
    to a unit; for the whole company without a policy breakdown it is left out: every premium,
    surrender and claim names a policy of the book (the importers refuse one that does not)."""
    if ctx.org_codes is None and ctx.by not in POLICY_ATTRIBUTES and not needs_effective:
        return rel
    dims = policy_dims(scoped_policies(t, ctx))
    return rel.join(dims, rel.policy_no == dims.d_policy_no)


def with_policy_attributes(rel, t: Tables, ctx: Context):
    """Cases with the attributes of the policy they name (left join: a case may name none)."""
    if ctx.by not in POLICY_ATTRIBUTES:
        return rel
    dims = policy_dims(t.policies)
    return rel.left_join(dims, rel.policy_no == dims.d_policy_no)


def policy_dims(policies):
    """The attributes other tables borrow from their policy, renamed so joins never collide."""
    return policies.select(
        d_policy_no=policies.policy_no,
        d_org_code=policies.org_code,
        d_channel=policies.channel,
        d_product=policies.product_code,
        d_agent=policies.agent_code,
        d_effective=policies.effective_date,
    )


def attribute_key(rel, by: str | None, *, month_of=None, frame_key=None, extra: dict | None = None):
    """The `_key` of a record for a grouping: the month of its own date (flows) or the frame (stocks),
    a policy attribute, or one of the base's own columns (`extra`). "" stands for unknown."""
    if by is None:
        return ibis.literal(TOTAL_KEY)
    if by == "month":
        return frame_key if frame_key is not None else month_key(month_of)
    if by in POLICY_ATTRIBUTES:
        return (
            rel[{"channel": "d_channel", "product": "d_product", "agent": "d_agent"}[by]]
            .cast("string")
            .fill_null("")
        )
    return extra[by].cast("string").fill_null("")


# ---------------------------------------------------------------------------------------------
# Bases
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    build: Callable[[Tables, Context], ibis.Table]
    groupings: frozenset
    record_table: str  # the store table (or "cases") whose rows the base lists in a drill-down


def with_frames(rel, t: Tables, ctx: Context):
    """Every record once per frame, with the frame's dates as columns. A single frame (the whole
    period) becomes constants, which the engine folds into its filters; months cross-join."""
    if len(ctx.frames) > 1:
        return rel.cross_join(t.frames)
    f = ctx.frames[0]
    c13, c25 = f.cohort(13), f.cohort(25)
    return rel.mutate(
        _fkey=ibis.literal(TOTAL_KEY),
        f_start=lit(f.start),
        f_end=lit(f.end),
        f_prev=lit(f.day_before),
        f_asof=lit(min(f.end, ctx.today)),
        c13_start=lit(c13[0]),
        c13_end=lit(c13[1]),
        c25_start=lit(c25[0]),
        c25_end=lit(c25[1]),
    )


def _stock(t: Tables, ctx: Context):
    """Policies × frames with the flags every policy-count, surrender and persistency figure uses."""
    frames = t.frames
    p = scoped_policies(t, ctx)
    first, last = ctx.frames[0], ctx.frames[-1]
    cohort_from, cohort_to = first.cohort(25)[0], last.cohort(13)[1]

    eligible = (
        (p.channel != GROUP_CHANNEL)
        & (p.payment_mode != SINGLE_PREMIUM)
        & (p.payment_years.isnull() | (p.payment_years > 1))
    ).fill_null(False)
    cohort_candidate = eligible & p.effective_date.between(lit(cohort_from), lit(cohort_to))
    # Policies that ended before the period (and are in no cohort) cannot count anywhere.
    alive = (p.effective_date <= lit(ctx.period.end)) & (
        p.status.isin(IN_FORCE) | (p.status_date >= lit(ctx.period.day_before)) | p.status_date.isnull()
    )
    p = p.mutate(eligible=eligible).filter(alive.fill_null(False) | cohort_candidate)

    # 13/25-month numerators: year-2 (year-3) premiums received by effective_date + 13 (25) months.
    cohort = p.filter(cohort_candidate).select(c_policy_no="policy_no", c_effective="effective_date")
    pr = t.premiums.filter(t.premiums.policy_year.isin([2, 3]))
    pr = pr.join(cohort, pr.policy_no == cohort.c_policy_no)
    on_time_2 = (pr.policy_year == 2) & (pr.received_date <= pr.c_effective + ibis.interval(months=13))
    on_time_3 = (pr.policy_year == 3) & (pr.received_date <= pr.c_effective + ibis.interval(months=25))
    received = pr.group_by(r_policy_no=pr.policy_no).aggregate(
        y2_received=pr.amount.sum(where=on_time_2), y3_received=pr.amount.sum(where=on_time_3)
    )
    p = p.left_join(received, p.policy_no == received.r_policy_no).drop("r_policy_no")

    # Surrendered during each frame (any surrender record dated inside it).
    s = t.surrenders.filter(t.surrenders.surrender_date.between(lit(ctx.period.start), lit(ctx.period.end)))
    if len(ctx.frames) == 1:
        marks = s.select(m_policy_no=s.policy_no, m_frame=ibis.literal(TOTAL_KEY)).distinct()
    else:
        marks = (
            s.join(frames, s.surrender_date.between(frames.f_start, frames.f_end))
            .select(m_policy_no=s.policy_no, m_frame=frames._fkey)
            .distinct()
        )

    pf = with_frames(p, t, ctx)
    pf = pf.left_join(marks, (pf.policy_no == marks.m_policy_no) & (pf._fkey == marks.m_frame))
    pf = pf.mutate(d_channel=pf.channel, d_product=pf.product_code, d_agent=pf.agent_code)
    not_excluded = ~(
        pf.status.isin(PERSISTENCY_EXCLUDED) & (pf.status_date.isnull() | (pf.status_date <= pf.f_end))
    )
    inf_start = in_force_on(pf, pf.f_prev)
    pf = pf.mutate(
        _key=attribute_key(
            pf,
            ctx.by,
            frame_key=pf._fkey,
            extra={"policy_year": policy_year_on(pf.effective_date, pf.f_prev)},
        ),
        inf_start=inf_start,
        inf_end=in_force_on(pf, pf.f_end),
        new_bus=(pf.effective_date.between(pf.f_start, pf.f_end) & (pf.status != "犹豫期撤单")).fill_null(
            False
        ),
        surr_start=(inf_start & pf.m_policy_no.notnull()).fill_null(False),
        in13=(pf.eligible & pf.effective_date.between(pf.c13_start, pf.c13_end) & not_excluded).fill_null(
            False
        ),
        in25=(pf.eligible & pf.effective_date.between(pf.c25_start, pf.c25_end) & not_excluded).fill_null(
            False
        ),
        y2_received=pf.y2_received.fill_null(0),
        y3_received=pf.y3_received.fill_null(0),
        sum_assured=pf.sum_assured.fill_null(0),
    )
    return pf


def _premiums(t: Tables, ctx: Context):
    pr = t.premiums.filter(t.premiums.received_date.between(lit(ctx.period.start), lit(ctx.period.end)))
    pr = with_policy(pr, t, ctx)
    return pr.mutate(
        _key=attribute_key(pr, ctx.by, month_of=pr.received_date),
        first_year=(pr.policy_year == 1).fill_null(False),
    )


def _surrenders(t: Tables, ctx: Context):
    s = t.surrenders.filter(t.surrenders.surrender_date.between(lit(ctx.period.start), lit(ctx.period.end)))
    s = with_policy(s, t, ctx, needs_effective=ctx.by == "policy_year")
    extra = {"apply_channel": s.apply_channel}
    if ctx.by == "policy_year":
        extra["policy_year"] = policy_year_on(s.d_effective, s.surrender_date)
    return s.mutate(
        _key=attribute_key(s, ctx.by, month_of=s.surrender_date, extra=extra),
        full=(s.full_refund == True).fill_null(False),  # noqa: E712 (an Ibis expression, not a Python test)
    )


def _claims_paid(t: Tables, ctx: Context):
    c = t.claims.filter(t.claims.payment_date.between(lit(ctx.period.start), lit(ctx.period.end)))
    c = with_policy(c, t, ctx)
    days = c.payment_date.delta(c.docs_complete_date, unit="day")
    after_decision = c.payment_date.delta(c.decision_date, unit="day")
    return c.mutate(
        _key=attribute_key(c, ctx.by, month_of=c.payment_date),
        days_to_pay=days,
        within_10=(c.decision_date.notnull() & (after_decision <= 10)).fill_null(False),
        within_target=(days <= ctx.claims_target_days).fill_null(False),
    )


def _claims_decided(t: Tables, ctx: Context):
    c = t.claims
    c = c.filter(
        c.decision_date.between(lit(ctx.period.start), lit(ctx.period.end))
        & c.decision.notnull()
        & (c.decision != CLAIM_WITHDRAWN)
    )
    c = with_policy(c, t, ctx)
    return c.mutate(
        _key=attribute_key(c, ctx.by, month_of=c.decision_date),
        paid_out=c.decision.isin(PAID_DECISIONS).fill_null(False),
    )


def _repeat_flag(cases):
    """A complaint is a repeat when the same customer, or the same policy, made an earlier complaint
    (not a merged duplicate) within the 90 days before. "Earlier" orders by receipt time, then case id.
    The previous complaint of each person / policy comes from a window (lag), not a self-join."""
    counted = (cases.kind == COMPLAINT) & (cases.status != CASE_MERGED)
    order = [cases.received_ts, cases.case_id]

    def previous_within(partition):
        w = ibis.window(group_by=[partition, counted], order_by=order)
        prev = cases.received_ts.lag().over(w)
        return partition.notnull() & prev.notnull() & (prev >= cases.received_ts - REPEAT_WINDOW_SECONDS)

    return (counted & (previous_within(cases.customer_id) | previous_within(cases.policy_no))).fill_null(
        False
    )


def _cases(t: Tables, ctx: Context):
    c = t.cases
    c = c.mutate(is_repeat=_repeat_flag(c))  # over the 90 days before the period too
    c = c.filter(c.received_date.between(lit(ctx.period.start), lit(ctx.period.end)))
    c = with_policy_attributes(c, t, ctx)
    asof = lit(min(ctx.period.end, ctx.today))
    complaint = (c.kind == COMPLAINT) & ~c.status.isin(CASE_NOT_COUNTED)
    urgent_due = (
        c.urgent
        & (c.status != CASE_MERGED)
        & c.response_due_date.notnull()
        & ((c.response_due_date <= asof) | c.responded_date.notnull())
    )
    return c.mutate(
        _key=attribute_key(c, ctx.by, month_of=c.received_date),
        complaint=complaint.fill_null(False),
        complaint_reg=(complaint & (c.channel == REGULATOR_CHANNEL)).fill_null(False),
        decided=(complaint & c.on_time.notnull()).fill_null(False),
        on_time_ok=(complaint & (c.on_time == True)).fill_null(False),  # noqa: E712
        extended=(complaint & (c.extension_level > 0)).fill_null(False),
        claims_rel=(complaint & (c.claims_related | (c.category == CLAIMS_CATEGORY))).fill_null(False),
        repeat=(complaint & c.is_repeat).fill_null(False),
        urgent_due=urgent_due.fill_null(False),
        urgent_ok=(urgent_due & (c.responded_date <= c.response_due_date)).fill_null(False),
    )


def _overdue(t: Tables, ctx: Context):
    """Open past the deadline at the frame's end (today for the current frame). A case decided later
    was still open then; a case paused today is not overdue today (the clock is stopped)."""
    c = with_frames(t.cases, t, ctx)
    c = with_policy_attributes(c, t, ctx)
    today = lit(ctx.today)
    overdue = (
        c.due_date.notnull()
        & (c.received_date <= c.f_asof)
        & (c.due_date < c.f_asof)
        & (c.decided_date.isnull() | (c.decided_date > c.f_asof))
        & ~c.status.isin(CASE_NOT_COUNTED)
        & ~((c.status == CASE_PAUSED) & (c.f_asof == today))
    )
    return c.mutate(_key=attribute_key(c, ctx.by, frame_key=c._fkey), overdue=overdue.fill_null(False))


ATTRS = frozenset({None, "month", "channel", "product", "agent"})
BASES = {
    "stock": Base(_stock, ATTRS | {"policy_year"}, "policies"),
    "premiums": Base(_premiums, ATTRS, "premiums"),
    "surrenders": Base(_surrenders, ATTRS | {"policy_year", "apply_channel"}, "surrenders"),
    "claims_paid": Base(_claims_paid, ATTRS, "claims"),
    "claims_decided": Base(_claims_decided, ATTRS, "claims"),
    "cases": Base(_cases, ATTRS, "cases"),
    "overdue": Base(_overdue, ATTRS, "cases"),
}


# ---------------------------------------------------------------------------------------------
# Measures: one reduction over one base, restricted to the rows of one flag
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    base: str
    agg: str  # count | sum | nunique | median
    column: str | None = None
    flag: str | None = None

    def reduce(self, rel):
        where = rel[self.flag] if self.flag else None
        if self.agg == "count":
            return rel.count(where=where)
        column = rel[self.column]
        return getattr(column, self.agg)(where=where)

    def rows(self, rel):
        return rel.filter(rel[self.flag]) if self.flag else rel


MEASURES = {
    # stock
    "policies_in_force_end": Measure("stock", "count", flag="inf_end"),
    "insured_in_force_end": Measure("stock", "nunique", "insured_id_no_token", "inf_end"),
    "policies_new": Measure("stock", "count", flag="new_bus"),
    "insured_new": Measure("stock", "nunique", "insured_id_no_token", "new_bus"),
    "policies_in_force_start": Measure("stock", "count", flag="inf_start"),
    "sum_assured_in_force_start": Measure("stock", "sum", "sum_assured", "inf_start"),
    "policies_surrendered": Measure("stock", "count", flag="surr_start"),
    "sum_assured_surrendered": Measure("stock", "sum", "sum_assured", "surr_start"),
    "cohort13_annual_premium": Measure("stock", "sum", "annual_premium", "in13"),
    "cohort13_received": Measure("stock", "sum", "y2_received", "in13"),
    "cohort25_annual_premium": Measure("stock", "sum", "annual_premium", "in25"),
    "cohort25_received": Measure("stock", "sum", "y3_received", "in25"),
    # flows
    "premium_received": Measure("premiums", "sum", "amount"),
    "premium_first_year": Measure("premiums", "sum", "amount", "first_year"),
    "surrenders": Measure("surrenders", "count"),
    "surrenders_full_refund": Measure("surrenders", "count", flag="full"),
    "claims_paid": Measure("claims_paid", "count"),
    "claims_days_to_pay_sum": Measure("claims_paid", "sum", "days_to_pay"),
    "claims_days_to_pay_median": Measure("claims_paid", "median", "days_to_pay"),
    "claims_paid_within_10": Measure("claims_paid", "count", flag="within_10"),
    "claims_paid_within_target": Measure("claims_paid", "count", flag="within_target"),
    "claims_decided": Measure("claims_decided", "count"),
    "claims_paid_out": Measure("claims_decided", "count", flag="paid_out"),
    "complaints": Measure("cases", "count", flag="complaint"),
    "complaints_regulator": Measure("cases", "count", flag="complaint_reg"),
    "complaints_decided": Measure("cases", "count", flag="decided"),
    "complaints_on_time": Measure("cases", "count", flag="on_time_ok"),
    "complaints_extended": Measure("cases", "count", flag="extended"),
    "complaints_claims_related": Measure("cases", "count", flag="claims_rel"),
    "complaints_repeat": Measure("cases", "count", flag="repeat"),
    "urgent_due": Measure("cases", "count", flag="urgent_due"),
    "urgent_same_day": Measure("cases", "count", flag="urgent_ok"),
    "overdue": Measure("overdue", "count", flag="overdue"),
}


# ---------------------------------------------------------------------------------------------
# KPIs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """value = numerator × scale ÷ denominator ("ratio"); the numerator itself ("count"); or a
    reduction with its population size as denominator ("median")."""

    kind: str
    numerator: str | None
    denominator: str | None
    scale: float = 1.0

    def measures(self) -> list[str]:
        return [m for m in (self.numerator, self.denominator) if m]

    def bases(self) -> set[str]:
        return {MEASURES[m].base for m in self.measures()}


def premium_measure(params) -> str:
    return "premium_first_year" if params.get("premium_basis") == "first_year" else "premium_received"


def policy_measure(params) -> str:
    return "policies_new" if params.get("policy_basis") == "new_business" else "policies_in_force_end"


def insured_measure(params) -> str:
    return "insured_new" if params.get("insured_basis") == "new_business" else "insured_in_force_end"


def formulas(params: dict) -> dict[str, Formula]:
    """KPI id → formula, with the administrator's denominator variants applied."""
    premium, policies, insured = premium_measure(params), policy_measure(params), insured_measure(params)
    out = {}
    for suffix, complaints in (("", "complaints"), ("_regulator", "complaints_regulator")):
        out[f"complaints_per_100m_premium{suffix}"] = Formula("ratio", complaints, premium, 1e8)
        out[f"complaints_per_10k_policies{suffix}"] = Formula("ratio", complaints, policies, 1e4)
        out[f"complaints_per_10k_insured{suffix}"] = Formula("ratio", complaints, insured, 1e4)
    out.update(
        persistency_13m=Formula("ratio", "cohort13_received", "cohort13_annual_premium"),
        persistency_25m=Formula("ratio", "cohort25_received", "cohort25_annual_premium"),
        surrender_rate_policies=Formula("ratio", "policies_surrendered", "policies_in_force_start"),
        surrender_rate_amount=Formula("ratio", "sum_assured_surrendered", "sum_assured_in_force_start"),
        full_refund_share=Formula("ratio", "surrenders_full_refund", "surrenders"),
        claims_median_days_to_pay=Formula("median", "claims_days_to_pay_median", "claims_paid"),
        claims_mean_days_to_pay=Formula("ratio", "claims_days_to_pay_sum", "claims_paid"),
        claims_paid_within_10_days_share=Formula("ratio", "claims_paid_within_10", "claims_paid"),
        claims_paid_within_target_share=Formula("ratio", "claims_paid_within_target", "claims_paid"),
        claims_payout_ratio=Formula("ratio", "claims_paid_out", "claims_decided"),
        complaints_count=Formula("count", "complaints", None),
        regulator_forwarded_count=Formula("count", "complaints_regulator", None),
        urgent_same_day_rate=Formula("ratio", "urgent_same_day", "urgent_due"),
        complaint_on_time_rate=Formula("ratio", "complaints_on_time", "complaints_decided"),
        complaint_extension_rate=Formula("ratio", "complaints_extended", "complaints"),
        repeat_complaint_rate=Formula("ratio", "complaints_repeat", "complaints"),
        claims_related_complaint_share=Formula("ratio", "complaints_claims_related", "complaints"),
        overdue_count=Formula("count", "overdue", None),
    )
    return out


def supports(formula: Formula, by: str | None) -> bool:
    return all(by in BASES[b].groupings for b in formula.bases())


def base_relation(name: str, t: Tables, ctx: Context):
    return BASES[name].build(t, ctx)


def measure_table(t: Tables, ctx: Context, measure_names: list[str]):
    """One row per `_key` with a column per measure. Each base is aggregated once (all its measures
    in one pass); the aggregates are stacked (UNION ALL, other bases' columns null) and folded per
    key, which needs one shuffle where joining them would need one per base."""
    by_base: dict[str, list[str]] = {}
    for name in measure_names:
        by_base.setdefault(MEASURES[name].base, []).append(name)
    aggregates = []
    for base, names in sorted(by_base.items()):
        rel = base_relation(base, t, ctx)
        aggregates.append(rel.group_by("_key").aggregate(**{n: MEASURES[n].reduce(rel) for n in names}))
    types = {n: agg.schema()[n].copy(nullable=True) for agg in aggregates for n in agg.columns if n != "_key"}
    if ctx.by == "month":  # every month appears, with or without records
        aggregates.append(t.frames.select(_key=t.frames._fkey))
    stacked = (
        ibis.union(
            *[
                agg.select(
                    _key=agg._key.cast("string"),
                    **{n: agg[n].cast(types[n]) if n in agg.columns else ibis.null(types[n]) for n in types},
                )
                for agg in aggregates
            ],
            distinct=False,
        )
        if len(aggregates) > 1
        else aggregates[0]
    )
    return stacked.group_by("_key").aggregate(**{n: stacked[n].max() for n in types})


def kpi_table(t: Tables, ctx: Context, kpi_ids: list[str]):
    """The KPI set as one expression: `_key`, then for each KPI `<id>__num`, `<id>__den`, `<id>__value`."""
    table = formulas(ctx.params)
    wanted = [k for k in kpi_ids if k in table]
    names = sorted({m for k in wanted for m in table[k].measures()})
    m = measure_table(t, ctx, names)
    columns = {"_key": m._key}
    for kpi in wanted:
        f = table[kpi]
        num = m[f.numerator].fill_null(0) if f.kind != "median" else m[f.numerator]
        den = m[f.denominator].fill_null(0) if f.denominator else None
        if f.kind == "ratio":
            value = ibis.ifelse(
                den == 0, ibis.null("float64"), num.cast("float64") * f.scale / den.cast("float64")
            )
        elif f.kind == "median":
            value = num.cast("float64")
            num = ibis.null("int64")
        else:
            value = num
            den = ibis.null("int64")
        columns[f"{kpi}__num"] = num
        columns[f"{kpi}__den"] = den
        columns[f"{kpi}__value"] = value
    return m.select(**columns).order_by("_key")


def kpi_expr(kpi_id: str, t: Tables, ctx: Context):
    """One KPI on its own (value, numerator, denominator per `_key`)."""
    return kpi_table(t, ctx, [kpi_id]).rename(
        value=f"{kpi_id}__value", numerator=f"{kpi_id}__num", denominator=f"{kpi_id}__den"
    )


def records(kpi_id: str, t: Tables, ctx: Context, key: str | None = None):
    """The records behind a KPI (for a drill-down): the rows of its denominator population (of the
    numerator for counts) with `in_numerator` when both measures share the base."""
    f = formulas(ctx.params)[kpi_id]
    population = MEASURES[f.denominator or f.numerator]
    rel = base_relation(population.base, t, ctx)
    rows = population.rows(rel)
    if key is not None:
        rows = rows.filter(rows._key == key)
    numerator = MEASURES[f.numerator] if f.numerator else None
    if numerator is not None and numerator.base == population.base and numerator.flag:
        rows = rows.mutate(in_numerator=rows[numerator.flag])
    else:
        rows = rows.mutate(in_numerator=ibis.literal(True))
    return population.base, rows
