"""培训签到 (training attendance) import: `xiaobao import training_attendance FILE`.

One row per person and session, as a sign-in sheet has it:

    培训编号 | 姓名 | 用户名 (optional) | 机构 (optional: code or name) | 考试成绩 (optional)

The session is named by its 培训编号 (TrainingSession.ref). The person is found by 用户名 when the
sheet has one (and the name must then match the account), otherwise by 姓名 among active users,
narrowed by 机构 when given (the unit itself or any unit below it). An unknown session, an unknown or
ambiguous person and a session not yet held are row errors, reported with row number and reason.

The natural key is (培训编号，姓名): a sign-in sheet always carries the name. validate_row replaces the
name by the account it resolved to, so two namesakes in one session are two records, and re-importing
the same sheet leaves everything unchanged. An imported row is never deleted by a later import.
With --user, the importer may only record attendance of sessions and people in that user's scope.
"""

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.imports.engine import Importer, in_batches
from xiaobao.imports.registry import register
from xiaobao.imports.spec import Change, Column, ImportSpec, Key, Record, RowError
from xiaobao.lib.parsing import parse_amount, text_parser
from xiaobao.org.models import Unit
from xiaobao.training.models import Attendance, AttendanceSource, TrainingSession

REF_LENGTH = TrainingSession._meta.get_field("ref").max_length
SCORE_STEP = Decimal(1).scaleb(-Attendance._meta.get_field("score").decimal_places)


def _score(value: Any) -> Decimal:
    score = parse_amount(value)
    if score < 0 or score > 100:
        raise ValueError("考试成绩应在 0 到 100 之间")
    # Attendance.score keeps one decimal: 92.55 would be stored as 92.6 and differ from the file
    # on every later import of it.
    if score != score.quantize(SCORE_STEP):
        raise ValueError(f"考试成绩最多一位小数, 实际为 {score}")
    return score


@register
class AttendanceImporter(Importer):
    spec = ImportSpec(
        kind="training_attendance",
        label=gettext_noop("培训签到"),
        key=("session_ref", "name"),
        columns=[
            Column(
                "session_ref",
                ("培训编号", "课程编号", "场次编号"),
                text_parser(max_length=REF_LENGTH),
                required=True,
            ),
            Column("name", ("姓名", "员工姓名", "参训人员"), text_parser(max_length=150), required=True),
            Column("username", ("用户名", "账号", "工号"), text_parser(max_length=150)),
            Column("unit", ("机构", "所属机构", "机构代码", "部门"), text_parser(max_length=100)),
            Column("score", ("考试成绩", "成绩"), _score),
        ],
    )
    chunk_size = 2000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sessions: dict[str, TrainingSession | None] = {}
        self._people: list[User] | None = None
        self._unit_names: dict[str, set[str]] | None = None
        self._created = 0

    # ------------------------------------------------------------ lookups

    def _actor(self):
        return getattr(self.batch, "actor", None)

    def _session(self, ref: str) -> TrainingSession | None:
        if ref not in self._sessions:
            sessions = TrainingSession.objects.select_related("unit").filter(ref=ref)
            actor = self._actor()
            if actor is not None:
                sessions = access.scope(sessions, actor)
            self._sessions[ref] = sessions.first()
        return self._sessions[ref]

    def _everyone(self) -> list[User]:
        # Staff are few (hundreds per branch): read them once rather than per row.
        if self._people is None:
            people = User.objects.filter(is_active=True, unit__isnull=False).select_related("unit")
            actor = self._actor()
            if actor is not None:
                people = access.scope(people, actor)
            self._people = list(people)
        return self._people

    def _person(self, *, name: str, username: str | None, unit: str | None) -> User:
        people = self._everyone()
        if username:
            match = next((p for p in people if p.username == username), None)
            if match is None:
                raise RowError("username", f"用户名 {username} 不存在或不在导入人的权限范围内")
            if name not in (match.display_name, match.username):
                raise RowError(
                    "name", f"姓名 {name} 与用户名 {username} 的姓名 {match.display_name or '(空)'} 不一致"
                )
            return match
        named = [p for p in people if name in (p.display_name, p.username)]
        if unit:
            named = [p for p in named if self._in_unit(p, unit)]
        if not named:
            where = f"机构 {unit} 中" if unit else ""
            raise RowError("name", f"{where}找不到姓名为 {name} 的在职员工")
        if len(named) > 1:
            units = "、".join(sorted({p.unit.name for p in named}))
            raise RowError("name", f"姓名 {name} 对应多名员工 ({units}), 请填写用户名或机构")
        return named[0]

    def _in_unit(self, person: User, unit: str) -> bool:
        """The person sits in `unit` (a code or a name) or in a unit below it."""
        if self._unit_names is None:
            self._unit_names = {}
            for name, code in Unit.objects.values_list("name", "code"):
                self._unit_names.setdefault(name, set()).add(code)
        codes = {unit} | self._unit_names.get(unit, set())
        return any(f"/{code}/" in person.unit.path for code in codes)

    # ------------------------------------------------------------ hooks

    def validate_row(self, row: dict[str, Any]) -> dict[str, Any]:
        session = self._session(row["session_ref"])
        if session is None:
            raise RowError("session_ref", f"培训编号 {row['session_ref']} 不存在或不在导入人的权限范围内")
        if session.held_on > timezone.localdate():
            raise RowError("session_ref", f"培训 {session.ref} 定于 {session.held_on} 举行，尚不能登记签到")
        person = self._person(name=row["name"], username=row.get("username"), unit=row.get("unit"))
        # The key names the account from here on: namesakes are separate records, and what is
        # compared with the stored attendance is the resolved person, not how the sheet spelled them.
        row["name"] = person.username
        row["username"] = person.username
        row["unit"] = person.unit.code
        return row

    def existing(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        refs = sorted({key[0] for key in keys})
        wanted = set(keys)
        stored = {}
        for part in in_batches(refs):
            rows = Attendance.objects.filter(session__ref__in=part).values(
                "session__ref", "user__username", "user__unit__code", "score"
            )
            for row in rows:
                key = (row["session__ref"], row["user__username"])
                if key in wanted:
                    stored[key] = {
                        "session_ref": key[0],
                        "name": key[1],
                        "username": key[1],
                        "unit": row["user__unit__code"],
                        "score": row["score"],
                    }
        return stored

    def apply(self, *, created: list[Record], updated: list[Change]) -> None:
        people = {p.username: p for p in self._everyone()}
        actor = self._actor()
        rows = [
            Attendance(
                session=self._sessions[r.values["session_ref"]],
                user=people[r.values["username"]],
                source=AttendanceSource.IMPORT,
                score=r.values.get("score"),
                recorded_by=actor,
                batch=self.batch if getattr(self.batch, "pk", None) else None,
            )
            for r in created
        ]
        Attendance.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        self._created += len(rows)
        for change in updated:
            if "score" in change.changes:
                values = change.record.values
                Attendance.objects.filter(
                    session__ref=values["session_ref"], user__username=values["username"]
                ).update(score=values.get("score"))

    def report(self) -> dict[str, Any]:
        return {"attendance_created": self._created}
