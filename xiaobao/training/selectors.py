"""Reads of training: sessions in scope and the year's coverage of all staff.

Staff (在职员工) are the active users with a unit: the people the system knows, which in a branch are
its employees. An employee counts as trained in a year when they attended at least one session held
that year. Counts are aggregate queries; only the role breakdown is tallied in Python, because roles
are a JSON list that SQLite cannot group by (and a unit has hundreds of staff, not millions).
"""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from xiaobao.accounts.models import Role, User
from xiaobao.governance.access import readable
from xiaobao.org.models import Unit, UnitLevel
from xiaobao.training.models import Attendance, TrainingSession


def session_list(*, user, year: int | None = None, kind: str = "") -> QuerySet[TrainingSession]:
    # Sessions of the user's scope and branch-wide ones of the units above (which they attend too).
    sessions = readable(TrainingSession.objects.select_related("unit"), user)
    if year:
        sessions = sessions.filter(held_on__year=year)
    if kind:
        sessions = sessions.filter(kind=kind)
    return sessions.annotate(attendee_count=Count("attendance"))


def staff(unit: Unit) -> QuerySet[User]:
    """在职员工 of the unit and every unit below it."""
    return User.objects.filter(is_active=True, unit__path__startswith=unit.path)


def trained_in(year: int) -> Exists:
    return Exists(Attendance.objects.filter(user=OuterRef("pk"), session__held_on__year=year))


@dataclass
class Tally:
    label: str
    staff: int = 0
    trained: int = 0
    code: str = ""
    depth: int = 0

    @property
    def untrained(self) -> int:
        return self.staff - self.trained

    @property
    def rate(self) -> float | None:
        return self.trained / self.staff if self.staff else None

    @property
    def percent(self) -> str:
        return f"{self.rate:.1%}" if self.rate is not None else "—"


@dataclass
class Coverage:
    unit: Unit
    year: int
    total: Tally
    units: list[Tally] = field(default_factory=list)  # every unit with staff, in tree order
    groups: list[Tally] = field(
        default_factory=list
    )  # the unit itself and each unit directly below, rolled up
    roles: list[Tally] = field(default_factory=list)

    def chart(self) -> dict:
        """Data for xiaobao/static/xiaobao/charts.js: bars of staff and trained per group."""
        return {
            "labels": [g.label for g in self.groups],
            "count": [g.staff for g in self.groups],
            "closed": [g.trained for g in self.groups],
        }


def coverage(*, unit: Unit, year: int) -> Coverage:
    """The year's training coverage of the staff of `unit` and below: in total, per unit, per
    direct sub-unit (rolled up) and per role."""
    people = staff(unit).annotate(trained=trained_in(year))
    per_unit = list(
        people.order_by()
        .values("unit__code", "unit__name", "unit__path")
        .annotate(n=Count("pk"), t=Count("pk", filter=Q(trained=True)))
        .order_by("unit__path")
    )
    base_depth = unit.path.count("/")
    units = [
        Tally(
            label=r["unit__name"],
            code=r["unit__code"],
            staff=r["n"],
            trained=r["t"],
            depth=r["unit__path"].count("/") - base_depth,
        )
        for r in per_unit
    ]
    total = Tally(
        label=str(unit.name),
        code=unit.code,
        staff=sum(u.staff for u in units),
        trained=sum(u.trained for u in units),
    )
    # Groups: the unit itself with its own departments (本级), then each sub-unit below it, rolled up.
    groups = [Tally(label=_("%(u)s (本级)") % {"u": unit.name}, code=unit.code)]
    children = list(
        unit.children.exclude(level=UnitLevel.DEPARTMENT).order_by("path").values_list("code", "name", "path")
    )
    for code, name, _path in children:
        groups.append(Tally(label=name, code=code))
    by_path = {path: group for (_code, _name, path), group in zip(children, groups[1:], strict=True)}
    for row in per_unit:
        group = next((g for path, g in by_path.items() if row["unit__path"].startswith(path)), groups[0])
        group.staff += row["n"]
        group.trained += row["t"]
    groups = [g for g in groups if g.staff]
    roles = {value: Tally(label=str(label), code=value) for value, label in Role.choices}
    for user_roles, trained in people.values_list("roles", "trained"):
        for role in user_roles or []:
            if role in roles:
                roles[role].staff += 1
                roles[role].trained += int(bool(trained))
    return Coverage(
        unit=unit,
        year=year,
        total=total,
        units=units,
        groups=groups,
        roles=[r for r in roles.values() if r.staff],
    )


def untrained(*, unit: Unit, year: int) -> QuerySet[User]:
    """Who has not attended any session this year, by unit."""
    return (
        staff(unit)
        .annotate(trained=trained_in(year))
        .filter(trained=False)
        .select_related("unit")
        .order_by("unit__path", "username")
    )
