"""Writes of the KPI app: freezing and recomputing snapshots, the quality index settings and the
hand-entered values. Keyword-only, atomic, audited."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from xiaobao.audit.services import audit_record
from xiaobao.kpi import engine
from xiaobao.kpi.models import KpiSettings, KpiSnapshot, QualityIndicator, QualityValue
from xiaobao.kpi.periods import Period, parse_period


def _snapshot_from_run(run: engine.Run, *, actor, computed_at, recomputed_from=None) -> KpiSnapshot:
    return KpiSnapshot(
        period=run.period.code,
        unit=run.unit,
        by=run.by or "",
        backend=run.backend,
        computed_at=computed_at,
        computed_by=actor if actor is not None and actor.is_authenticated else None,
        results=engine.to_json(run.results),
        store_versions=run.versions,
        batch_ids=run.batch_ids,
        cases_cutoff=run.cases.cutoff,
        cases_max_updated_at=run.cases.max_updated_at,
        cases_count=run.cases.count,
        cases_sha256=run.cases.sha256,
        parameters=run.parameters,
        recomputed_from=recomputed_from,
    )


def snapshot_freeze(
    *, actor, period: Period, unit=None, by: str | None = None, backend: str | None = None, today=None
) -> KpiSnapshot:
    """Freeze a period's figures.

    1. Compute the KPI set now, recording the store versions read, the import batches behind their
       rows and behind the cases, the case cut-off (now) and a hash of the case data.
    2. Save the snapshot with the parameters used (denominators, weights, targets, hand values).
    3. Audit, in the same transaction.
    """
    now = timezone.now()
    run = engine.compute(
        period=period, unit=unit, by=by, backend=backend, today=today, cutoff=now, with_batches=True
    )
    with transaction.atomic():
        snapshot = _snapshot_from_run(run, actor=actor, computed_at=now)
        snapshot.save()
        audit_record(
            actor=actor,
            action="kpi_freeze",
            obj=snapshot,
            unit=unit,
            details={
                "period": period.code,
                "by": by or "",
                "versions": run.versions,
                "batches": run.batch_ids,
            },
        )
    return snapshot


def snapshot_recompute(*, actor, snapshot: KpiSnapshot, backend: str | None = None) -> KpiSnapshot:
    """Compute a snapshot's figures again from what it recorded.

    1. Read the same store versions (kept by the store) and the cases received up to the recorded
       cut-off, with the recorded parameters and evaluation day.
    2. Save the result as a new snapshot pointing at the original, so the two can be compared.
    3. Audit. Limits: a case edited after the freeze (a later decision, a correction) is read as it
       is now; the case hash tells whether the case data changed.
    """
    run = engine.compute(
        period=_period_of(snapshot),
        unit=snapshot.unit,
        by=snapshot.by or None,
        backend=backend,
        versions=snapshot.store_versions,
        cutoff=snapshot.cases_cutoff,
        parameters=snapshot.parameters,
        with_batches=True,
    )
    with transaction.atomic():
        fresh = _snapshot_from_run(run, actor=actor, computed_at=timezone.now(), recomputed_from=snapshot)
        fresh.save()
        audit_record(
            actor=actor,
            action="kpi_recompute",
            obj=fresh,
            unit=snapshot.unit,
            details={"from": snapshot.pk, "cases_changed": fresh.cases_sha256 != snapshot.cases_sha256},
        )
    return fresh


def _period_of(snapshot: KpiSnapshot) -> Period:
    if ".." in snapshot.period:  # a dashboard window "2024-01..2024-12"
        first, last = snapshot.period.split("..")
        start, end = parse_period(first), parse_period(last)
        return Period(snapshot.period, start.start, end.end)
    return parse_period(snapshot.period)


@transaction.atomic
def kpi_settings_save(
    *, actor, premium_basis: str, policy_basis: str, insured_basis: str, claims_target_days: int
) -> KpiSettings:
    settings = KpiSettings.current()
    before = settings.parameters()
    settings.premium_basis = premium_basis
    settings.policy_basis = policy_basis
    settings.insured_basis = insured_basis
    settings.claims_target_days = claims_target_days
    settings.updated_by = actor
    settings.full_clean()
    settings.save()
    audit_record(
        actor=actor,
        action="kpi_settings",
        obj=settings,
        details={"before": before, "after": settings.parameters()},
    )
    return settings


@transaction.atomic
def quality_indicators_save(*, actor, changes: dict[int, dict]) -> list[QualityIndicator]:
    """changes: indicator pk → {"weight", "target", "direction"}. Weights must add up to 100."""
    indicators = {i.pk: i for i in QualityIndicator.objects.select_for_update()}
    log = {}
    for pk, values in changes.items():
        indicator = indicators[pk]
        before = {
            "weight": str(indicator.weight),
            "target": str(indicator.target),
            "direction": indicator.direction,
        }
        indicator.weight = values["weight"]
        indicator.target = values["target"]
        indicator.direction = values["direction"]
        indicator.full_clean()
        indicator.save()
        log[indicator.code] = {"before": before, "after": {k: str(v) for k, v in values.items()}}
    total = sum((i.weight for i in indicators.values()), Decimal(0))
    if total != Decimal(100):
        raise ValidationError(f"权重合计应为 100, 实际为 {total}")
    audit_record(actor=actor, action="kpi_quality_weights", details=log)
    return list(indicators.values())


@transaction.atomic
def quality_value_set(
    *, actor, indicator: QualityIndicator, unit, period: str, value: Decimal | None, note: str = ""
) -> QualityValue | None:
    """Enter (or clear, with value None) a hand-entered indicator value for a unit and a period."""
    if not indicator.manual:
        raise ValidationError(f"{indicator.name} 由系统根据数据计算，不能手工录入")
    period = parse_period(period).code
    if value is None:
        QualityValue.objects.filter(indicator=indicator, unit=unit, period=period).delete()
        audit_record(
            actor=actor,
            action="kpi_quality_value",
            unit=unit,
            details={"indicator": indicator.code, "period": period, "value": None},
        )
        return None
    row, _created = QualityValue.objects.update_or_create(
        indicator=indicator,
        unit=unit,
        period=period,
        defaults={"value": value, "note": note, "entered_by": actor},
    )
    audit_record(
        actor=actor,
        action="kpi_quality_value",
        obj=row,
        unit=unit,
        details={"indicator": indicator.code, "period": period, "value": str(value)},
    )
    return row
