"""Reads of governance: scoped lists, the meeting page, the rules library's current versions and the
year's figures (for the overview, the year-end report and the self-assessment)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from xiaobao.accounts import access
from xiaobao.governance import access as gov_access
from xiaobao.governance.models import (
    ActionItem,
    ActionStatus,
    Bulletin,
    BulletinStatus,
    Drill,
    DrillStatus,
    ExecutiveTalk,
    Meeting,
    MeetingStatus,
    Plan,
    PlanStatus,
    QualityIssue,
    QualityStatus,
    Resolution,
    Rule,
    RuleStatus,
    RuleVersion,
)

ACTION_VIEWS = ["open", "mine", "overdue", "due_soon", "done", "all"]
DUE_SOON_DAYS = 7  # the list's "due soon" tab; the worker's reminders use working days


def overdue_q(today: dt.date, prefix: str = "") -> Q:
    """Open past the due date."""
    return Q(**{f"{prefix}status": ActionStatus.OPEN, f"{prefix}due_date__lt": today})


def action_list(*, user, view: str = "open", today: dt.date | None = None) -> QuerySet[ActionItem]:
    today = today or timezone.localdate()
    items = access.scope(ActionItem.objects.all(), user).select_related(
        "owner", "unit", "resolution__meeting", "drill"
    )
    if view == "mine":
        items = items.filter(owner=user, status=ActionStatus.OPEN)
    elif view == "overdue":
        items = items.filter(overdue_q(today))
    elif view == "due_soon":
        items = items.filter(
            status=ActionStatus.OPEN,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS),
        )
    elif view == "done":
        items = items.exclude(status=ActionStatus.OPEN).order_by("-closed_at", "-pk")
    elif view == "open":
        items = items.filter(status=ActionStatus.OPEN)
    return items


def action_counts(*, user, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    items = access.scope(ActionItem.objects.all(), user)
    return items.aggregate(
        open=Count("pk", filter=Q(status=ActionStatus.OPEN)),
        mine=Count("pk", filter=Q(status=ActionStatus.OPEN, owner=user)),
        overdue=Count("pk", filter=overdue_q(today)),
        due_soon=Count(
            "pk",
            filter=Q(
                status=ActionStatus.OPEN,
                due_date__gte=today,
                due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS),
            ),
        ),
    )


def meeting_list(*, user, year: int | None = None) -> QuerySet[Meeting]:
    meetings = access.scope(Meeting.objects.all(), user).select_related("unit", "chair")
    if year:
        meetings = meetings.filter(held_on__year=year)
    return meetings.annotate(
        resolution_count=Count("resolutions", distinct=True),
        action_count=Count("resolutions__actions", distinct=True),
        open_count=Count(
            "resolutions__actions", filter=Q(resolutions__actions__status=ActionStatus.OPEN), distinct=True
        ),
    )


def meeting_resolutions(meeting: Meeting) -> list[Resolution]:
    """The meeting's resolutions with their action items (owners, evidence counts), in two queries."""
    actions = ActionItem.objects.select_related("owner", "unit").annotate(evidence_count=Count("evidence"))
    return list(meeting.resolutions.prefetch_related(Prefetch("actions", queryset=actions)))


def rule_list(*, user, category: str = "", status: str = "", today: dt.date | None = None) -> QuerySet[Rule]:
    """Rules with the number and effective date of the version in force today (the latest version
    whose effective date has come) and the count of versions."""
    today = today or timezone.localdate()
    rules = gov_access.readable(Rule.objects.all(), user).select_related("unit")
    if category:
        rules = rules.filter(category=category)
    if status:
        rules = rules.filter(status=status)
    current = RuleVersion.objects.filter(rule=OuterRef("pk"), effective_on__lte=today).order_by("-number")
    return rules.annotate(
        current_number=Subquery(current.values("number")[:1]),
        current_effective_on=Subquery(current.values("effective_on")[:1]),
        version_count=Count("versions"),
        pending=Exists(RuleVersion.objects.filter(rule=OuterRef("pk"), effective_on__gt=today)),
    )


@dataclass
class VersionRow:
    version: RuleVersion
    state: str  # "current" | "superseded" | "pending"
    superseded_on: dt.date | None


def rule_versions(rule: Rule, today: dt.date | None = None) -> list[VersionRow]:
    """Every version, newest first, with its state today: pending (not yet in force), current, or
    superseded (from the effective date of the version that replaced it)."""
    today = today or timezone.localdate()
    versions = list(rule.versions.select_related("uploaded_by").order_by("-number"))
    rows = []
    current_found = False
    successor_date = None
    for version in versions:
        if version.effective_on > today:
            state = "pending"
        elif not current_found:
            state, current_found = "current", True
        else:
            state = "superseded"
        rows.append(VersionRow(version, state, successor_date if state == "superseded" else None))
        if version.effective_on <= today:
            successor_date = version.effective_on
    return rows


def plan_list(*, user, year: int | None = None, status: str = "") -> QuerySet[Plan]:
    plans = gov_access.readable(Plan.objects.all(), user).select_related("unit", "decided_by")
    if year:
        plans = plans.filter(year=year)
    if status:
        plans = plans.filter(status=status)
    return plans


def issue_list(*, user, status: str = "", year: int | None = None, today=None) -> QuerySet[QualityIssue]:
    issues = access.scope(QualityIssue.objects.all(), user).select_related("unit", "owner", "case")
    if status == "overdue":
        issues = issues.filter(status=QualityStatus.OPEN, due_date__lt=today or timezone.localdate())
    elif status:
        issues = issues.filter(status=status)
    if year:
        issues = issues.filter(found_on__year=year)
    return issues


def bulletin_list(*, user) -> QuerySet[Bulletin]:
    return (
        gov_access.bulletin_scope(user)
        .select_related("unit")
        .annotate(
            recipient_count=Count("receipts", distinct=True),
            acknowledged_count=Count(
                "receipts", filter=Q(receipts__acknowledged_at__isnull=False), distinct=True
            ),
            issue_count=Count("issues", distinct=True),
        )
    )


def year_figures(*, year: int, unit, today: dt.date | None = None) -> dict[str, int]:
    """The year's governance figures for `unit` and every unit below it: what the year-end report
    and the self-assessment quote. One aggregate query per table.

    meetings_held: committee meetings held (minutes recorded) in the year
    meeting_months: distinct months with a held meeting (月度召开)
    resolutions: resolutions of those meetings
    actions / actions_done / actions_done_on_time / actions_overdue: action items due in the year,
        those closed, those closed by their due date, those still open past it today
    talks: 高管讲消保 sessions held
    plans / plans_approved: plans of the year, and those approved by the unit head
    rules_active: rules in force at the end of the year (or today, for the current year)
    rule_versions: versions that took effect in the year (new rules and revisions)
    drills: drills held
    issues / issues_closed: business-quality issues found in the year, and those closed
    bulletins: bulletins issued in the year
    """
    today = today or timezone.localdate()
    under = {"unit__path__startswith": unit.path}
    held = Meeting.objects.filter(status=MeetingStatus.HELD, held_on__year=year, **under)
    meeting_months = held.dates("held_on", "month").count()
    meetings = held.aggregate(n=Count("pk", distinct=True), r=Count("resolutions", distinct=True))
    actions = ActionItem.objects.filter(due_date__year=year, **under).aggregate(
        n=Count("pk", filter=~Q(status=ActionStatus.CANCELLED)),
        done=Count("pk", filter=Q(status=ActionStatus.DONE)),
        on_time=Count("pk", filter=Q(status=ActionStatus.DONE, closed_at__date__lte=F("due_date"))),
        overdue=Count("pk", filter=overdue_q(today)),
    )
    end = min(dt.date(year, 12, 31), today)
    rules = Rule.objects.filter(**under).filter(
        Exists(RuleVersion.objects.filter(rule=OuterRef("pk"), effective_on__lte=end)),
        Q(status=RuleStatus.ACTIVE) | Q(repealed_on__gt=end),
    )
    issues = QualityIssue.objects.filter(found_on__year=year, **under).aggregate(
        n=Count("pk"), closed=Count("pk", filter=Q(status=QualityStatus.CLOSED))
    )
    plans = Plan.objects.filter(year=year, **under).aggregate(
        n=Count("pk"), approved=Count("pk", filter=Q(status=PlanStatus.APPROVED))
    )
    return {
        "meetings_held": meetings["n"],
        "meeting_months": meeting_months,
        "resolutions": meetings["r"],
        "actions": actions["n"],
        "actions_done": actions["done"],
        "actions_done_on_time": actions["on_time"],
        "actions_overdue": actions["overdue"],
        "talks": ExecutiveTalk.objects.filter(held_on__year=year, **under).count(),
        "plans": plans["n"],
        "plans_approved": plans["approved"],
        "rules_active": rules.count(),
        "rule_versions": RuleVersion.objects.filter(
            effective_on__year=year, rule__unit__path__startswith=unit.path
        )
        .values("pk")
        .count(),
        "drills": Drill.objects.filter(status=DrillStatus.HELD, held_on__year=year, **under).count(),
        "issues": issues["n"],
        "issues_closed": issues["closed"],
        "bulletins": Bulletin.objects.filter(
            status=BulletinStatus.ISSUED, issued_on__year=year, **under
        ).count(),
    }
