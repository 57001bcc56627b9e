"""Reads of the KPI app: the unit's dashboard, the KPI page, drill-down records, snapshots and their
comparison. Every read is scoped to the units the user may see (xiaobao.accounts.access)."""

import datetime as dt
import hashlib
import json

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.kpi import backends, drill, engine
from xiaobao.kpi.expressions import TOTAL_KEY, Context, formulas
from xiaobao.kpi.expressions import records as records_expr
from xiaobao.kpi.models import KpiSnapshot
from xiaobao.kpi.periods import Period, parse_period
from xiaobao.kpi.registry import REGISTRY, SECTIONS, format_value
from xiaobao.kpi.sources import Sources, export_cases, store_versions

CACHE_SECONDS = 600

# Columns a drill-down shows, per store table: never a personal column, only its masked form.
RECORD_COLUMNS = {
    "policies": [
        "policy_no",
        "org_code",
        "channel",
        "product_code",
        "agent_code",
        "applicant_name_masked",
        "effective_date",
        "payment_mode",
        "payment_years",
        "annual_premium",
        "sum_assured",
        "status",
        "status_date",
    ],
    "premiums": ["policy_no", "d_org_code", "policy_year", "due_date", "received_date", "amount"],
    "surrenders": [
        "policy_no",
        "d_org_code",
        "apply_date",
        "surrender_date",
        "amount",
        "cash_value",
        "full_refund",
        "apply_channel",
        "payee_name_masked",
        "contact_phone_masked",
    ],
    "claims": [
        "claim_no",
        "policy_no",
        "d_org_code",
        "docs_complete_date",
        "decision_date",
        "payment_date",
        "decision",
        "claimed_amount",
        "paid_amount",
    ],
}
COLUMN_LABELS = {
    "policy_no": "保单号",
    "org_code": "机构",
    "d_org_code": "机构",
    "channel": "渠道",
    "product_code": "险种",
    "agent_code": "业务员",
    "applicant_name_masked": "投保人",
    "effective_date": "生效日期",
    "payment_mode": "缴费方式",
    "payment_years": "缴费年期",
    "annual_premium": "期交保费",
    "sum_assured": "保额",
    "status": "状态",
    "status_date": "状态日期",
    "policy_year": "保单年度",
    "due_date": "应缴日期",
    "received_date": "实收日期",
    "amount": "金额",
    "apply_date": "申请日期",
    "surrender_date": "退保日期",
    "cash_value": "现金价值",
    "full_refund": "全额退保",
    "apply_channel": "申请渠道",
    "payee_name_masked": "领款人",
    "contact_phone_masked": "申请人电话",
    "claim_no": "赔案号",
    "docs_complete_date": "资料齐全日期",
    "decision_date": "结案日期",
    "payment_date": "支付日期",
    "decision": "理赔结论",
    "claimed_amount": "申请金额",
    "paid_amount": "赔付金额",
    "in_numerator": "计入分子",
}


def default_unit(user):
    """The unit whose figures a user sees first: their own; the administrator sees the company."""
    if access.is_admin(user):
        return None
    return user.unit


def unit_for(user, code: str | None):
    """`?unit=CODE` among the units the user may see (404 otherwise); none given → default_unit."""
    if not code:
        return default_unit(user)
    return access.get_unit_for_user(user, code)


def _fingerprint(unit, period: Period, by, today: dt.date) -> str:
    """What the figures depend on: store versions, the state of the unit's cases, the parameters.
    A few constant queries; when none of it changed, the cached figures are still right."""
    from xiaobao.cases.models import Case

    cases = Case.objects.all()
    if unit is not None:
        cases = cases.filter(unit__path__startswith=unit.path)
    state = cases.aggregate(n=Count("pk"), last=Max("updated_at"))
    params = engine.current_parameters(unit, period, today)
    raw = json.dumps(
        [
            getattr(unit, "code", None),
            period.code,
            by,
            today,
            store_versions(),
            state,
            params,
            backends.backend_name(),
        ],
        default=str,
        sort_keys=True,
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def kpi_run(*, unit, period: Period, by=None, today: dt.date | None = None) -> engine.Run:
    """engine.compute, cached while the data and the parameters stay the same."""
    today = today or timezone.localdate()
    key = f"kpi:{_fingerprint(unit, period, by, today)}"
    run = cache.get(key)
    if run is None:
        run = engine.compute(period=period, unit=unit, by=by, today=today)
        cache.set(key, run, CACHE_SECONDS)
    return run


# ---------------------------------------------------------------------------------------------
# The unit's dashboard (the home page)
# ---------------------------------------------------------------------------------------------

TILES = [
    # (KPI shown big, secondary KPI, trend KPI)
    ("complaints_count", "complaints_per_10k_policies", "complaints_count"),
    ("complaint_on_time_rate", None, "complaint_on_time_rate"),
    ("overdue_count", None, "overdue_count"),
    ("persistency_13m", None, "persistency_13m"),
    ("persistency_25m", None, "persistency_25m"),
    ("surrender_rate_policies", "full_refund_share", "surrender_rate_policies"),
    ("claims_median_days_to_pay", "claims_paid_within_10_days_share", "claims_median_days_to_pay"),
    ("quality_index", "quality_grade", "quality_index"),
]
STOCK_AT_MONTH_END = {"persistency_13m", "persistency_25m"}


def dashboard(*, user, unit, period: Period | None = None, today: dt.date | None = None) -> dict:
    """Tiles for the unit with monthly trends. The default period is the current year; persistency
    shows the last month that has ended (its monthly series is evaluated at month ends), overdue is
    as of today."""
    today = today or timezone.localdate()
    period = period or parse_period(str(today.year))
    run = kpi_run(unit=unit, period=period, by="month", today=today)
    results = run.results
    unit_code = getattr(unit, "code", None)
    months = [m for m in period.months() if m.start <= today]
    month_codes = {m.code for m in months}
    ended = [m for m in months if m.end < today]
    tiles = []
    for main, second, trend in TILES:
        entry = results[main]
        groups = {g["key"]: g for g in (results[trend].get("groups") or []) if g["key"] in month_codes}
        shown_period = period
        value, numerator, denominator = entry["value"], entry["numerator"], entry["denominator"]
        note = ""
        if main in STOCK_AT_MONTH_END and period.end >= today and ended:
            last = ended[-1]
            g = {x["key"]: x for x in results[main]["groups"] or []}.get(last.code, {})
            value, numerator, denominator = g.get("value"), g.get("numerator"), g.get("denominator")
            shown_period = last
            note = _("截至 %(m)s 月末") % {"m": last.code}
        elif main == "overdue_count" and period.end >= today:
            note = _("截至今天")
        chart = {
            "id": f"trend-{main}",
            "labels": [m.code for m in months],
            "values": [_chart_value(main, groups.get(m.code, {}).get("value")) for m in months],
            "percent": REGISTRY[trend].unit == "fraction",
            "name": REGISTRY[trend].label(),
            "links": [drill.drill_url(main, period=m, unit_code=unit_code) for m in months],
        }
        tiles.append(
            {
                "id": main,
                "label": REGISTRY[main].label(),
                "value": format_value(main, value),
                "numerator": numerator,
                "denominator": denominator,
                "definition": entry["definition"],
                "note": note,
                "second": (
                    {
                        "label": REGISTRY[second].label(),
                        "value": format_value(second, results[second]["value"]),
                    }
                    if second
                    else None
                ),
                "url": drill.drill_url(main, period=shown_period, unit_code=unit_code),
                "records_url": drill.records_url(main, period=shown_period, unit_code=unit_code),
                "chart": chart,
            }
        )
    return {"period": period, "unit": unit, "kpi_tiles": tiles, "run": run}


def _chart_value(kpi: str, value):
    if value is None:
        return None
    if REGISTRY[kpi].unit == "fraction":
        return round(float(value) * 100, 2)
    return round(float(value), 4)


# ---------------------------------------------------------------------------------------------
# The KPI page
# ---------------------------------------------------------------------------------------------


def kpi_sections(run: engine.Run) -> list[dict]:
    """The results laid out by section for the KPI page, each with its drill-down links."""
    unit_code = getattr(run.unit, "code", None)
    sections = {}
    for kpi, entry in run.results.items():
        d = REGISTRY[kpi]
        groups = None
        if entry.get("groups") is not None:
            groups = [
                {
                    **g,
                    "label": g["key"] if g["key"] is not None else _("(未知)"),
                    "display": format_value(kpi, g["value"]),
                    "records_url": (
                        drill.records_url(
                            kpi, period=drill.period_of_key(run.period, run.by, g["key"]), unit_code=unit_code
                        )
                        if run.by == "month"
                        else drill.records_url(
                            kpi, period=run.period, unit_code=unit_code, key=g["key"] or "", by=run.by
                        )
                    ),
                }
                for g in entry["groups"]
            ]
        sections.setdefault(d.section, []).append(
            {
                "id": kpi,
                "label": d.label(),
                "display": format_value(kpi, entry["value"]),
                "entry": entry,
                "groups": groups,
                "url": drill.drill_url(kpi, period=run.period, unit_code=unit_code),
                "records_url": drill.records_url(kpi, period=run.period, unit_code=unit_code),
            }
        )
    english = (translation.get_language() or "").startswith("en")
    return [
        {"id": s, "label": SECTIONS[s][1 if english else 0], "rows": rows} for s, rows in sections.items()
    ]


# ---------------------------------------------------------------------------------------------
# Drill-down records
# ---------------------------------------------------------------------------------------------

PAGE_SIZE = 100


def kpi_records(
    *,
    kpi_id: str,
    unit,
    period: Period,
    key: str | None,
    page: int = 1,
    by: str | None = None,
    today: dt.date | None = None,
) -> dict:
    """The records behind one figure (its denominator population, with a numerator mark), masked,
    one page at a time. Case figures are listed by the cases desk instead (see drill.drill_url)."""
    today = today or timezone.localdate()
    params = engine.current_parameters(unit, period, today)
    ctx = Context(period, today, engine.unit_codes(unit), by, params)
    export = export_cases(unit=unit, period=period, today=today, cutoff=timezone.now())
    con = backends.connect()
    sources = Sources(con, versions=store_versions(), cases=export.table)
    try:
        table, rows = records_expr(kpi_id, sources.tables(ctx), ctx, key if by else TOTAL_KEY)
        if table == "cases":
            return {"table": table, "rows": [], "columns": [], "total": 0}
        columns = [c for c in RECORD_COLUMNS[BASE_TABLES[table]] if c in rows.columns] + ["in_numerator"]
        total = backends.fetch(con, rows.aggregate(n=rows.count())).column("n")[0].as_py()
        pages = max(1, -(-total // PAGE_SIZE))
        # Past the last page (?page=999…, more than any offset holds) means the last page, as the desk's.
        page = min(page, pages)
        listed = rows.select(*columns).order_by(columns[0]).limit(PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        data = backends.fetch(con, listed).to_pylist()
    finally:
        sources.close()
        if not backends.is_spark(con):
            con.disconnect()
    return {
        "table": BASE_TABLES[table],
        "columns": [(c, COLUMN_LABELS.get(c, c)) for c in columns],
        "rows": [[row[c] for c in columns] for row in data],
        "total": total,
        "page": page,
        "pages": pages,
    }


BASE_TABLES = {
    "stock": "policies",
    "premiums": "premiums",
    "surrenders": "surrenders",
    "claims_paid": "claims",
    "claims_decided": "claims",
    "cases": "cases",
    "overdue": "cases",
}


def record_base(kpi_id: str, params: dict) -> str:
    from xiaobao.kpi.expressions import MEASURES

    f = formulas(params)[kpi_id]
    return BASE_TABLES[MEASURES[f.denominator or f.numerator].base]


# ---------------------------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------------------------


def snapshot_store_versions() -> dict[str, set[str]]:
    """The store versions some snapshot was computed from: a clean-up of old versions must keep
    these, or the snapshot can no longer be recomputed."""
    kept: dict[str, set[str]] = {}
    for versions in KpiSnapshot.objects.values_list("store_versions", flat=True).iterator():
        for table, version in (versions or {}).items():
            if version:
                kept.setdefault(table, set()).add(version)
    return kept


def snapshots_for_user(user):
    snapshots = KpiSnapshot.objects.select_related("unit", "computed_by")
    if access.is_admin(user):
        return snapshots
    return access.scope(snapshots, user)


def snapshot_for_user(user, pk: int) -> KpiSnapshot:
    if access.is_admin(user):
        return access.get_for_user(user, KpiSnapshot.objects.select_related("unit"), pk=pk)
    return access.get_for_user(user, KpiSnapshot.objects.select_related("unit").exclude(unit=None), pk=pk)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def snapshot_compare(a: KpiSnapshot, b: KpiSnapshot) -> dict:
    """Every figure of two snapshots side by side, with what changed (values, numerators,
    denominators, groups) and why it may have (data versions, cases, parameters)."""
    rows = []
    for kpi in [k for k in REGISTRY if k in a.results or k in b.results]:
        x, y = a.results.get(kpi, {}), b.results.get(kpi, {})
        changed = [f for f in ("value", "numerator", "denominator") if not _same(x.get(f), y.get(f))]
        group_changes = []
        gx = {g["key"]: g for g in x.get("groups") or []}
        gy = {g["key"]: g for g in y.get("groups") or []}
        for key in sorted(set(gx) | set(gy), key=lambda k: (k is None, str(k))):
            p, q = gx.get(key, {}), gy.get(key, {})
            fields = [f for f in ("value", "numerator", "denominator") if not _same(p.get(f), q.get(f))]
            if fields:
                group_changes.append(
                    {
                        "key": key,
                        "a": format_value(kpi, p.get("value")),
                        "b": format_value(kpi, q.get("value")),
                        "fields": fields,
                    }
                )
        delta = None
        if isinstance(x.get("value"), int | float) and isinstance(y.get("value"), int | float):
            delta = y["value"] - x["value"]
        rows.append(
            {
                "id": kpi,
                "label": REGISTRY[kpi].label(),
                "a": x,
                "b": y,
                "a_display": format_value(kpi, x.get("value")),
                "b_display": format_value(kpi, y.get("value")),
                "delta": delta,
                "changed": changed,
                "groups": group_changes,
            }
        )
    return {
        "rows": rows,
        "changed": [r for r in rows if r["changed"] or r["groups"]],
        "versions": {
            t: (a.store_versions.get(t), b.store_versions.get(t))
            for t in sorted(set(a.store_versions) | set(b.store_versions))
        },
        "cases_changed": a.cases_sha256 != b.cases_sha256,
        "parameters_changed": _without_today(a.parameters) != _without_today(b.parameters),
    }


def _without_today(params: dict) -> dict:
    return {k: v for k, v in params.items() if k != "today"}
