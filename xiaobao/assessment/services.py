"""Writes to 消保自评: catalogues (administrator), self-assessments, pre-fill, scores and evidence links.
Every service is atomic, checks access, and writes an audit entry in the same transaction."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.assessment.access import require_assess
from xiaobao.assessment.defaults import DEFAULT_INDICATORS, DEFAULT_WEIGHTS
from xiaobao.assessment.models import (
    MIN_WEIGHTS,
    Assessment,
    AssessmentStatus,
    Catalogue,
    Direction,
    Element,
    ElementWeight,
    EvidenceLink,
    Indicator,
    Score,
)
from xiaobao.assessment.sources import figure_for
from xiaobao.audit.services import audit_record
from xiaobao.org.models import Unit

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _number(value: Decimal) -> str:
    """10.00 → "10", 12.50 → "12.5" (normalize() alone would print 1E+1)."""
    return format(value.normalize(), "f")


def catalogue_locked(catalogue: Catalogue) -> bool:
    """A catalogue is frozen once a self-assessment of its year has been submitted against it."""
    return catalogue.assessments.filter(status=AssessmentStatus.SUBMITTED).exists()


def _require_editable(catalogue: Catalogue) -> None:
    if catalogue_locked(catalogue):
        raise ValidationError(
            _("%(y)s 年已有提交的自评，指标体系已锁定；请新建下一年度的指标体系") % {"y": catalogue.year}
        )


def weights_problems(weights: dict[str, Decimal]) -> list[str]:
    """Every element present, each at least its minimum weight, and 100 in total."""
    problems = []
    for element in Element.values:
        weight = weights.get(element)
        if weight is None:
            problems.append(_("缺少要素「%(e)s」的权重") % {"e": element})
        elif weight < MIN_WEIGHTS[element]:
            problems.append(
                _("「%(e)s」的权重 %(w)s%% 低于监管评价办法规定的最低 %(m)s%%")
                % {"e": element, "w": _number(weight), "m": _number(MIN_WEIGHTS[element])}
            )
    total = sum((w for w in weights.values() if w is not None), Decimal(0))
    if total != HUNDRED:
        problems.append(_("各要素权重合计应为 100%%, 实际为 %(t)s%%") % {"t": _number(total)})
    return problems


@transaction.atomic
def catalogue_create(*, actor, year: int, title: str = "", request=None) -> Catalogue:
    """A new year's catalogue: a copy of the latest earlier year's, or the defaults for the first year."""
    if actor is not None:
        access.require_admin(actor)
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年度无效")})
    if Catalogue.objects.filter(year=year).exists():
        raise ValidationError({"year": _("%(y)s 年的指标体系已存在") % {"y": year}})
    previous = Catalogue.objects.filter(year__lt=year).order_by("-year").first()
    catalogue = Catalogue.objects.create(
        year=year,
        title=(title or "").strip() or _("%(y)s 年度消保自评指标体系") % {"y": year},
        notes=_("依据《金融机构消费者权益保护监管评价办法》(2025) 七项评价要素"),
        created_by=actor,
    )
    if previous is not None:
        ElementWeight.objects.bulk_create(
            [
                ElementWeight(catalogue=catalogue, element=w.element, weight=w.weight)
                for w in previous.weights.all()
            ]
        )
        Indicator.objects.bulk_create(
            [
                Indicator(
                    catalogue=catalogue,
                    **{
                        f: getattr(i, f)
                        for f in (
                            "element",
                            "code",
                            "name",
                            "criteria",
                            "points",
                            "source",
                            "target",
                            "direction",
                            "order",
                        )
                    },
                )
                for i in previous.indicators.all()
            ]
        )
    else:
        ElementWeight.objects.bulk_create(
            [ElementWeight(catalogue=catalogue, element=e, weight=w) for e, w in DEFAULT_WEIGHTS.items()]
        )
        Indicator.objects.bulk_create(
            [
                Indicator(
                    catalogue=catalogue,
                    element=element,
                    code=code,
                    name=name,
                    criteria=criteria,
                    points=Decimal(points),
                    source=source,
                    target=Decimal(target) if target is not None else None,
                    direction=direction,
                    order=order,
                )
                for order, (element, code, name, criteria, points, source, target, direction) in enumerate(
                    DEFAULT_INDICATORS, start=1
                )
            ]
        )
    audit_details = {"year": year, "copied_from": previous.year if previous else None}
    _audit(actor, "create", catalogue, None, request, audit_details)
    return catalogue


def _audit(actor, action, obj, unit, request, details):
    audit_record(actor=actor, action=action, obj=obj, unit=unit, request=request, details=details)


@transaction.atomic
def catalogue_weights_set(*, actor, catalogue: Catalogue, weights: dict[str, Decimal], request=None) -> None:
    access.require_admin(actor)
    _require_editable(catalogue)
    problems = weights_problems(weights)
    if problems:
        raise ValidationError(problems)
    for element, weight in weights.items():
        ElementWeight.objects.update_or_create(
            catalogue=catalogue, element=element, defaults={"weight": weight}
        )
    _audit(actor, "update", catalogue, None, request, {"weights": {e: str(w) for e, w in weights.items()}})


@transaction.atomic
def indicator_save(
    *,
    actor,
    catalogue: Catalogue,
    element: str,
    code: str,
    name: str,
    criteria: str = "",
    points: Decimal = Decimal(10),
    source: str = "",
    target: Decimal | None = None,
    direction: str = Direction.HIGHER,
    order: int = 0,
    request=None,
) -> Indicator:
    """Add an indicator, or change the one with the same code."""
    access.require_admin(actor)
    _require_editable(catalogue)
    errors = {}
    if element not in Element.values:
        errors["element"] = _("未知的评价要素: %(v)s") % {"v": element}
    if direction not in Direction.values:
        errors["direction"] = _("未知的方向: %(v)s") % {"v": direction}
    if points is None or points <= 0:
        errors["points"] = _("分值应大于 0")
    if errors:
        raise ValidationError(errors)
    indicator, created = Indicator.objects.update_or_create(
        catalogue=catalogue,
        code=code.strip(),
        defaults={
            "element": element,
            "name": name.strip(),
            "criteria": (criteria or "").strip(),
            "points": points,
            "source": (source or "").strip(),
            "target": target,
            "direction": direction,
            "order": order,
        },
    )
    indicator.full_clean()
    _audit(
        actor,
        "create" if created else "update",
        catalogue,
        None,
        request,
        {
            "indicator": indicator.code,
            "name": indicator.name,
            "points": str(points),
            "source": indicator.source,
        },
    )
    return indicator


@transaction.atomic
def indicator_delete(*, actor, catalogue: Catalogue, indicator_id: int, request=None) -> None:
    access.require_admin(actor)
    _require_editable(catalogue)
    indicator = catalogue.indicators.filter(pk=indicator_id).first()
    if indicator is None:
        return
    if indicator.scores.exclude(score=None).exists():
        raise ValidationError(_("该指标已有评分，不能删除"))
    indicator.scores.all().delete()
    _audit(actor, "delete", catalogue, None, request, {"indicator": indicator.code})
    indicator.delete()


def _require_unit(actor, unit: Unit) -> None:
    require_assess(actor)
    if not access.unit_visible(actor, unit):
        raise PermissionDenied(_("不能为权限范围以外的机构自评"))


def _require_draft(assessment: Assessment) -> None:
    if not assessment.editable:
        raise ValidationError(_("自评已提交，不能再修改"))


def scores_ensure(assessment: Assessment) -> None:
    """One score row per indicator: indicators added to the catalogue later get theirs too."""
    have = set(assessment.scores.values_list("indicator_id", flat=True))
    missing = assessment.catalogue.indicators.exclude(pk__in=have)
    Score.objects.bulk_create([Score(assessment=assessment, indicator=i) for i in missing])


def suggested_score(indicator: Indicator, figure: dict) -> Decimal | None:
    """The score a pre-filled figure earns against the indicator's target, or None (scored by hand).

    Higher is better: points × min(1, value ÷ target). Lower is better: full points at or below the
    target, else points × target ÷ value (a target of 0 earns nothing once exceeded).
    """
    value = figure.get("value")
    if value is None or indicator.target is None:
        return None
    value = Decimal(str(value))
    target = indicator.target
    points = indicator.points
    if indicator.direction == Direction.HIGHER:
        if target <= 0:
            return points
        share = min(Decimal(1), max(Decimal(0), value / target))
    else:
        if value <= target:
            share = Decimal(1)
        elif target <= 0:
            share = Decimal(0)
        else:
            share = target / value
    return (points * share).quantize(CENT)


@transaction.atomic
def assessment_prefill(*, actor, assessment: Assessment, request=None) -> int:
    """Pre-fill every sourced indicator from the records (预填).

    1. Compute each figure for the unit's subtree and the year, with its source and definition;
       a source nobody provides is stored as not available, with a note.
    2. Where nobody has scored the indicator by hand, suggest the score the figure earns.
    Returns the number of figures available.
    """
    if actor is not None:
        _require_unit(actor, assessment.unit)
    _require_draft(assessment)
    scores_ensure(assessment)
    now = timezone.now()
    available = 0
    changed = []
    for score in assessment.scores.select_related("indicator").exclude(indicator__source=""):
        figure = figure_for(score.indicator.source, assessment.unit, assessment.year)
        figure["at"] = now.isoformat(timespec="seconds")
        score.figure = figure
        available += bool(figure.get("available"))
        if score.score is None or score.prefilled:
            suggestion = suggested_score(score.indicator, figure)
            score.score = suggestion
            score.prefilled = suggestion is not None
        changed.append(score)
    Score.objects.bulk_update(changed, ["figure", "score", "prefilled"])
    assessment.prefilled_at = now
    assessment.save(update_fields=["prefilled_at"])
    _audit(
        actor,
        "update",
        assessment,
        assessment.unit,
        request,
        {"prefill": available, "indicators": len(changed)},
    )
    return available


@transaction.atomic
def assessment_create(*, actor, unit: Unit, year: int, request=None) -> Assessment:
    """Start a unit's self-assessment for a year: one score row per indicator, then the pre-fill."""
    _require_unit(actor, unit)
    catalogue = Catalogue.objects.filter(year=year).first()
    if catalogue is None:
        raise ValidationError({"year": _("%(y)s 年的指标体系尚未建立，请系统管理员先建立") % {"y": year}})
    if Assessment.objects.filter(catalogue=catalogue, unit=unit).exists():
        raise ValidationError({"year": _("%(u)s %(y)s 年的自评已存在") % {"u": unit.name, "y": year}})
    assessment = Assessment.objects.create(catalogue=catalogue, unit=unit, created_by=actor)
    scores_ensure(assessment)
    _audit(actor, "create", assessment, unit, request, {"year": year})
    assessment_prefill(actor=actor, assessment=assessment, request=request)
    return assessment


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        raise ValidationError({"score": _("得分应为数字")}) from None


@transaction.atomic
def score_set(
    *, actor, assessment: Assessment, indicator_id: int, score, comment: str = "", request=None
) -> Score:
    """A person scores an indicator (0 … its points); a pre-fill never overwrites it afterwards."""
    _require_unit(actor, assessment.unit)
    _require_draft(assessment)
    scores_ensure(assessment)
    row = (
        assessment.scores.select_related("indicator")
        .select_for_update()
        .filter(indicator_id=indicator_id)
        .first()
    )
    if row is None:
        raise ValidationError(_("该指标不属于本年度指标体系"))
    value = _decimal(score)
    if value is not None and not Decimal(0) <= value <= row.indicator.points:
        raise ValidationError({"score": _("得分应在 0 到 %(p)s 之间") % {"p": _number(row.indicator.points)}})
    old = row.score
    row.score = value
    row.comment = (comment or "").strip()
    row.prefilled = False
    row.scored_by = actor
    row.scored_at = timezone.now()
    row.save()
    _audit(
        actor,
        "update",
        assessment,
        assessment.unit,
        request,
        {"indicator": row.indicator.code, "score": [str(old), str(value)]},
    )
    return row


def _valid_link(url: str) -> bool:
    # Browsers read a backslash as "/" and drop tabs and line breaks: "/\evil.example" leaves the site.
    if any(character in url for character in "\\\t\r\n"):
        return False
    if url.startswith("/") and not url.startswith("//"):
        return True
    return url.lower().startswith(("http://", "https://"))


@transaction.atomic
def evidence_add(
    *, actor, assessment: Assessment, indicator_id: int, label: str, url: str, request=None
) -> EvidenceLink:
    """Link an indicator to its evidence: a page of xiaobao (/education/?year=2024) or an http(s) address."""
    _require_unit(actor, assessment.unit)
    _require_draft(assessment)
    scores_ensure(assessment)
    row = assessment.scores.filter(indicator_id=indicator_id).first()
    if row is None:
        raise ValidationError(_("该指标不属于本年度指标体系"))
    url = (url or "").strip()
    if not _valid_link(url):
        raise ValidationError({"url": _("链接应为本系统页面 (以 / 开头) 或 http(s):// 地址")})
    link = EvidenceLink.objects.create(
        score=row, label=(label or "").strip() or url[:200], url=url, added_by=actor
    )
    _audit(
        actor,
        "update",
        assessment,
        assessment.unit,
        request,
        {"indicator": row.indicator.code, "evidence": url},
    )
    return link


@transaction.atomic
def assessment_submit(*, actor, assessment: Assessment, summary: str = "", request=None) -> Assessment:
    """Submit (提交): every indicator must have a score; scores and figures are frozen from then on."""
    _require_unit(actor, assessment.unit)
    _require_draft(assessment)
    scores_ensure(assessment)
    missing = list(
        assessment.scores.filter(score=None)
        .select_related("indicator")
        .values_list("indicator__code", flat=True)
    )
    if missing:
        raise ValidationError(
            _("尚有 %(n)s 项指标未评分: %(c)s") % {"n": len(missing), "c": "、".join(missing)}
        )
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.summary = (summary or "").strip() or assessment.summary
    assessment.submitted_by = actor
    assessment.submitted_at = timezone.now()
    assessment.save()
    _audit(actor, "transition", assessment, assessment.unit, request, {"status": assessment.status})
    return assessment
