"""Writes to 消保审查. Every service is atomic, checks access and the transition table, writes a
ReviewEvent and an audit entry in the same transaction."""

import hashlib
import mimetypes

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.lib.uploads import sniff_upload
from xiaobao.org.models import Unit
from xiaobao.reviews.access import can_review, require_not_submitter, require_review
from xiaobao.reviews.models import (
    TRANSITIONS,
    Adoption,
    ChecklistItem,
    ItemResult,
    Outcome,
    ReviewDocument,
    ReviewEvent,
    ReviewItem,
    ReviewRequest,
    ReviewStatus,
    ReviewType,
)

MAX_DOCUMENT_BYTES = 30 * 1024 * 1024


def _event(request: ReviewRequest, actor, action: str, *, from_status="", to_status="", reason="", **details):
    return ReviewEvent.objects.create(
        request=request,
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details,
    )


def _lock(request: ReviewRequest) -> ReviewRequest:
    return ReviewRequest.objects.select_for_update().select_related("unit").get(pk=request.pk)


def _transition(request: ReviewRequest, action: str) -> str:
    """Check the action is allowed from the current status; return the status it leads to."""
    allowed_from, to_status, label = TRANSITIONS[action]
    if request.status not in allowed_from:
        raise ValidationError(
            _("当前状态「%(s)s」不能执行「%(a)s」") % {"s": request.get_status_display(), "a": label}
        )
    return to_status


def review_next_no(at) -> str:
    prefix = f"XBSC{timezone.localtime(at):%Y}-"
    last = ReviewRequest.objects.filter(review_no__startswith=prefix).aggregate(m=Max("review_no"))["m"]
    tail = last[len(prefix) :] if last else ""
    seq = int(tail) + 1 if tail.isdigit() else 1
    return f"{prefix}{seq:04d}"


def _digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _store_document(request: ReviewRequest, actor, upload, version: int, at) -> ReviewDocument:
    """Sniff the type, limit the size, hash the bytes and store them under their hash."""
    content_type = sniff_upload(upload, max_bytes=MAX_DOCUMENT_BYTES)
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    document = ReviewDocument(
        request=request,
        version=version,
        original_name=(upload.name or digest)[:255],
        sha256=digest,
        content_type=content_type,
        size=len(data),
        uploaded_by=actor,
        uploaded_at=at,
    )
    ext = mimetypes.guess_extension(content_type) or ".bin"
    document.file.save(f"{digest}{ext}", ContentFile(data), save=False)
    document.save()
    return document


def _snapshot_checklist(request: ReviewRequest) -> int:
    """Copy the type's active checklist onto the request, so later edits leave this review as it was."""
    items = [
        ReviewItem(
            request=request,
            checklist_item=item,
            code=item.code,
            title=item.title,
            basis=item.basis,
            order=item.order,
        )
        for item in ChecklistItem.objects.filter(review_type=request.review_type, active=True)
    ]
    ReviewItem.objects.bulk_create(items)
    return len(items)


@transaction.atomic
def review_submit(
    *,
    actor,
    unit: Unit,
    title: str,
    review_type: str,
    upload,
    description: str = "",
    previous: ReviewRequest | None = None,
    request=None,
) -> ReviewRequest:
    """Submit a file for review (提交审查).

    1. Check the actor may write in the unit, the type, and the title.
    2. Number the request (XBSC<year>-NNNN) and save it as 待审查.
    3. Store the file as version 1 (type sniffed, size limited, SHA-256 recorded).
    4. Snapshot the type's active checklist, and write the event and audit rows.
    """
    access.require_write(actor)
    if not access.unit_visible(actor, unit):
        raise PermissionDenied(_("不能为权限范围以外的机构提交审查"))
    errors = {}
    if review_type not in ReviewType.values:
        errors["review_type"] = _("未知的审查类型: %(v)s") % {"v": review_type}
    if not (title or "").strip():
        errors["title"] = _("请填写审查事项")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    review = ReviewRequest(
        review_no=review_next_no(now),
        title=title.strip(),
        review_type=review_type,
        unit=unit,
        description=(description or "").strip(),
        submitter=actor,
        submitted_at=now,
        previous=previous,
    )
    review.full_clean(exclude=["submitter", "reviewer", "previous"])
    review.save()
    document = _store_document(review, actor, upload, 1, now)
    count = _snapshot_checklist(review)
    _event(
        review,
        actor,
        "submit",
        to_status=review.status,
        sha256=document.sha256,
        items=count,
        previous=previous.review_no if previous else None,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=review,
        unit=unit,
        request=request,
        details={
            "type": review_type,
            "sha256": document.sha256,
            "previous": previous.pk if previous else None,
        },
    )
    return review


@transaction.atomic
def review_upload(*, actor, review: ReviewRequest, upload, request=None) -> ReviewDocument:
    """A new version of the file while the review is open (e.g. after adopting opinions).

    After sign-off the reviewed file is fixed: a changed file needs a new review (review_rereview).
    """
    access.require_write(actor)
    review = _lock(review)
    if review.status == ReviewStatus.SIGNED_OFF:
        raise ValidationError(_("该审查已签批，已审文件不能更换；文件有变更时请提交重新审查"))
    if not review.is_open:
        raise ValidationError(_("该审查已撤回，不能上传文件"))
    last = review.documents.order_by("-version").first()
    if last is not None and last.sha256 == _digest(upload):
        raise ValidationError(_("上传的文件与当前版本完全相同"))
    document = _store_document(review, actor, upload, (last.version if last else 0) + 1, timezone.now())
    _event(review, actor, "upload", version=document.version, sha256=document.sha256)
    audit_record(
        actor=actor,
        action="update",
        obj=review,
        unit=review.unit,
        request=request,
        details={"version": document.version, "sha256": document.sha256},
    )
    return document


@transaction.atomic
def review_items_record(
    *, actor, review: ReviewRequest, entries: dict[int, tuple[str, str]], request=None
) -> int:
    """The reviewer records checklist results (符合 / 有意见 / 不适用) and opinions.

    1. Check the actor is a reviewer, not the submitter, and the review is open.
    2. For each entry: an opinion is required for 有意见; an item already answered by the submitter
       keeps its opinion (the answer was to that text).
    3. Move the review to 审查中, take the reviewer's name, and write the event and audit rows.
    Returns the number of items changed.
    """
    require_review(actor)
    require_not_submitter(actor, review)
    review = _lock(review)
    to_status = _transition(review, "review")
    items = {item.pk: item for item in review.items.all()}
    errors = {}
    changed = []
    now = timezone.now()
    for pk, (result, opinion) in entries.items():
        item = items.get(pk)
        if item is None:
            continue
        result = result or ""
        opinion = (opinion or "").strip()
        if result and result not in ItemResult.values:
            errors[f"item-{pk}"] = _("未知的审查结果: %(v)s") % {"v": result}
            continue
        if result == ItemResult.OPINION and not opinion:
            errors[f"item-{pk}"] = _("「%(t)s」：有意见时请填写审查意见") % {"t": item.title}
            continue
        if result != ItemResult.OPINION:
            opinion = ""
        if (item.result, item.opinion) == (result, opinion):
            continue
        if item.adoption:
            errors[f"item-{pk}"] = _("「%(t)s」的意见已回复，不能再修改") % {"t": item.title}
            continue
        item.result, item.opinion = result, opinion
        item.reviewed_by, item.reviewed_at = actor, now
        changed.append(item)
    if errors:
        raise ValidationError(list(errors.values()))
    if changed:
        ReviewItem.objects.bulk_update(changed, ["result", "opinion", "reviewed_by", "reviewed_at"])
    from_status = review.status
    review.status = to_status
    if review.reviewer_id is None:
        review.reviewer = actor
    review.save(update_fields=["status", "reviewer", "updated_at"])
    _event(
        review,
        actor,
        "review",
        from_status=from_status if from_status != to_status else "",
        to_status=to_status if from_status != to_status else "",
        items=[item.code for item in changed],
        opinions=sum(1 for item in changed if item.result == ItemResult.OPINION),
    )
    audit_record(
        actor=actor,
        action="update",
        obj=review,
        unit=review.unit,
        request=request,
        details={"items": {item.code: item.result for item in changed}},
    )
    return len(changed)


@transaction.atomic
def review_respond(
    *, actor, review: ReviewRequest, item_id: int, adoption: str, response: str = "", request=None
) -> ReviewItem:
    """The submitter's side answers one opinion: 采纳，部分采纳 or 不采纳 (with a reason)."""
    access.require_write(actor)
    review = _lock(review)
    if not review.is_open:
        raise ValidationError(_("该审查已结束，不能再回复意见"))
    try:
        item = review.items.select_for_update().get(pk=item_id)
    except ReviewItem.DoesNotExist:
        raise ValidationError(_("该审查要点不存在")) from None
    if item.result != ItemResult.OPINION:
        raise ValidationError(_("该审查要点没有需要回复的意见"))
    if item.reviewed_by_id == actor.pk:
        raise PermissionDenied(_("审查人不能回复自己的意见"))
    response = (response or "").strip()
    if adoption not in Adoption.values:
        raise ValidationError({"adoption": _("请选择采纳情况：采纳、部分采纳或不采纳")})
    if adoption == Adoption.REJECTED and not response:
        raise ValidationError({"response": _("不采纳时必须说明理由")})
    if adoption == Adoption.PARTLY and not response:
        raise ValidationError({"response": _("部分采纳时请说明采纳了哪些、未采纳哪些及理由")})
    item.adoption = adoption
    item.response = response
    item.responded_by = actor
    item.responded_at = timezone.now()
    item.save(update_fields=["adoption", "response", "responded_by", "responded_at"])
    _event(review, actor, "respond", reason=response, item=item.code, adoption=adoption)
    audit_record(
        actor=actor,
        action="update",
        obj=review,
        unit=review.unit,
        request=request,
        details={"item": item.code, "adoption": adoption},
    )
    return item


def review_blockers(review: ReviewRequest) -> list[str]:
    """Why the review cannot be signed off yet (empty: it can)."""
    problems = []
    items = list(review.items.all())
    pending = sum(1 for item in items if not item.result)
    if pending:
        problems.append(_("尚有 %(n)s 个审查要点未审查") % {"n": pending})
    unanswered = [item.title for item in items if item.awaits_response]
    if unanswered:
        problems.append(
            _("尚有 %(n)s 条审查意见未回复，不能签批: %(t)s")
            % {"n": len(unanswered), "t": "、".join(unanswered)}
        )
    if not review.documents.exists():
        problems.append(_("没有可签批的文件"))
    return problems


@transaction.atomic
def review_sign_off(
    *, actor, review: ReviewRequest, outcome: str, note: str = "", request=None
) -> ReviewRequest:
    """Sign off (签批).

    1. Check the actor is a reviewer, not the submitter, and the review is open.
    2. Refuse while any checklist item is unreviewed or any opinion has no response.
    3. Record the outcome and the SHA-256 of the current file: that exact file is what was reviewed.
    """
    require_review(actor)
    require_not_submitter(actor, review)
    review = _lock(review)
    to_status = _transition(review, "sign_off")
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("请选择审查结论")})
    problems = review_blockers(review)
    if problems:
        raise ValidationError(problems)
    document = review.documents.order_by("-version").first()
    from_status = review.status
    review.status = to_status
    review.outcome = outcome
    review.sign_off_note = (note or "").strip()
    review.signed_off_at = timezone.now()
    review.reviewed_sha256 = document.sha256
    if review.reviewer_id is None:
        review.reviewer = actor
    review.save()
    _event(
        review,
        actor,
        "sign_off",
        from_status=from_status,
        to_status=to_status,
        reason=review.sign_off_note,
        outcome=outcome,
        sha256=document.sha256,
        version=document.version,
    )
    audit_record(
        actor=actor,
        action="transition",
        obj=review,
        unit=review.unit,
        request=request,
        details={"outcome": outcome, "sha256": document.sha256, "version": document.version},
    )
    return review


@transaction.atomic
def review_withdraw(*, actor, review: ReviewRequest, reason: str = "", request=None) -> ReviewRequest:
    """The submitter (or a reviewer) withdraws a review before sign-off (撤回)."""
    access.require_write(actor)
    if review.submitter_id != actor.pk and not can_review(actor):
        raise PermissionDenied(_("只有提交人或消保管理岗可以撤回审查"))
    review = _lock(review)
    to_status = _transition(review, "withdraw")
    from_status = review.status
    review.status = to_status
    review.save(update_fields=["status", "updated_at"])
    _event(review, actor, "withdraw", from_status=from_status, to_status=to_status, reason=reason)
    audit_record(actor=actor, action="transition", obj=review, unit=review.unit, request=request)
    return review


@transaction.atomic
def review_rereview(*, actor, review: ReviewRequest, upload, reason: str = "", request=None) -> ReviewRequest:
    """A signed-off file has changed: the changed file goes through a new review of its own.

    The signed-off review keeps its hash and outcome; the new one points back to it. An upload
    identical to the reviewed file needs no new review and is refused.
    """
    access.require_write(actor)
    if review.status != ReviewStatus.SIGNED_OFF:
        raise ValidationError(_("只有已签批的审查才需要因文件变更重新审查；审查中可直接上传新版本"))
    if _digest(upload) == review.reviewed_sha256:
        raise ValidationError(_("该文件与已签批的文件完全相同，无需重新审查"))
    new = review_submit(
        actor=actor,
        unit=review.unit,
        title=review.title,
        review_type=review.review_type,
        upload=upload,
        description=(reason or "").strip()
        or _("文件变更，重新审查 (前一轮: %(no)s)") % {"no": review.review_no},
        previous=review,
        request=request,
    )
    _event(review, actor, "rereview", reason=reason, new=new.review_no)
    return new


def review_find_by_file(reviews, data: bytes) -> tuple[str, list[ReviewRequest]]:
    """(sha256, the signed-off reviews in `reviews` whose reviewed file has exactly these bytes)."""
    digest = hashlib.sha256(data).hexdigest()
    found = list(
        reviews.filter(status=ReviewStatus.SIGNED_OFF, reviewed_sha256=digest)
        .select_related("unit", "reviewer")
        .order_by("-signed_off_at")
    )
    return digest, found


@transaction.atomic
def checklist_item_save(
    *,
    actor,
    review_type: str,
    code: str,
    title: str,
    basis: str = "",
    active: bool = True,
    order: int = 0,
    request=None,
) -> ChecklistItem:
    """The administrator adds or edits a checklist item; reviews already submitted keep their snapshot."""
    access.require_admin(actor)
    if review_type not in ReviewType.values:
        raise ValidationError({"review_type": _("未知的审查类型: %(v)s") % {"v": review_type}})
    item, created = ChecklistItem.objects.update_or_create(
        review_type=review_type,
        code=code.strip(),
        defaults={"title": title.strip(), "basis": (basis or "").strip(), "active": active, "order": order},
    )
    item.full_clean()
    audit_record(
        actor=actor,
        action="create" if created else "update",
        obj=item,
        request=request,
        details={"type": review_type, "code": item.code, "title": item.title, "active": active},
    )
    return item
