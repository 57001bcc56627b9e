"""消保自评 pages: the list, one self-assessment (scores, pre-filled figures with their sources,
evidence links, total and year-on-year), and the administrator's indicator catalogue per year."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.assessment import services
from xiaobao.assessment.access import can_assess, require_assess
from xiaobao.assessment.forms import (
    AssessmentForm,
    CatalogueForm,
    EvidenceForm,
    IndicatorForm,
    ScoreForm,
    SubmitForm,
    WeightsForm,
)
from xiaobao.assessment.models import MIN_WEIGHTS, Assessment, Catalogue, Element
from xiaobao.assessment.selectors import (
    assessment_comparison,
    assessment_result,
    assessment_scope,
    catalogue_list,
)
from xiaobao.assessment.sources import all_sources


def _posted(request):
    """The POST data of a POST (even an empty one, which must be a bound, invalid form), else None."""
    return request.POST if request.method == "POST" else None


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _get(request, pk: int) -> Assessment:
    return access.get_for_user(
        request.user, Assessment.objects.select_related("catalogue", "unit", "submitted_by"), pk=pk
    )


@login_required
def assessment_index(request):
    units = list(access.visible_units(request.user))
    form = AssessmentForm(
        _posted(request),
        units=units,
        initial={
            "year": timezone.localdate().year,
            "unit": request.user.unit.code if request.user.unit else "",
        },
    )
    if request.method == "POST":
        require_assess(request.user)
        if form.is_valid():
            try:
                assessment = services.assessment_create(
                    actor=request.user,
                    unit=next(u for u in units if u.code == form.cleaned_data["unit"]),
                    year=form.cleaned_data["year"],
                    request=request,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已建立自评并预填系统数据"))
                return redirect("assessment-detail", pk=assessment.pk)
    assessments = list(assessment_scope(request.user).prefetch_related("catalogue__weights"))
    rows = []
    for assessment in assessments:
        rows.append({"assessment": assessment, "result": assessment_result(assessment)})
    return render(
        request,
        "assessment/index.html",
        {
            "rows": rows,
            "form": form,
            "can_assess": can_assess(request.user),
            "catalogue_years": list(Catalogue.objects.values_list("year", flat=True)),
        },
        status=400 if form.errors else 200,
    )


def _detail_context(request, assessment: Assessment, *, forms=None) -> dict:
    forms = forms or {}
    services.scores_ensure(assessment)
    scores = list(assessment.scores.select_related("indicator", "scored_by").prefetch_related("evidence"))
    result = assessment_result(assessment, scores)
    comparison = assessment_comparison(assessment, result)
    editable = assessment.editable and can_assess(request.user)
    groups = []
    for element_row in result["elements"]:
        rows = []
        for score in scores:
            if score.indicator.element != element_row["element"]:
                continue
            pk = score.indicator_id
            score.score_form = forms.get(("score", pk)) or ScoreForm(
                indicator_id=pk, initial={"score": score.score, "comment": score.comment}
            )
            score.evidence_form = forms.get(("evidence", pk)) or EvidenceForm(indicator_id=pk)
            score.previous = comparison["indicators"].get(score.indicator.code) if comparison else None
            rows.append(score)
        change = None
        if comparison:
            change = next(e for e in comparison["elements"] if e["element"] == element_row["element"])
        groups.append({**element_row, "scores": rows, "comparison": change})
    return {
        "assessment": assessment,
        "result": result,
        "groups": groups,
        "comparison": comparison,
        "editable": editable,
        "submit_form": forms.get("submit") or SubmitForm(initial={"summary": assessment.summary}),
    }


@login_required
def assessment_detail(request, pk: int):
    assessment = _get(request, pk)
    return render(request, "assessment/detail.html", _detail_context(request, assessment))


def _back(assessment: Assessment, code: str = "") -> str:
    return reverse("assessment-detail", kwargs={"pk": assessment.pk}) + (f"#ind-{code}" if code else "")


@login_required
@require_POST
def assessment_score(request, pk: int, iid: int):
    assessment = _get(request, pk)
    require_assess(request.user)
    form = ScoreForm(request.POST, indicator_id=iid)
    if form.is_valid() and (form.cleaned_data["score"] is not None or form.cleaned_data["comment"]):
        try:
            row = services.score_set(
                actor=request.user,
                assessment=assessment,
                indicator_id=iid,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(c)s 的得分") % {"c": row.indicator.code})
            return redirect(_back(assessment, row.indicator.code))
    elif form.is_valid():
        form.add_error("score", _("请填写得分或自评说明"))
    context = _detail_context(request, assessment, forms={("score", iid): form})
    return render(request, "assessment/detail.html", context, status=400)


@login_required
@require_POST
def assessment_evidence(request, pk: int, iid: int):
    assessment = _get(request, pk)
    require_assess(request.user)
    form = EvidenceForm(request.POST, indicator_id=iid)
    if form.is_valid():
        try:
            services.evidence_add(
                actor=request.user,
                assessment=assessment,
                indicator_id=iid,
                label=form.cleaned_data["label"],
                url=form.cleaned_data["url"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已添加佐证链接"))
            return redirect(_back(assessment))
    context = _detail_context(request, assessment, forms={("evidence", iid): form})
    return render(request, "assessment/detail.html", context, status=400)


@login_required
@require_POST
def assessment_prefill(request, pk: int):
    assessment = _get(request, pk)
    require_assess(request.user)
    try:
        count = services.assessment_prefill(actor=request.user, assessment=assessment, request=request)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已按最新记录重新预填, %(n)s 项有系统数据") % {"n": count})
    return redirect(_back(assessment))


@login_required
@require_POST
def assessment_submit(request, pk: int):
    assessment = _get(request, pk)
    require_assess(request.user)
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        services.assessment_submit(
            actor=request.user,
            assessment=assessment,
            summary=form.cleaned_data.get("summary", ""),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("自评已提交"))
    return redirect(_back(assessment))


@login_required
def catalogue_index(request):
    """自评指标体系: one catalogue per year; the administrator adds a year (a copy of the latest)."""
    form = CatalogueForm(_posted(request), initial={"year": timezone.localdate().year})
    if request.method == "POST":
        access.require_admin(request.user)
        if form.is_valid():
            try:
                catalogue = services.catalogue_create(
                    actor=request.user,
                    year=form.cleaned_data["year"],
                    title=form.cleaned_data["title"],
                    request=request,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已建立 %(y)s 年度指标体系") % {"y": catalogue.year})
                return redirect("assessment-catalogue", year=catalogue.year)
    return render(
        request,
        "assessment/catalogues.html",
        {"catalogues": catalogue_list(), "form": form, "can_edit": access.is_admin(request.user)},
        status=400 if form.errors else 200,
    )


@login_required
def catalogue_detail(request, year: int):
    try:
        catalogue = Catalogue.objects.prefetch_related("weights").get(year=year)
    except Catalogue.DoesNotExist:
        raise Http404 from None
    weights = {w.element: w.weight for w in catalogue.weights.all()}
    weights_form = WeightsForm(weights=weights)
    indicator_form = IndicatorForm()
    if request.method == "POST":
        access.require_admin(request.user)
        kind = request.POST.get("form")
        try:
            if kind == "weights":
                weights_form = WeightsForm(request.POST, weights=weights)
                if weights_form.is_valid():
                    services.catalogue_weights_set(
                        actor=request.user,
                        catalogue=catalogue,
                        weights=weights_form.weights(),
                        request=request,
                    )
                    messages.success(request, _("已保存权重"))
                    return redirect("assessment-catalogue", year=year)
            elif kind == "delete":
                value = request.POST.get("indicator", "")
                if value.isascii() and value.isdigit():
                    services.indicator_delete(
                        actor=request.user, catalogue=catalogue, indicator_id=int(value), request=request
                    )
                    messages.success(request, _("已删除指标"))
                return redirect("assessment-catalogue", year=year)
            else:
                indicator_form = IndicatorForm(request.POST)
                if indicator_form.is_valid():
                    services.indicator_save(
                        actor=request.user,
                        catalogue=catalogue,
                        request=request,
                        **indicator_form.cleaned_data,
                    )
                    messages.success(request, _("已保存指标"))
                    return redirect("assessment-catalogue", year=year)
        except ValidationError as exc:
            target = weights_form if kind == "weights" else indicator_form
            if kind == "delete":
                messages.error(request, "; ".join(exc.messages))
                return redirect("assessment-catalogue", year=year)
            _form_errors(target, exc)
    sources = all_sources()
    indicators = list(catalogue.indicators.all())
    for indicator in indicators:
        indicator.source_info = sources.get(indicator.source) if indicator.source else None
    element_rows = [
        {
            "element": value,
            "label": label,
            "weight": weights.get(value),
            "minimum": MIN_WEIGHTS[value],
            "indicators": [i for i in indicators if i.element == value],
        }
        for value, label in Element.choices
    ]
    errors = weights_form.errors or indicator_form.errors
    return render(
        request,
        "assessment/catalogue.html",
        {
            "catalogue": catalogue,
            "elements": element_rows,
            "locked": services.catalogue_locked(catalogue),
            "weights_form": weights_form,
            "indicator_form": indicator_form,
            "sources": sorted(sources.values(), key=lambda s: s.key),
            "can_edit": access.is_admin(request.user),
            "weights_total": sum(weights.values()),
        },
        status=400 if errors else 200,
    )
