"""消保治理 pages: the overview, the committee's meetings, resolutions and action items, 高管讲消保.

Views check input and access and own every 400; the services decide and write.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.governance import access as gov_access
from xiaobao.governance import selectors, services
from xiaobao.governance.files import attachment_response
from xiaobao.governance.forms import (
    ActionForm,
    EvidenceForm,
    MeetingForm,
    MinutesForm,
    NoteForm,
    ResolutionForm,
    TalkForm,
)
from xiaobao.governance.models import ACTION_TRANSITIONS, ActionItem, ExecutiveTalk, Meeting
from xiaobao.org.models import Unit

YEAR_MIN, YEAR_MAX = 2000, 2100


def page_year(request) -> int:
    """The ?year= of a list page; anything but a plausible year means this year."""
    value = request.GET.get("year", "")
    if value.isascii() and value.isdigit() and YEAR_MIN <= int(value) <= YEAR_MAX:
        return int(value)
    return timezone.localdate().year


def year_choices(year: int) -> list[int]:
    this = timezone.localdate().year
    return sorted({*range(this - 3, this + 1), year}, reverse=True)


def form_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_page(request, form, *, heading: str, tab: str, back: str, submit: str, multipart: bool = False):
    """The page of a "new …" form: 400 when the form came back with errors."""
    context = {
        "form": form,
        "heading": heading,
        "tab": tab,
        "back": back,
        "submit": submit,
        "multipart": multipart,
    }
    return render(request, "governance/form_page.html", context, status=400 if form.errors else 200)


def home_unit(request) -> Unit | None:
    """The unit whose figures a page shows: ?unit= among the visible units, else the user's own
    (the administrator without a unit: the root)."""
    code = request.GET.get("unit", "")
    if code:
        return access.get_unit_for_user(request.user, code)
    if request.user.unit_id is not None:
        return request.user.unit
    return access.visible_units(request.user).filter(parent=None).first()


# --- overview ---------------------------------------------------------------------------------------


@login_required
def governance_index(request):
    year = page_year(request)
    unit = home_unit(request)
    figures = selectors.year_figures(year=year, unit=unit) if unit is not None else {}
    today = timezone.localdate()
    context = {
        "year": year,
        "years": year_choices(year),
        "unit": unit,
        "units": access.visible_units(request.user),
        "figures": figures,
        "mine": selectors.action_list(user=request.user, view="mine")[:20],
        "overdue": selectors.action_list(user=request.user, view="overdue")[:20],
        "today": today,
    }
    return render(request, "governance/index.html", context)


# --- committee meetings ----------------------------------------------------------------------------


def get_meeting(request, pk: int) -> Meeting:
    return access.get_for_user(request.user, Meeting.objects.select_related("unit", "chair"), pk=pk)


@login_required
def meeting_index(request):
    year = page_year(request)
    meetings = selectors.meeting_list(user=request.user, year=year)
    return render(
        request,
        "governance/meetings.html",
        {
            "meetings": meetings,
            "year": year,
            "years": year_choices(year),
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def meeting_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    people = list(gov_access.people(request.user))
    initial = {"unit": request.user.unit.code if request.user.unit else ""}
    form = MeetingForm(request.POST or None, units=units, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_create(
                actor=request.user,
                unit=form.unit(),
                title=data["title"],
                held_on=data["held_on"],
                place=data["place"],
                chair=form.person("chair"),
                agenda=data["agenda"],
                attendees=form.persons("attendees"),
                other_attendees=data["other_attendees"],
                minutes=data["minutes"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记会议「%(t)s」") % {"t": meeting.title})
            return redirect("governance-meeting-detail", pk=meeting.pk)
    return form_page(
        request,
        form,
        heading=_("登记委员会会议"),
        tab="meetings",
        back="governance-meetings",
        submit=_("保存"),
    )


@login_required
def meeting_detail(request, pk: int, forms=None, status=200):
    meeting = get_meeting(request, pk)
    resolutions = selectors.meeting_resolutions(meeting)
    can_write = access.can_write(request.user) and access.unit_visible(request.user, meeting.unit)
    forms = forms or {}
    people = list(gov_access.people(request.user)) if can_write else []
    context = {
        "meeting": meeting,
        "attendees": meeting.attendees.select_related("unit").order_by("unit__path", "username"),
        "resolutions": resolutions,
        "can_write": can_write,
        "today": timezone.localdate(),
        "minutes_form": forms.get("minutes")
        or MinutesForm(
            people=people,
            initial={
                "minutes": meeting.minutes,
                "attendees": [str(pk) for pk in meeting.attendees.values_list("pk", flat=True)],
                "other_attendees": meeting.other_attendees,
            },
        ),
        "resolution_form": forms.get("resolution") or ResolutionForm(),
        "action_form": forms.get("action") or ActionForm(people=people, resolutions=resolutions),
    }
    return render(request, "governance/meeting_detail.html", context, status=status)


@login_required
@require_POST
def meeting_minutes(request, pk: int):
    meeting = get_meeting(request, pk)
    access.require_write(request.user)
    form = MinutesForm(request.POST, people=list(gov_access.people(request.user)))
    if form.is_valid():
        try:
            services.meeting_record_minutes(
                actor=request.user,
                meeting=meeting,
                minutes=form.cleaned_data["minutes"],
                attendees=form.persons("attendees"),
                other_attendees=form.cleaned_data["other_attendees"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记会议纪要"))
            return redirect("governance-meeting-detail", pk=meeting.pk)
    return meeting_detail(request, pk, forms={"minutes": form}, status=400)


@login_required
@require_POST
def resolution_add(request, pk: int):
    meeting = get_meeting(request, pk)
    access.require_write(request.user)
    form = ResolutionForm(request.POST)
    if form.is_valid():
        try:
            resolution = services.resolution_add(
                actor=request.user, meeting=meeting, text=form.cleaned_data["text"], request=request
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记决议 %(n)s") % {"n": resolution.number})
            return redirect("governance-meeting-detail", pk=meeting.pk)
    return meeting_detail(request, pk, forms={"resolution": form}, status=400)


@login_required
@require_POST
def meeting_action_add(request, pk: int):
    """布置督办事项 for one of the meeting's resolutions."""
    meeting = get_meeting(request, pk)
    access.require_write(request.user)
    resolutions = list(meeting.resolutions.all())
    form = ActionForm(request.POST, people=list(gov_access.people(request.user)), resolutions=resolutions)
    if form.is_valid():
        resolution = next(r for r in resolutions if str(r.pk) == form.cleaned_data["resolution"])
        try:
            item = services.action_create(
                actor=request.user,
                resolution=resolution,
                title=form.cleaned_data["title"],
                owner=form.person("owner"),
                due_date=form.cleaned_data["due_date"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request, _("已布置督办事项 #%(id)s, 责任人 %(o)s") % {"id": item.pk, "o": item.owner}
            )
            return redirect("governance-meeting-detail", pk=meeting.pk)
    return meeting_detail(request, pk, forms={"action": form}, status=400)


# --- action items (督办事项) -----------------------------------------------------------------------


def get_action(request, pk: int) -> ActionItem:
    return access.get_for_user(
        request.user,
        ActionItem.objects.select_related(
            "owner", "unit", "resolution__meeting__unit", "drill__unit", "closed_by"
        ),
        pk=pk,
    )


@login_required
def action_index(request):
    view = request.GET.get("view", "open")
    if view not in selectors.ACTION_VIEWS:
        view = "open"
    items = selectors.action_list(user=request.user, view=view)
    counts = selectors.action_counts(user=request.user)
    tabs = [
        ("open", _("进行中"), counts["open"], ""),
        ("mine", _("我负责的"), counts["mine"], ""),
        ("due_soon", _("7 日内到期"), counts["due_soon"], "warn"),
        ("overdue", _("已超期"), counts["overdue"], "bad"),
        ("done", _("已办结/撤销"), None, ""),
        ("all", _("全部"), None, ""),
    ]
    context = {"items": items[:500], "view": view, "tabs": tabs, "today": timezone.localdate()}
    # An htmx tab click swaps the tabs and the table; a plain request gets the whole page.
    template = "governance/_action_table.html" if request.htmx else "governance/actions.html"
    return render(request, template, context)


@login_required
def action_detail(request, pk: int, evidence_form=None, note_form=None, status=200):
    item = get_action(request, pk)
    can_write = access.can_write(request.user)
    return render(
        request,
        "governance/action_detail.html",
        {
            "item": item,
            "evidence": item.evidence.select_related("uploaded_by"),
            "events": item.events.select_related("actor"),
            "evidence_form": evidence_form or EvidenceForm(),
            "note_form": note_form or NoteForm(),
            "can_write": can_write,
            "today": timezone.localdate(),
            "meeting_visible": item.resolution_id is not None
            and access.unit_visible(request.user, item.resolution.meeting.unit),
            "drill_visible": item.drill_id is not None and access.unit_visible(request.user, item.drill.unit),
        },
        status=status,
    )


@login_required
@require_POST
def action_evidence_upload(request, pk: int):
    item = get_action(request, pk)
    access.require_write(request.user)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.action_evidence_add(
                actor=request.user, item=item, upload=form.cleaned_data["file"], request=request
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("已上传佐证材料"))
            return redirect("governance-action-detail", pk=item.pk)
    return action_detail(request, pk, evidence_form=form, status=400)


@login_required
def action_evidence_download(request, pk: int, eid: int):
    item = get_action(request, pk)
    evidence = item.evidence.filter(pk=eid).first()
    if evidence is None:
        raise Http404
    audit_record(actor=request.user, action="export", obj=evidence, unit=item.unit, request=request)
    return attachment_response(evidence)


@login_required
@require_POST
def action_transition_view(request, pk: int, action: str):
    item = get_action(request, pk)
    access.require_write(request.user)
    if action not in ACTION_TRANSITIONS:
        raise Http404
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.action_transition(
                actor=request.user, item=item, action=action, note=form.cleaned_data["note"], request=request
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            label = ACTION_TRANSITIONS[action][2]
            messages.success(request, _("督办事项已%(a)s") % {"a": label})
            return redirect("governance-action-detail", pk=item.pk)
    return action_detail(request, pk, note_form=form, status=400)


# --- 高管讲消保 ----------------------------------------------------------------------------------------


@login_required
def talk_index(request):
    year = page_year(request)
    talks = access.scope(ExecutiveTalk.objects.select_related("unit", "speaker"), request.user).filter(
        held_on__year=year
    )
    return render(
        request,
        "governance/talks.html",
        {
            "talks": talks,
            "year": year,
            "years": year_choices(year),
            "can_write": access.can_write(request.user),
        },
    )


@login_required
def talk_new(request):
    access.require_write(request.user)
    units = list(access.visible_units(request.user))
    people = list(gov_access.people(request.user))
    initial = {"unit": request.user.unit.code if request.user.unit else "", "held_on": timezone.localdate()}
    form = TalkForm(request.POST or None, units=units, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.talk_create(
                actor=request.user,
                unit=form.unit(),
                held_on=data["held_on"],
                topic=data["topic"],
                speaker=form.person("speaker"),
                speaker_name=data["speaker_name"],
                speaker_title=data["speaker_title"],
                audience=data["audience"],
                participants=data["participants"],
                summary=data["summary"],
                request=request,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记高管讲消保"))
            return redirect("governance-talks")
    return form_page(
        request, form, heading=_("登记高管讲消保"), tab="talks", back="governance-talks", submit=_("保存")
    )
