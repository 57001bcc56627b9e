"""Run the KPI set: export the cases, register the sources, execute the expressions (one query for
the period, one more for the breakdown), add the quality index, and shape the results.

Results are keyed by KPI id; each is {"value", "numerator", "denominator", "definition"} plus
"groups" when a breakdown was asked for (null when the KPI has no such breakdown). Internally sums
stay Decimal (exact yuan) until to_json().
"""

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from xiaobao.kpi import backends, quality
from xiaobao.kpi.expressions import TOTAL_KEY, Context, formulas, kpi_table, supports
from xiaobao.kpi.periods import Period, containing
from xiaobao.kpi.registry import COMPUTED_IDS, definition
from xiaobao.kpi.sources import CaseExport, Sources, export_cases, store_versions


@dataclass
class Run:
    period: Period
    unit: object
    by: str | None
    backend: str
    today: dt.date
    results: dict
    versions: dict
    cases: CaseExport
    parameters: dict
    batch_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0
    quality: dict = field(default_factory=dict)  # key → evaluate() details, for the pages


def unit_codes(unit) -> tuple[str, ...] | None:
    if unit is None:
        return None
    from xiaobao.org.models import Unit

    return tuple(Unit.objects.filter(path__startswith=unit.path).values_list("code", flat=True))


def current_parameters(unit, period: Period, today: dt.date) -> dict:
    """The settings in force, the quality weights/targets, and the hand-entered values that may apply
    (the unit's own; for the whole company, the head office's)."""
    from xiaobao.kpi.models import KpiSettings, QualityIndicator, QualityValue
    from xiaobao.org.models import Unit

    params = KpiSettings.current().parameters()
    indicators = [
        {
            "code": i.code,
            "name": i.name,
            "weight": str(i.weight),
            "target": str(i.target),
            "direction": i.direction,
            "source": i.source,
        }
        for i in QualityIndicator.objects.all()
    ]
    codes = set(containing(period))
    for month in period.months():
        codes.update(containing(month))
    owner = unit if unit is not None else Unit.objects.filter(parent=None).order_by("pk").first()
    manual: dict[str, dict[str, str]] = {}
    if owner is not None:
        for code, period_code, value in QualityValue.objects.filter(unit=owner, period__in=codes).values_list(
            "indicator__code", "period", "value"
        ):
            manual.setdefault(period_code, {})[code] = str(value)
    params.update(quality={"indicators": indicators, "manual": manual}, today=today.isoformat())
    return params


def _manual_for(params: dict, period_code_chain: list[str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for code in reversed(period_code_chain):  # the most specific period wins
        merged.update(params["quality"]["manual"].get(code, {}))
    return merged


def evaluate(sources: Sources, ctx: Context, ids: list[str] = COMPUTED_IDS) -> dict[str, dict]:
    """Run the KPI expressions for one context: {key: {"<id>__num", "<id>__den", "<id>__value"}}.
    KPIs without the context's breakdown are left out."""
    table = formulas(ctx.params)
    ids = [k for k in ids if supports(table[k], ctx.by)]
    if not ids:
        return {}
    tables = sources.tables(ctx)
    key = _sql_key(sources.con, ctx, ids)
    sql = _compiled.get(key)
    if sql is None:
        sql = sources.con.compile(kpi_table(tables, ctx, ids))
        if len(_compiled) >= 256:
            _compiled.clear()
        _compiled[key] = sql
    rows = backends.run_sql(sources.con, sql).to_pylist()
    return {row["_key"]: row for row in rows}


# Compiled SQL by context: building and compiling the Ibis expression of the whole set takes longer
# than running it on a unit's data, and the SQL depends only on the context (the tables have fixed
# names and the frames are data), so a repeated figure (the dashboard, a recomputation) reuses it.
_compiled: dict[str, str] = {}


def _sql_key(con, ctx: Context, ids: list[str]) -> str:
    formula_params = {
        k: ctx.params.get(k) for k in ("premium_basis", "policy_basis", "insured_basis", "claims_target_days")
    }
    return json.dumps(
        [
            con.name,
            ctx.period.code,
            str(ctx.period.start),
            str(ctx.period.end),
            str(ctx.today),
            ctx.org_codes,
            ctx.by,
            formula_params,
            ids,
        ],
        sort_keys=True,
    )


def _cell(row: dict | None, kpi: str, kind: str) -> dict:
    if row is None:  # no record at all for this key: counts and sums are zero, ratios undefined
        zero = 0 if kind != "median" else None
        return {
            "value": 0 if kind == "count" else None,
            "numerator": zero,
            "denominator": None if kind == "count" else 0,
        }
    return {"value": row[f"{kpi}__value"], "numerator": row[f"{kpi}__num"], "denominator": row[f"{kpi}__den"]}


def compute(
    *,
    period: Period,
    unit=None,
    by: str | None = None,
    backend: str | None = None,
    today: dt.date | None = None,
    versions: dict | None = None,
    cutoff: dt.datetime | None = None,
    parameters: dict | None = None,
    with_batches: bool = False,
    con=None,
) -> Run:
    """1. parameters (settings, weights, hand-entered values) and the unit's codes;
    2. export the cases up to the cut-off; 3. register the store versions and the cases;
    4. run the KPI expressions for the period and, with `by`, for the breakdown;
    5. add the quality index and its grade; 6. shape the results with their definitions."""
    started = time.perf_counter()
    backend = backends.backend_name(backend)
    if parameters is not None:
        today = dt.date.fromisoformat(parameters["today"])
    today = today or timezone.localdate()
    params = parameters or current_parameters(unit, period, today)
    cutoff = cutoff or timezone.now()
    versions = versions if versions is not None else store_versions()
    codes = unit_codes(unit)
    export = export_cases(unit=unit, period=period, today=today, cutoff=cutoff)

    own_con = con is None
    con = con or backends.connect(backend)
    table = formulas(params)
    sources = Sources(con, versions=versions, cases=export.table)
    try:
        totals = evaluate(sources, Context(period, today, codes, None, params), COMPUTED_IDS)
        grouped = None
        if by:
            grouped = evaluate(sources, Context(period, today, codes, by, params))
        batch_ids = sorted(set(sources.batch_ids()) | set(export.batch_ids)) if with_batches else []
    finally:
        sources.close()
        if own_con and not backends.is_spark(con):
            con.disconnect()
    export.table = None  # the figures are what a run keeps (and what the cache holds), not the rows

    results, quality_details = {}, {}
    total_row = totals.get(TOTAL_KEY)
    for kpi in COMPUTED_IDS:
        entry = _cell(total_row, kpi, table[kpi].kind)
        entry["definition"] = definition(kpi, params)
        if by:
            entry["groups"] = (
                [
                    {"key": key or None, **_cell(row, kpi, table[kpi].kind)}
                    for key, row in sorted(grouped.items())
                ]
                if supports(table[kpi], by)
                else None
            )
        results[kpi] = entry

    def quality_for(values: dict, chain: list[str]) -> dict:
        return quality.evaluate(params["quality"]["indicators"], values, _manual_for(params, chain))

    q = quality_for({k: results[k]["value"] for k in COMPUTED_IDS}, containing(period))
    quality_details[TOTAL_KEY] = q
    results["quality_index"] = {
        "value": q["value"],
        "numerator": q["numerator"],
        "denominator": q["denominator"],
        "definition": definition("quality_index", params),
    }
    results["quality_grade"] = {
        "value": q["grade"],
        "numerator": None,
        "denominator": None,
        "definition": definition("quality_grade", params),
    }
    if by:
        # The index of a group needs every indicator for that group: months have their own hand-entered
        # values (or their quarter's or year's); channels, products and agents do not.
        if by == "month":
            month_codes = {m.code: containing(m) for m in period.months()}
            index_groups, grade_groups = [], []
            for key, row in sorted(grouped.items()):
                values = {k: row.get(f"{k}__value") for k in COMPUTED_IDS}
                gq = quality_for(values, month_codes.get(key, [key]))
                quality_details[key] = gq
                index_groups.append(
                    {
                        "key": key,
                        "value": gq["value"],
                        "numerator": gq["numerator"],
                        "denominator": gq["denominator"],
                    }
                )
                grade_groups.append(
                    {"key": key, "value": gq["grade"], "numerator": None, "denominator": None}
                )
            results["quality_index"]["groups"] = index_groups
            results["quality_grade"]["groups"] = grade_groups
        else:
            results["quality_index"]["groups"] = None
            results["quality_grade"]["groups"] = None

    return Run(
        period=period,
        unit=unit,
        by=by,
        backend=backend,
        today=today,
        results=results,
        versions=versions,
        cases=export,
        parameters=params,
        batch_ids=batch_ids,
        seconds=time.perf_counter() - started,
        quality=quality_details,
    )


def _plain(value):
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    if isinstance(value, float) and value != value:  # NaN never leaves the engine
        return None
    return value


def to_json(results: dict) -> dict:
    """JSON-ready results: Decimal yuan become numbers (exact to the fen as printed by repr)."""
    out = {}
    for kpi, entry in results.items():
        shaped = {k: _plain(v) for k, v in entry.items() if k != "groups"}
        if "groups" in entry:
            shaped["groups"] = (
                None
                if entry["groups"] is None
                else [{k: _plain(v) for k, v in g.items()} for g in entry["groups"]]
            )
        out[kpi] = shaped
    return out
