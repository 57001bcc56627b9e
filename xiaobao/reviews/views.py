"""消保审查 pages: the list, submission, the review page (checklist, opinions, responses, sign-off),
re-review of a changed file, file verification, the checklist and the statistics."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.lib.uploads import sniff_upload
from xiaobao.reviews import services
from xiaobao.reviews.access import can_review, require_not_submitter, require_review
from xiaobao.reviews.forms import (
    ChecklistItemForm,
    RereviewForm,
    RespondForm,
    ReviewForm,
    SignOffForm,
    UploadForm,
    VerifyForm,
)
from xiaobao.reviews.models import (
    ChecklistItem,
    ItemResult,
    ReviewDocument,
    ReviewRequest,
    ReviewStatus,
    ReviewType,
)
from xiaobao.reviews.selectors import (
    ReviewFilter,
    review_counts,
    review_in_unit,
    review_list,
    review_scope,
)
from xiaobao.reviews.stats import review_period, review_stats

PAGE_SIZE = 50
BY_LABELS = {
    "month": gettext_lazy("按月份"),
    "type": gettext_lazy("按审查类型"),
    "unit": gettext_lazy("按机构"),
}


def _posted(request):
    """The POST data of a POST (even an empty one, which must be a bound, invalid form), else None."""
    return request.POST if request.method == "POST" else None


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _get(request, pk: int, *, write: bool = False) -> ReviewRequest:
    return access.get_for_user(
        request.user,
        ReviewRequest.objects.select_related("unit", "submitter", "reviewer", "previous"),
        pk=pk,
        write=write,
    )


@login_required
def review_index(request):
    f = ReviewFilter.from_params(request.GET)
    page = Paginator(review_list(user=request.user, f=f), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/index.html",
        {
            "f": f,
            "page": page,
            "counts": review_counts(request.user),
            "statuses": ReviewStatus.choices,
            "types": ReviewType.choices,
            "can_write": access.can_write(request.user),
            "can_review": can_review(request.user),
        },
    )


@login_required
def review_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    initial = {"unit": request.user.unit.code if request.user.unit else ""}
    form = ReviewForm(
        _posted(request), request.FILES if request.method == "POST" else None, units=units, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = services.review_submit(
                actor=request.user,
                unit=next(u for u in units if u.code == data["unit"]),
                title=data["title"],
                review_type=data["review_type"],
                upload=data["file"],
                description=data["description"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已提交审查 %(no)s") % {"no": review.review_no})
            return redirect("reviews-detail", pk=review.pk)
    return render(request, "reviews/new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_context(request, review: ReviewRequest, **forms) -> dict:
    user = request.user
    items = list(review.items.select_related("reviewed_by", "responded_by"))
    documents = list(review.documents.select_related("uploaded_by"))
    reviewer_may_act = can_review(user) and review.submitter_id != user.pk and review.is_open
    respond_forms = forms.get("respond_forms", {})
    posted = forms.get("posted", {})
    for item in items:
        # What the reviewer's form shows: what they just posted (after an error), else what is stored.
        item.form_result = posted.get(f"result-{item.pk}", item.result)
        item.form_opinion = posted.get(f"opinion-{item.pk}", item.opinion)
        item.respond_form = respond_forms.get(item.pk) or RespondForm(item_id=item.pk)
        item.may_respond = (
            review.is_open
            and access.can_write(user)
            and item.awaits_response
            and item.reviewed_by_id != user.pk
        )
    return {
        "review": review,
        "items": items,
        "documents": documents,
        "current": documents[-1] if documents else None,
        "events": review.events.select_related("actor"),
        "rereviews": review.rereviews.all(),
        "blockers": services.review_blockers(review) if review.is_open else [],
        "results": ItemResult.choices,
        "reviewer_may_act": reviewer_may_act,
        "can_write": access.can_write(user) and access.unit_visible(user, review.unit),
        "upload_form": forms.get("upload_form") or UploadForm(),
        "rereview_form": forms.get("rereview_form") or RereviewForm(),
        "signoff_form": forms.get("signoff_form") or SignOffForm(),
        "opinion_errors": forms.get("opinion_errors", []),
    }


@login_required
def review_detail(request, pk: int):
    review = _get(request, pk)
    return render(request, "reviews/detail.html", _detail_context(request, review))


def _rerender(request, review, status=400, **forms):
    return render(request, "reviews/detail.html", _detail_context(request, review, **forms), status=status)


@login_required
@require_POST
def review_upload(request, pk: int):
    review = _get(request, pk, write=True)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.review_upload(
                actor=request.user, review=review, upload=form.cleaned_data["file"], request=request
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("已上传第 %(v)s 版") % {"v": document.version})
            return redirect("reviews-detail", pk=review.pk)
    return _rerender(request, review, upload_form=form)


@login_required
def document_download(request, pk: int, did: int):
    review = _get(request, pk)
    try:
        document = review.documents.get(pk=did)
    except ReviewDocument.DoesNotExist:
        raise Http404 from None
    audit_record(actor=request.user, action="export", obj=document, unit=review.unit, request=request)
    # Always an attachment with the sniffed type: an upload is never rendered as a page.
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def review_opinions(request, pk: int):
    """The reviewer's checklist form: one result (and opinion) per item, saved together."""
    review = _get(request, pk)
    require_review(request.user)
    require_not_submitter(request.user, review)
    entries = {}
    for item in review.items.all():
        result = request.POST.get(f"result-{item.pk}")
        if result is None:
            continue
        entries[item.pk] = (result, request.POST.get(f"opinion-{item.pk}", ""))
    posted = {key: value for key, value in request.POST.items() if key.startswith(("result-", "opinion-"))}
    if not entries:
        return _rerender(request, review, opinion_errors=[_("没有收到任何审查要点的结果")], posted=posted)
    try:
        changed = services.review_items_record(
            actor=request.user, review=review, entries=entries, request=request
        )
    except ValidationError as exc:
        return _rerender(request, review, opinion_errors=exc.messages, posted=posted)
    messages.success(request, _("已保存 %(n)s 个审查要点") % {"n": changed})
    return redirect("reviews-detail", pk=review.pk)


@login_required
@require_POST
def review_respond(request, pk: int, iid: int):
    review = _get(request, pk, write=True)
    form = RespondForm(request.POST, item_id=iid)
    if form.is_valid():
        try:
            services.review_respond(
                actor=request.user,
                review=review,
                item_id=iid,
                adoption=form.cleaned_data["adoption"],
                response=form.cleaned_data["response"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已回复意见"))
            return redirect("reviews-detail", pk=review.pk)
    return _rerender(request, review, respond_forms={iid: form})


@login_required
@require_POST
def review_sign_off(request, pk: int):
    review = _get(request, pk)
    require_review(request.user)
    form = SignOffForm(request.POST)
    if form.is_valid():
        try:
            services.review_sign_off(
                actor=request.user,
                review=review,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已签批；已审文件的哈希已记录"))
            return redirect("reviews-detail", pk=review.pk)
    return _rerender(request, review, signoff_form=form)


@login_required
@require_POST
def review_withdraw(request, pk: int):
    review = _get(request, pk, write=True)
    try:
        services.review_withdraw(
            actor=request.user, review=review, reason=request.POST.get("reason", "")[:500], request=request
        )
        messages.success(request, _("已撤回"))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("reviews-detail", pk=review.pk)


@login_required
@require_POST
def review_rereview(request, pk: int):
    """A signed-off file changed: submit the changed file as a new review linked to this one."""
    review = _get(request, pk, write=True)
    form = RereviewForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            new = services.review_rereview(
                actor=request.user,
                review=review,
                upload=form.cleaned_data["file"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("文件已变更，已提交重新审查 %(no)s") % {"no": new.review_no})
            return redirect("reviews-detail", pk=new.pk)
    return _rerender(request, review, rereview_form=form)


@login_required
def review_verify(request):
    """核对文件: is this exact file the one a sign-off covered? Compared by SHA-256, nothing stored."""
    form = VerifyForm(_posted(request), request.FILES if request.method == "POST" else None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            sniff_upload(upload, max_bytes=services.MAX_DOCUMENT_BYTES)
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            digest, found = services.review_find_by_file(review_scope(request.user), upload.read())
            result = {"sha256": digest, "reviews": found, "name": upload.name}
    return render(
        request,
        "reviews/verify.html",
        {"form": form, "result": result},
        status=400 if form.errors else 200,
    )


@login_required
def checklist_index(request):
    """审查要点: every reader sees the checklists; the administrator edits them."""
    form = ChecklistItemForm(_posted(request))
    if request.method == "POST":
        access.require_admin(request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.checklist_item_save(actor=request.user, request=request, **data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已保存审查要点「%(t)s」") % {"t": item.title})
                return redirect("reviews-checklist")
    groups = []
    items = list(ChecklistItem.objects.all())
    for value, label in ReviewType.choices:
        groups.append({"value": value, "label": label, "items": [i for i in items if i.review_type == value]})
    return render(
        request,
        "reviews/checklist.html",
        {"groups": groups, "form": form, "can_edit": access.is_admin(request.user)},
        status=400 if form.errors else 200,
    )


def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def review_stats_page(request):
    """The same figures as `xiaobao reviews stats`, for the user's scope."""
    today = timezone.localdate()
    by = request.GET.get("by") if request.GET.get("by") in BY_LABELS else "month"
    start = _date(request.GET.get("from")) or today.replace(month=1, day=1)
    end = _date(request.GET.get("to")) or today
    errors = []
    if start > end:
        errors.append(_("起始日期不能晚于截止日期"))
        start, end = end, start
    unit = (request.GET.get("unit") or "").strip()[:32]
    reviews = review_scope(request.user)
    if unit:
        reviews = review_in_unit(reviews, unit)
    result = review_stats(review_period(reviews, start, end), by=by)
    chart = {
        "labels": [g["key"] for g in result["groups"]],
        "count": [g["submitted"] for g in result["groups"]],
        "closed": [g["signed_off"] for g in result["groups"]],
    }
    return render(
        request,
        "reviews/stats.html",
        {
            "result": result,
            "by": by,
            "by_labels": BY_LABELS,
            "start": start,
            "end": end,
            "unit": unit,
            "units": access.visible_units(request.user),
            "errors": errors,
            "chart": chart,
        },
    )
